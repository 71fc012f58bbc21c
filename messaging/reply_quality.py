"""Precision and recall of the reply classifier on a labelled table (used by the bench and the tests).

Positive = the clinic must stop texting (an opt-out of everything, or of offers when said to an
offer). "Automatic" counts only what the classifier acts on by itself; "caught" also counts a
flag for staff (consent kept, one click to record the opt-out)."""

from __future__ import annotations

from dataclasses import dataclass

from messaging.replies import Action, interpret

OPT_OUTS = frozenset({Action.OPT_OUT, Action.OPT_OUT_MARKETING})


@dataclass(frozen=True)
class Quality:
    rows: int
    correct: int
    true_opt_outs: int
    false_opt_outs: int
    missed_opt_outs: int
    flagged_opt_outs: int
    mistakes: tuple

    @property
    def precision(self) -> float:
        acted = self.true_opt_outs + self.false_opt_outs
        return self.true_opt_outs / acted if acted else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_opt_outs + self.missed_opt_outs
        return self.true_opt_outs / wanted if wanted else 1.0

    @property
    def recall_with_flags(self) -> float:
        wanted = self.true_opt_outs + self.missed_opt_outs
        return (self.true_opt_outs + self.flagged_opt_outs) / wanted if wanted else 1.0


def measure(rows, contexts) -> Quality:
    correct = tp = fp = missed = flagged = 0
    mistakes = []
    for text, context, expected in rows:
        got = interpret(text, contexts[context]).action
        correct += got == expected
        if got != expected:
            mistakes.append((text, context, expected.value, got.value))
        if expected in OPT_OUTS:
            if got in OPT_OUTS:
                tp += 1
            else:
                missed += 1
                flagged += got == Action.FLAG_OPT_OUT
        elif got in OPT_OUTS:
            fp += 1
    return Quality(len(rows), correct, tp, fp, missed, flagged, tuple(mistakes))


def report(name: str, quality: Quality) -> str:
    return (
        f"{name}: {quality.rows} replies, {quality.correct} handled as expected "
        f"({quality.correct / quality.rows:.1%}); opt-out precision {quality.precision:.3f}, "
        f"recall {quality.recall:.3f} (automatic), {quality.recall_with_flags:.3f} counting flags for staff; "
        f"false opt-outs {quality.false_opt_outs}, missed {quality.missed_opt_outs} "
        f"({quality.flagged_opt_outs} of them flagged)"
    )

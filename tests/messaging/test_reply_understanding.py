"""The reply classifier against the clinic's table of real-looking replies (issue 17, points 5–7)."""

import pytest

from messaging.replies import Action, Intent, LastMessage, ReplyContext, interpret, read, words_of
from messaging.reply_quality import measure
from tests.messaging.reply_table import CONTEXTS, HELD_OUT, REPLIES


def test_the_table_has_at_least_150_replies_in_english_and_spanish():
    assert len(REPLIES) >= 150
    assert sum(1 for text, _, _ in REPLIES if any(w in words_of(text) for w in ("mas", "basta", "cancelar"))) >= 5


@pytest.mark.parametrize(("text", "context", "expected"), REPLIES, ids=[f"{c}:{t}" for t, c, _ in REPLIES])
def test_reply_is_handled_as_a_clinic_expects(text, context, expected):
    assert interpret(text, CONTEXTS[context]).action == expected


def test_no_held_out_reply_opts_a_patient_out_wrongly():
    """The rules were never tuned on HELD_OUT: whatever they miss, they must not revoke consent
    that was not revoked (a wrong opt-out silently stops a patient's reminders)."""
    quality = measure(HELD_OUT, CONTEXTS)
    assert quality.false_opt_outs == 0
    assert quality.recall_with_flags >= 0.75


@pytest.mark.parametrize(
    "text", ["STOP please", "Stop it", "stop stop stop", "unsubscribe please", "quit it", "end texts", "No more"]
)
def test_issue_17_clear_opt_outs_are_opt_outs(text):
    assert read(text).intent == Intent.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "Don't call me, text me instead",
        "Take me off the waitlist",
        "Remove me from the 3pm slot",
        "Wrong number for the front desk?",
    ],
)
def test_issue_17_false_opt_outs_keep_consent(text):
    assert interpret(text).action not in {Action.OPT_OUT, Action.OPT_OUT_MARKETING}


def test_yes_to_a_staff_question_is_an_answer_not_an_opt_in():
    staff = ReplyContext(last=LastMessage.STAFF, has_upcoming_appointment=True)
    assert interpret("Yes", staff).action == Action.INBOX


def test_cancel_after_a_reminder_is_about_the_visit_and_after_an_offer_is_an_opt_out():
    reminder = ReplyContext(last=LastMessage.REMINDER, has_upcoming_appointment=True)
    assert interpret("cancel", reminder).action == Action.CANCEL_APPOINTMENT_REQUEST
    assert interpret("cancel", ReplyContext(last=LastMessage.MARKETING)).action == Action.OPT_OUT
    # A reminder for a visit that has since passed or been cancelled: nothing to cancel.
    assert interpret("cancel", ReplyContext(last=LastMessage.REMINDER)).action == Action.OPT_OUT


def test_normalisation_reads_stretched_accented_and_full_width_letters():
    assert words_of("Stooop!!") == ["stop"]
    assert words_of("No MÁS") == ["no", "mas"]
    assert words_of("ＳＴＯＰ") == ["stop"]
    assert words_of("don’t") == ["dont"]

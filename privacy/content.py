"""What a piece of outgoing text says about health (DESIGN.md §9: "outbound content is classified,
not declared"; policy §2B, §3, §4).

`scan(text)` finds the health terms in a text — today the clinic's own service and treatment names
and a list of product names; issue 18 adds conditions and medications as further `TermKind`s and
term sources — and `categories_of(text)` turns the findings into policy categories (a text naming a
treatment carries HEALTH). Rules decide on the findings: messaging refuses treatment names in
marketing sent to an audience that was not selected by that treatment, and in every default
reminder-type template; the privacy gate will decide on `categories_of` (issue 18).

This module is the policy core: it imports no domain app. Domain apps contribute terms through a
registry (`register_term_source` in their AppConfig.ready), e.g. appointments registers the
names of the clinic's services, read from the database at scan time."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from privacy.policy import Category


class TermKind(StrEnum):
    SERVICE = "service"  # a service the clinic offers (database)
    TREATMENT = "treatment"  # a generic treatment name ("dermal filler", "chemical peel")
    PRODUCT = "product"  # a brand ("Botox", "Juvéderm")
    # Issue 18 adds CONDITION and MEDICATION.


@dataclass(frozen=True)
class Term:
    text: str
    kind: TermKind
    # The treatment family a product or treatment belongs to ("neuromodulator"), so an audience
    # chosen by a service of that family may be told about it.
    family: str = ""


@dataclass(frozen=True)
class Finding:
    term: Term
    start: int
    end: int
    matched: str  # the words as written in the text


@dataclass(frozen=True)
class Scan:
    findings: tuple[Finding, ...]

    @property
    def categories(self) -> frozenset[Category]:
        return frozenset({Category.HEALTH}) if self.findings else frozenset()

    def names(self) -> list[str]:
        seen: list[str] = []
        for finding in self.findings:
            if finding.matched not in seen:
                seen.append(finding.matched)
        return seen


NEUROMODULATOR, FILLER, PEEL, LASER, SKIN, BODY = "neuromodulator", "filler", "peel", "laser", "skin", "body"

# Brands a med spa's patients know by name (US market). A text naming one says what was (or may
# be) done to someone's body.
PRODUCTS: tuple[Term, ...] = tuple(
    Term(name, TermKind.PRODUCT, family)
    for family, names in (
        (NEUROMODULATOR, ("Botox", "Dysport", "Xeomin", "Jeuveau", "Daxxify", "Letybo")),
        (
            FILLER,
            ("Juvederm", "Voluma", "Volbella", "Vollure", "Restylane", "Kysse", "RHA", "Radiesse", "Belotero",
             "Sculptra", "Versa", "Skinvive"),
        ),
        (BODY, ("Kybella", "CoolSculpting", "Emsculpt", "Morpheus8")),
        (BODY, ("Ozempic", "Wegovy", "semaglutide", "tirzepatide")),
        (SKIN, ("HydraFacial", "Latisse", "Tretinoin", "Retin-A", "SkinPen")),
        (LASER, ("Fraxel", "Clear + Brilliant", "BBL", "IPL", "PicoSure")),
    )
    for name in names
)  # fmt: skip

TREATMENTS: tuple[Term, ...] = tuple(
    Term(name, TermKind.TREATMENT, family)
    for family, names in (
        (NEUROMODULATOR, ("neuromodulator", "neurotoxin", "botulinum", "wrinkle relaxer", "lip flip")),
        (FILLER, ("dermal filler", "filler", "fillers", "lip filler", "lip injections", "cheek filler")),
        (PEEL, ("chemical peel", "peel", "peels")),
        (LASER, ("laser hair removal", "laser resurfacing", "photofacial", "laser")),
        (SKIN, ("microneedling", "PRP", "vampire facial", "dermaplaning", "microdermabrasion")),
        (BODY, ("fat dissolving", "body contouring", "weight loss injections", "sclerotherapy", "IV therapy")),
    )
    for name in names
)  # fmt: skip

TermSource = Callable[[], Iterable[Term]]
_SOURCES: dict[str, TermSource] = {}


def register_term_source(name: str, source: TermSource) -> None:
    """Domain apps add their terms (e.g. the clinic's service names) from AppConfig.ready.
    `source` is called at every scan, so terms follow the database."""
    _SOURCES[name] = source


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def all_terms() -> list[Term]:
    terms = list(PRODUCTS) + list(TREATMENTS)
    for source in _SOURCES.values():
        terms.extend(source())
    return terms


def _pattern(term: str) -> str:
    words = [re.escape(w) for w in fold(term).split()]
    # Whole words; a plural "s" is the same term ("peels", "fillers").
    return r"(?<![a-z0-9])" + r"[\s\-]+".join(words) + r"s?(?![a-z0-9])"


def scan(text: str, *, terms: Iterable[Term] | None = None) -> Scan:
    """Every health term in `text`, longest first where they overlap ("laser hair removal" over
    "laser")."""
    folded = fold(text)
    candidates = sorted(terms if terms is not None else all_terms(), key=lambda t: -len(t.text))
    taken: list[tuple[int, int]] = []
    findings = []
    for term in candidates:
        if not term.text.strip():
            continue
        for match in re.finditer(_pattern(term.text), folded):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            findings.append(Finding(term=term, start=start, end=end, matched=text[start:end]))
    return Scan(findings=tuple(sorted(findings, key=lambda f: f.start)))


def categories_of(text: str) -> frozenset[Category]:
    """The policy categories a free text carries by what it says (HEALTH when it names a treatment)."""
    return scan(text).categories


def family_of(name: str) -> set[str]:
    """The treatment families a service name belongs to ("Neuromodulator (Botox)" → {"neuromodulator"}),
    from the built-in products and treatments."""
    return {f.term.family for f in scan(name, terms=PRODUCTS + TREATMENTS).findings if f.term.family}


def terms_outside(text: str, *, allowed_service: str = "") -> list[str]:
    """Health terms in `text` that an audience chosen by `allowed_service` (a service name; empty:
    an audience not chosen by any treatment) may not be told about. The service's own name, and
    products and treatments of its family, are allowed; everything else is returned."""
    allowed_folded = fold(allowed_service)
    families = family_of(allowed_service) if allowed_service else set()
    outside = []
    for finding in scan(text).findings:
        term = finding.term
        if allowed_service and (fold(term.text) == allowed_folded or (term.family and term.family in families)):
            continue
        if finding.matched not in outside:
            outside.append(finding.matched)
    return outside

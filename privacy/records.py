"""The registry of a patient's records, by section (§7 access, §10 rights): each app that holds
patient data contributes a section in `<app>/privacy_export.py`, so the records download
(compliance.export) never needs to know another app's models.

    from privacy.records import Section, register_section

    @register_section("intake_history", "Intake and medical history", order=40)
    def intake_history(patient):
        return Section(data=[{"submitted_at": ..., "answers": {...}}])

A section returns only rows of *this* patient; attachments (photos) go in `files`, as
(file name, bytes) pairs."""

from dataclasses import dataclass, field

from cinrella.app_hooks import app_modules


@dataclass
class Section:
    data: object  # JSON-serialisable: a dict (one record) or a list of dicts
    files: list = field(default_factory=list)
    note: str = ""  # shown in the PDF, e.g. "Not available yet"


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    order: int
    build: object


_SECTIONS: dict[str, SectionSpec] = {}
_discovered = False


def register_section(key: str, title: str, *, order: int = 100):
    def decorator(build):
        _SECTIONS[key] = SectionSpec(key=key, title=title, order=order, build=build)
        return build

    return decorator


# Kinds of record the policy promises in a download (§2B, §4). Until the app that holds them
# registers its section, the download says plainly that none are held in this system.
EXPECTED_SECTIONS = {
    "intake_history": ("Intake and medical history", 40),
    "signed_consents": ("Signed consent forms", 45),
    "photos": ("Before-and-after photos", 50),
}


def _not_held(patient):
    return Section(data=[], note="No records of this kind are held in this system.")


def sections() -> list[SectionSpec]:
    global _discovered
    if not _discovered:
        list(app_modules("privacy_export"))  # importing registers the apps' sections
        _discovered = True
    specs = dict(_SECTIONS)
    for key, (title, order) in EXPECTED_SECTIONS.items():
        specs.setdefault(key, SectionSpec(key=key, title=title, order=order, build=_not_held))
    return sorted(specs.values(), key=lambda s: (s.order, s.key))

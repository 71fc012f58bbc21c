"""A patient's records as a download (§7 access, §10 rights): a ZIP with a readable PDF and
machine-readable JSON, one section per kind of record.

Sections are a registry (privacy.records), so each app contributes what it holds without this
module knowing its models. An app adds a section in `<app>/privacy_export.py` (imported on first use):

    from privacy.records import Section, register_section

    @register_section("intake_history", "Intake and medical history", order=40)
    def intake_history(patient):
        return Section(data=[{"submitted_at": ..., "answers": {...}}])

A section returns only rows of *this* patient; attachments (photos) go in `files`, as
(file name, bytes) pairs, and land in the ZIP under files/<section key>/."""

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from privacy.records import Section, SectionSpec, register_section, sections


def _local(value):
    if isinstance(value, dt.datetime):
        from zoneinfo import ZoneInfo

        return timezone.localtime(value, ZoneInfo(settings.CLINIC_TIME_ZONE)).isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def build_records(patient) -> dict[str, tuple[SectionSpec, Section]]:
    return {spec.key: (spec, spec.build(patient)) for spec in sections()}


def records_json(patient, built) -> bytes:
    document = {
        "format": "cinrella-patient-records/1",
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "patient_id": patient.pk,
        "sections": {
            key: {"title": spec.title, "data": sec.data, "note": sec.note} for key, (spec, sec) in built.items()
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=_local).encode()


# --- PDF ---------------------------------------------------------------------------------------
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _pdf():
    from fpdf import FPDF

    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(18, 18, 18)
    if (_FONT_DIR / "DejaVuSans.ttf").exists():
        pdf.add_font("body", "", str(_FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("body", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        pdf.unicode = True
    else:  # core font: Latin-1 only
        pdf.unicode = False
    pdf.add_page()
    return pdf


def _human(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        from zoneinfo import ZoneInfo

        return timezone.localtime(value, ZoneInfo(settings.CLINIC_TIME_ZONE)).strftime("%b %-d, %Y %-I:%M %p")
    if isinstance(value, dt.date):
        return value.strftime("%b %-d, %Y")
    if isinstance(value, list | tuple):
        return ", ".join(_human(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=_local)
    return str(value)


def _text(pdf, value) -> str:
    text = _human(value)
    if not pdf.unicode:
        text = text.encode("latin-1", "replace").decode("latin-1")
    return text


def _font(pdf, style="", size=10):
    pdf.set_font("body" if pdf.unicode else "helvetica", style, size)


def _write_record(pdf, record: dict):
    _font(pdf, "", 9)
    with pdf.table(col_widths=(32, 68), first_row_as_headings=False, line_height=5, padding=1) as table:
        for key, value in record.items():
            row = table.row()
            row.cell(_text(pdf, key.replace("_", " ").capitalize()))
            row.cell(_text(pdf, value))


def records_pdf(patient, built) -> bytes:
    pdf = _pdf()
    _font(pdf, "B", 16)
    pdf.multi_cell(0, 9, _text(pdf, f"{settings.CLINIC_NAME} — your records"), new_x="LMARGIN", new_y="NEXT")
    _font(pdf, "", 10)
    pdf.multi_cell(
        0,
        5,
        _text(pdf, f"Patient #{patient.pk}. Prepared {_human(timezone.now())}. The same data is in records.json."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for _key, (spec, section) in built.items():
        pdf.ln(4)
        _font(pdf, "B", 13)
        pdf.multi_cell(0, 7, _text(pdf, spec.title), new_x="LMARGIN", new_y="NEXT")
        rows = section.data if isinstance(section.data, list) else [section.data] if section.data else []
        if section.note:
            _font(pdf, "", 10)
            pdf.multi_cell(0, 5, _text(pdf, section.note), new_x="LMARGIN", new_y="NEXT")
        if not rows and not section.note:
            _font(pdf, "", 10)
            pdf.multi_cell(0, 5, "None on record.", new_x="LMARGIN", new_y="NEXT")
        for index, row in enumerate(rows):
            if index:
                pdf.ln(2)
            _write_record(pdf, row if isinstance(row, dict) else {"value": row})
        if section.files:
            _font(pdf, "", 10)
            names = ", ".join(name for name, _ in section.files)
            pdf.multi_cell(
                0, 5, _text(pdf, f"Files (in the ZIP under files/{spec.key}/): {names}"), new_x="LMARGIN", new_y="NEXT"
            )
    return bytes(pdf.output())


def records_zip(patient) -> bytes:
    """The whole download. The caller passes the sharing gate first (recipient "patient")."""
    built = build_records(patient)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("records.json", records_json(patient, built))
        archive.writestr("records.pdf", records_pdf(patient, built))
        for key, (_spec, section) in built.items():
            for name, content in section.files:
                archive.writestr(f"files/{key}/{Path(name).name}", content)
        archive.writestr(
            "README.txt",
            "records.pdf: your records, readable.\nrecords.json: the same, machine-readable "
            "(format cinrella-patient-records/1).\nfiles/: attachments such as photos.\n",
        )
    return buffer.getvalue()


# --- the sections of what is on record today ---------------------------------------------------
@register_section("identity", "Identity", order=10)
def identity_section(patient):
    return Section(
        data={
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth,
            "address_line1": patient.address_line1,
            "address_line2": patient.address_line2,
            "city": patient.city,
            "state": patient.state,
            "postal_code": patient.postal_code,
            "emergency_contact_name": patient.emergency_contact_name,
            "emergency_contact_phone": patient.emergency_contact_phone,
            "emergency_contact_relationship": patient.emergency_contact_relationship,
            "preferred_language": patient.preferred_language,
            "record_created_at": patient.created_at,
        }
    )


@register_section("contact", "Contact details", order=20)
def contact_section(patient):
    return Section(data={"email": patient.email, "mobile_phone": patient.mobile_phone})


@register_section("appointments", "Appointments", order=30)
def appointments_section(patient):
    rows = patient.appointments.select_related("service", "location", "provider").order_by("starts_at")
    return Section(
        data=[
            {
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
                "service": a.service.name,
                "location": a.location.name,
                "provider": a.provider.display_name,
                "status": a.get_status_display(),
                "booked_via": a.get_source_display(),
            }
            for a in rows
        ]
    )


@register_section("sms_consent_history", "Text-message consent history", order=60)
def sms_consent_section(patient):
    from consents.models import SmsConsentEvent
    from consents.selectors import phone_digest

    digest = phone_digest(patient.mobile_phone) if patient.mobile_phone else None
    events = SmsConsentEvent.objects.filter(patient=patient)
    if digest:
        events = events | SmsConsentEvent.objects.filter(phone_bidx=digest)
    return Section(
        data=[
            {
                "at": e.occurred_at,
                "phone": e.phone,
                "purpose": e.get_purpose_display(),
                "action": e.get_action_display(),
                "source": e.get_source_display(),
                "words_agreed_to": e.disclosure_text,
                "version": e.disclosure_version,
            }
            for e in events.distinct().order_by("occurred_at", "id")
        ]
    )


@register_section("disclosures", "Disclosures of your information (last 6 years)", order=70)
def disclosures_section(patient):
    from privacy.selectors import disclosures_of

    return Section(
        data=[
            {
                "at": d.at,
                "recipient": d.recipient.name,
                "categories": d.categories,
                "purpose": d.purpose,
                "description": d.description,
            }
            for d in disclosures_of(patient)
        ]
    )


@register_section("access_history", "Who viewed your record", order=80)
def access_history_section(patient):
    from privacy.selectors import access_history

    rows, available = access_history(patient)
    return Section(data=rows, note="" if available else "The access log is not available yet.")


@register_section("privacy_requests", "Your privacy requests", order=90)
def requests_section(patient):
    return Section(
        data=[
            {
                "request": r.get_kind_display(),
                "made_at": r.created_at,
                "due_at": r.due_at,
                "status": r.get_status_display(),
                "answer": r.resolution,
            }
            for r in patient.rights_requests.order_by("created_at")
        ]
    )


@register_section("policy_acceptances", "Privacy policy versions you accepted", order=95)
def acceptances_section(patient):
    return Section(
        data=[
            {"version": a.version.number, "accepted_at": a.accepted_at, "where": a.context}
            for a in patient.policy_acceptances.select_related("version").order_by("accepted_at")
        ]
    )


@register_section("guardians", "Guardians and guardian consents", order=97)
def guardians_section(patient):
    consents = patient.guardian_consents.select_related("guardian").order_by("consented_at")
    return Section(
        data=[
            {
                "guardian": c.guardian.full_name,
                "relationship": c.guardian.relationship,
                "consented_at": c.consented_at,
                "revoked_at": c.revoked_at,
            }
            for c in consents
        ]
    )

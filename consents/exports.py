"""Files made from consent records: the PDF copy of a signed consent, and the SMS consent proof
(CSV and PDF) that a carrier, an aggregator or a court asks for.

PDFs use fpdf2's core Helvetica font (no font files to ship), which only knows Latin-1: text is
transliterated for the PDF; the CSV and the database keep the exact characters."""

from __future__ import annotations

import base64
import csv
import io
from zoneinfo import ZoneInfo

from django.conf import settings
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from consents.selectors import render_consent_text, rendered_text_sha256

_TRANSLITERATE = str.maketrans(
    {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "•": "-", "…": "...", "\u00a0": " ", "✓": "v"}
)


def pdf_text(text: str) -> str:
    return (text or "").translate(_TRANSLITERATE).encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, title: str):
        super().__init__(format="Letter")
        self.set_title(pdf_text(title))
        self.set_author(pdf_text(settings.CLINIC_NAME))
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()
        self.set_font("Helvetica", "B", 14)
        self.paragraph(settings.CLINIC_NAME)
        self.paragraph(title)
        self.set_font("Helvetica", size=10)
        self.ln(2)

    def paragraph(self, text: str, height: float = 5.5) -> None:
        self.multi_cell(0, height, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field(self, label: str, value) -> None:
        self.set_font("Helvetica", "B", 9)
        self.cell(48, 5, pdf_text(label))
        self.set_font("Helvetica", size=9)
        self.multi_cell(
            0, 5, pdf_text(str(value) if value not in (None, "") else "-"), new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )


def clinic_time(value) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(settings.CLINIC_TIME_ZONE)).strftime("%Y-%m-%d %H:%M:%S %Z")


def utc_time(value) -> str:
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def signed_consent_pdf(signature) -> bytes:
    """What the patient signed: the rendered text of that exact version, the drawn signature,
    the typed name, when/where, and the text hash (recomputed and compared)."""
    version = signature.template_version
    text = render_consent_text(version)
    doc = _Document(f"Signed consent: {version.template.title}")
    doc.paragraph(text)
    doc.ln(4)
    png = base64.b64decode(signature.signature_png_b64)
    doc.image(io.BytesIO(png), w=70)
    doc.ln(2)
    doc.field("Signed by (typed name)", signature.typed_name)
    doc.field("Patient record", f"#{signature.patient_id}")
    doc.field("Signed at", f"{clinic_time(signature.signed_at)} ({utc_time(signature.signed_at)})")
    doc.field("Valid until", clinic_time(signature.expires_at) or "No expiry")
    doc.field("Channel", signature.get_channel_display())
    doc.field("IP address", signature.ip_address)
    doc.field("User agent", signature.user_agent)
    doc.field("Template version", f"{version.template.slug} v{version.number}")
    intact = rendered_text_sha256(version) == signature.rendered_text_sha256
    doc.field("Text SHA-256", f"{signature.rendered_text_sha256} ({'matches' if intact else 'DOES NOT MATCH'})")
    revocation = revocation_of(signature)
    if revocation is not None:
        doc.field("Revoked at", f"{clinic_time(revocation.revoked_at)} ({utc_time(revocation.revoked_at)})")
    return bytes(doc.output())


def revocation_of(signature):
    from consents.models import ConsentRevocation

    try:
        return signature.revocation
    except ConsentRevocation.DoesNotExist:
        return None


PROOF_COLUMNS = [
    "event_id",
    "phone",
    "purpose",
    "action",
    "source",
    "asserted_by",
    "verification",
    "occurred_at_utc",
    "occurred_at_clinic",
    "disclosure_version",
    "disclosure_text",
    "ip_address",
    "user_agent",
    "page_url",
    "staff_user",
    "note",
    "inbound_message_sid",
    "patient_id",
]


def proof_rows(events) -> list[dict]:
    return [
        {
            "event_id": e.pk,
            "phone": e.phone,
            "purpose": e.purpose,
            "action": e.action,
            "source": e.get_source_display(),
            "asserted_by": e.get_asserted_by_display() if e.asserted_by else "(recorded before ownership checks)",
            "verification": e.get_verification_display() if e.verification else "",
            "occurred_at_utc": utc_time(e.occurred_at),
            "occurred_at_clinic": clinic_time(e.occurred_at),
            "disclosure_version": e.disclosure_version,
            "disclosure_text": e.disclosure_text,
            "ip_address": e.ip_address or "",
            "user_agent": e.user_agent,
            "page_url": e.page_url,
            "staff_user": e.staff_user.get_username() if e.staff_user_id else "",
            "note": e.note,
            "inbound_message_sid": e.inbound_message_sid,
            "patient_id": e.patient_id or "",
        }
        for e in events
    ]


def sms_proof_csv(events) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PROOF_COLUMNS)
    writer.writeheader()
    writer.writerows(proof_rows(events))
    return buffer.getvalue().encode("utf-8")


def sms_proof_pdf(phone: str, events) -> bytes:
    rows = proof_rows(events)
    doc = _Document(f"SMS consent history for {phone}")
    doc.paragraph(
        f"{len(rows)} event(s), oldest first. Times in UTC and clinic time ({settings.CLINIC_TIME_ZONE}). "
        "The ledger is append-only: events are never edited or deleted."
    )
    for row in rows:
        doc.ln(3)
        doc.set_font("Helvetica", "B", 11)
        doc.paragraph(f"Event #{row['event_id']}: {row['purpose']} {row['action']}")
        for column in PROOF_COLUMNS[2:]:
            doc.field(column.replace("_", " ").capitalize(), row[column])
    return bytes(doc.output())

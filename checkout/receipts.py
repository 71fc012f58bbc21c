"""Receipts: one function (`render_receipt`) builds both the printable PDF and the email, from one
`Receipt` value, so the two can never disagree on an amount.

What a receipt may say (policy §5, §7; docs/checkout.md "Receipts and health information"):
- The name of a service (e.g. "Dermal filler") says what was done to the patient: health
  information. The *printed* receipt is handed to the patient, or printed for them at the desk
  (§7: their own record), so it is itemised with service names.
- The *emailed* receipt travels through the email provider, a processor that gets only what its
  purpose needs (§5). Its purpose is a proof of payment, so it names kinds, not treatments:
  "Treatment", "Treatment add-on", "Retail product", "Package", "Gift card", with the amounts,
  tax, tips and how it was paid. The patient can ask the desk for the itemised copy.
- Never: notes, intake answers, units of what product went where beyond the quantity, card
  numbers (brand and last four only), or anything about another person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from checkout.models import Sale, SaleLine, Tender
from cinrella.money import format_cents

PRINT, EMAIL = "print", "email"

GENERIC_LABELS = {
    SaleLine.Kind.SERVICE: "Treatment",
    SaleLine.Kind.ADDON: "Treatment add-on",
    SaleLine.Kind.PRODUCT: "Retail product",
    SaleLine.Kind.PACKAGE: "Prepaid package",
    SaleLine.Kind.GIFT_CARD: "Gift card",
}


@dataclass
class ReceiptLine:
    label: str
    detail: str
    amount: str


@dataclass
class Receipt:
    channel: str
    number: str
    clinic: str
    location: str
    address: str
    phone: str
    when: str
    customer: str
    lines: list[ReceiptLine] = field(default_factory=list)
    totals: list[tuple[str, str]] = field(default_factory=list)
    tenders: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    footer: str = ""


@dataclass
class RenderedReceipt:
    receipt: Receipt
    pdf: bytes
    subject: str
    text: str
    filename: str


def _line(line: SaleLine, channel: str) -> ReceiptLine:
    label = line.description if channel == PRINT else GENERIC_LABELS[line.kind]
    unit = format_cents(line.unit_price_cents)
    if line.unit_label:
        detail = f"{line.quantity} {line.unit_label} x {unit}"
    elif line.quantity > 1:
        detail = f"{line.quantity} x {unit}"
    else:
        detail = ""
    if line.member_discount_cents:
        detail = f"{detail}{'; ' if detail else ''}member discount {format_cents(-line.member_discount_cents)}"
    if line.list_unit_price_cents != line.unit_price_cents:
        detail = f"{detail}{'; ' if detail else ''}member price (list {format_cents(line.list_unit_price_cents)})"
    return ReceiptLine(label=label, detail=detail, amount=format_cents(line.gross_cents))


def _tender_label(tender: Tender) -> str:
    if tender.kind in (Tender.Kind.CARD, Tender.Kind.CARD_ON_FILE) and tender.payment and tender.payment.payment_method:
        card = tender.payment.payment_method
        return f"{(card.brand or 'card').title()} ending {card.last4}"
    if tender.kind == Tender.Kind.GIFT_CARD and tender.gift_card:
        return f"Gift card ending {tender.gift_card.last4}"
    if tender.kind == Tender.Kind.CASH and tender.change_cents:
        return f"Cash (received {format_cents(tender.cash_received_cents)}, change {format_cents(tender.change_cents)})"
    return tender.get_kind_display()


def build_receipt(sale: Sale, channel: str) -> Receipt:
    from checkout.services import gift_cards_of, settings_for

    location = sale.location
    moment = timezone.localtime(sale.paid_at or sale.created_at, ZoneInfo(location.time_zone))
    customer = sale.patient.full_name if sale.patient_id else "Walk-in customer"
    receipt = Receipt(
        channel=channel,
        number=sale.number,
        clinic=settings.CLINIC_NAME,
        location=location.name,
        address=location.address,
        phone=location.phone,
        when=f"{moment:%b} {moment.day}, {moment:%Y} {moment:%-I:%M %p}",
        customer=customer,
        footer=settings_for(location).receipt_footer,
    )
    lines = list(sale.lines.all())
    receipt.lines = [_line(line, channel) for line in lines]
    totals = [("Subtotal", format_cents(sale.subtotal_cents))]
    if sale.member_discount_cents:
        totals.append(("Member discount", format_cents(-sale.member_discount_cents)))
    for discount in sale.discounts.all():
        label = f"Discount{f' {discount.percent.normalize():f}%' if discount.percent else ''}: {discount.reason}"
        totals.append((label, format_cents(-discount.amount_cents)))
    if sale.tax_cents or sale.taxable_cents:
        totals.append(
            (
                f"Sales tax {sale.tax_percent.normalize():f}% on {format_cents(sale.taxable_cents)}",
                format_cents(sale.tax_cents),
            )
        )
    for tip in sale.tips.select_related("provider"):
        totals.append((f"Tip: {tip.provider.display_name}", format_cents(tip.amount_cents)))
    totals.append(("Total", format_cents(sale.total_cents)))
    receipt.totals = totals
    tenders = sale.tenders.filter(status=Tender.Status.SUCCEEDED).select_related("payment__payment_method", "gift_card")
    receipt.tenders = [(_tender_label(t), format_cents(t.amount_cents)) for t in tenders]
    for card in gift_cards_of(sale):
        receipt.notes.append(
            f"Gift card {card.code}: {format_cents(card.initial_cents)}. Keep this code; it works like cash."
        )
    for sale_return in sale.returns.all():
        when = f"{sale_return.business_date:%b} {sale_return.business_date.day}, {sale_return.business_date:%Y}"
        receipt.notes.append(f"{sale_return.get_kind_display()} on {when}: {format_cents(-sale_return.total_cents)}")
    if channel == EMAIL:
        receipt.notes.append("Ask the front desk if you need an itemised copy of this receipt.")
    return receipt


# --- PDF --------------------------------------------------------------------------------------------------

_ASCII = str.maketrans(
    {"—": "-", "–": "-", "−": "-", "’": "'", "“": '"', "”": '"', "•": "*", "…": "...", "\u00a0": " "}
)


def _t(text: str) -> str:
    return (text or "").translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


def receipt_pdf(receipt: Receipt) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title(_t(f"Receipt {receipt.number}"))
    pdf.set_author(_t(receipt.clinic))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def row(left: str, right: str, bold=False, size=10):
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.cell(width - 35, 6, _t(left))
        pdf.cell(35, 6, _t(right), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 8, _t(receipt.clinic), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    for text in (receipt.location, receipt.address, receipt.phone):
        pdf.cell(0, 5, _t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    row(f"Receipt {receipt.number}", receipt.when, bold=True, size=12)
    row(f"Customer: {receipt.customer}", "")
    pdf.ln(2)
    for line in receipt.lines:
        row(line.label, line.amount)
        if line.detail:
            pdf.set_font("Helvetica", "", 8)
            pdf.cell(0, 4, _t(f"    {line.detail}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    for label, amount in receipt.totals:
        row(label, amount, bold=label == "Total")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Paid with", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for label, amount in receipt.tenders:
        row(label, amount)
    if receipt.notes or receipt.footer:
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 9)
        for note in [*receipt.notes, receipt.footer]:
            if note:
                pdf.multi_cell(0, 5, _t(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def receipt_text(receipt: Receipt) -> str:
    out = [
        f"{receipt.clinic} — {receipt.location}",
        f"Receipt {receipt.number} · {receipt.when}",
        f"Customer: {receipt.customer}",
        "",
    ]
    for line in receipt.lines:
        out.append(f"{line.label}{f' ({line.detail})' if line.detail else ''}: {line.amount}")
    out.append("")
    out += [f"{label}: {amount}" for label, amount in receipt.totals]
    out.append("")
    out.append("Paid with:")
    out += [f"  {label}: {amount}" for label, amount in receipt.tenders]
    if receipt.notes:
        out.append("")
        out += receipt.notes
    out += ["", receipt.footer, f"{receipt.address} · {receipt.phone}"]
    return "\n".join(x for x in out if x is not None).strip() + "\n"


def render_receipt(sale: Sale, channel: str = PRINT) -> RenderedReceipt:
    """The one place a receipt is made: the PDF and the email text of `channel` (PRINT or EMAIL)."""
    receipt = build_receipt(sale, channel)
    return RenderedReceipt(
        receipt=receipt,
        pdf=receipt_pdf(receipt),
        subject=f"Your {receipt.clinic} receipt {receipt.number}",
        text=receipt_text(receipt),
        filename=f"receipt-{receipt.number}.pdf",
    )


def receipt_email(sale: Sale) -> EmailMessage:
    rendered = render_receipt(sale, EMAIL)
    message = EmailMessage(subject=rendered.subject, body=rendered.text, to=[sale.patient.email])
    message.attach(rendered.filename, rendered.pdf, "application/pdf")
    return message

"""The cancellation policy a patient agrees to before a card is saved. The exact text shown and
its version are recorded with each agreement (CancellationPolicyAgreement)."""

from django.conf import settings

VERSION = "2026-11-01"


def money(cents: int, currency: str = "usd") -> str:
    symbol = "$" if currency.lower() == "usd" else f"{currency.upper()} "
    return f"{symbol}{cents // 100:,}.{cents % 100:02d}"


def text_for(location, deposit_cents: int = 0, currency: str = "usd") -> str:
    parts = [
        f"{settings.CLINIC_NAME} cancellation policy (version {VERSION}).",
        f"You may cancel or reschedule free of charge up to {location.free_cancellation_hours} hours "
        "before your appointment.",
    ]
    if deposit_cents:
        parts.append(
            f"Your deposit of {money(deposit_cents, currency)} is refunded automatically if you cancel in time; "
            "if you cancel later, the deposit is kept as the late-cancellation fee."
        )
    if location.late_cancellation_fee_cents:
        parts.append(
            f"Cancelling later than that may be charged a fee of {money(location.late_cancellation_fee_cents)}."
        )
    if location.no_show_fee_cents:
        parts.append(f"Missing your appointment without notice may be charged {money(location.no_show_fee_cents)}.")
    parts.append(
        "I authorise the clinic to save my card with its payment processor, Stripe, and to charge these fees "
        "to it under this policy. Card details are held by Stripe, never by the clinic."
    )
    return " ".join(parts)

"""One-off texts other apps ask for: the double opt-in confirmation, pay and consent links, the
portal's sign-in code."""

from __future__ import annotations

from messaging import templating
from messaging.models import (
    Kind,
    OutboundMessage,
    Purpose,
)
from messaging.services.outbox import queue_message

MARKETING_PROGRAM = templating.MARKETING_PROGRAM_TEXT


def queue_double_opt_in(
    *, phone: str, reference: str, patient=None, purpose: str = Purpose.TRANSACTIONAL
) -> OutboundMessage:
    """The confirmation text after a web or verbal opt-in: clinic name, program, frequency, rates,
    HELP/STOP. Call it in the transaction that records the opt-in; `reference` (e.g. the consent
    event id) makes it idempotent. Sent only if the opt-in for `purpose` is still current."""
    program = MARKETING_PROGRAM if purpose == Purpose.MARKETING else templating.PROGRAM_TEXT
    return queue_message(
        to_phone=phone,
        kind=Kind.DOUBLE_OPT_IN,
        purpose=purpose,
        idempotency_key=f"double_opt_in:{reference}",
        context={"program": program},
        patient=patient,
        send_now=True,
    )


def queue_marketing_confirmation(*, phone: str, reference: str, patient=None, reply_to_sid: str = ""):
    """The first marketing text after a written marketing opt-in (the portal box, a form from a
    verified number, JOIN or YES from the number): program, frequency, "Msg & data rates may
    apply", HELP and STOP. Purpose marketing: it goes only while the opt-in is current."""
    return queue_message(
        to_phone=phone,
        kind=Kind.MARKETING_CONFIRMATION,
        purpose=Purpose.MARKETING,
        idempotency_key=f"marketing_confirmation:{reference}",
        context={"program": MARKETING_PROGRAM},
        patient=patient,
        send_now=True,
    )


def queue_opt_in_request(*, phone: str, purposes, reference: str) -> OutboundMessage:
    """The one "Reply YES to get … texts from <clinic>" request to a number a web form named.
    Fixed wording: no name, nothing typed on the form. The worker sends it only while the number's
    state is still pending (never after an opt-out), inside the quiet-hours window."""
    programs = [MARKETING_PROGRAM if p == Purpose.MARKETING else "appointment texts" for p in purposes]
    purpose = Purpose.TRANSACTIONAL if Purpose.TRANSACTIONAL in purposes else Purpose.MARKETING
    return queue_message(
        to_phone=phone,
        kind=Kind.OPT_IN_REQUEST,
        purpose=purpose,
        idempotency_key=f"opt_in_request:{reference}",
        context={"program": " and ".join(programs)},
        send_now=True,
    )


def queue_phone_code(*, phone: str, body: str, reference: str, patient=None) -> OutboundMessage:
    """The code a patient asked for on the portal to show the number is theirs (consents)."""
    return queue_message(
        to_phone=phone,
        kind=Kind.PHONE_CODE,
        idempotency_key=reference,
        literal=body,
        patient=patient,
        send_now=True,
    )


def queue_pay_link(*, patient, link: str, amount_cents: int, currency: str = "usd", reference: str):
    amount = f"${amount_cents / 100:,.2f}" if currency.lower() == "usd" else f"{amount_cents / 100:,.2f} {currency}"
    return queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.PAY_LINK,
        idempotency_key=f"pay_link:{reference}",
        context={"first_name": patient.first_name, "link": link, "amount": amount},
        patient=patient,
        send_now=True,
    )


def queue_consent_link(*, patient, link: str, reference: str, appointment=None):
    return queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.CONSENT_LINK,
        idempotency_key=f"consent_link:{reference}",
        context={"first_name": patient.first_name, "link": link},
        patient=patient,
        appointment=appointment,
        send_now=True,
    )


def send_sign_in_code(patient, body: str) -> bool:
    """The patient portal's one-time code by text (compliance.portal_auth): queued now,
    sent at once; the worker still checks the transactional consent and the privacy gate."""
    import uuid

    if not patient.mobile_phone:
        return False
    queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.SIGN_IN_CODE,
        idempotency_key=f"sign_in_code:{uuid.uuid4()}",
        literal=body,
        patient=patient,
        send_now=True,
    )
    return True

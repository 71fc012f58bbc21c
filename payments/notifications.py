"""Telling the patient a payment needs them.

INTEGRATION POINT: `send_pay_link` records a PayLinkRequest row (in the caller's transaction) with
the exact SMS body. Until the messaging outbox is wired in, nothing is texted: the integrator
replaces the marked line with `messaging.services.queue_message(...)` (transactional purpose,
idempotency key `paylink:<request id>`) and sets `handed_off_at`. Staff see pending pay links on
the appointment's payments panel meanwhile, with the link to read out or copy."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from payments import links
from payments.cancellation_policy import money
from payments.models import PayLinkRequest


def pay_link_body(payment) -> str:
    """The minimum (DESIGN.md §5): clinic, amount, visit date, link. No treatment names."""
    url = links.absolute(links.pay_path(payment))
    when = ""
    if payment.appointment_id:
        appointment = payment.appointment
        local = timezone.localtime(appointment.starts_at, ZoneInfo(appointment.location.time_zone))
        when = f" for your visit on {local:%b} {local.day}"
    return (
        f"{settings.CLINIC_NAME}: please complete your payment of "
        f"{money(payment.amount_cents, payment.currency)}{when}: {url}"
    )[:320]


def send_pay_link(payment) -> PayLinkRequest:
    request = PayLinkRequest.objects.create(payment=payment, body=pay_link_body(payment))
    # Integrator: queue `request.body` to the patient's mobile through the messaging outbox here.
    return request

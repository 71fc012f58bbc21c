"""Telling the patient a payment needs them.

`send_pay_link` records a PayLinkRequest row with the link (in the caller's transaction) and queues
the text through the messaging outbox (transactional; consent, quiet hours and the privacy gate
are applied at send time). A patient without a mobile number gets no text: staff see the pending
link on the appointment's payments panel to read out or copy."""

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
    from messaging.services.notifications import queue_pay_link

    request = PayLinkRequest.objects.create(payment=payment, body=pay_link_body(payment))
    patient = payment.patient
    if patient.mobile_phone:
        queue_pay_link(
            patient=patient,
            link=links.absolute(links.pay_path(payment)),
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            reference=str(request.pk),
        )
        request.handed_off_at = timezone.now()
        request.save(update_fields=["handed_off_at"])
    return request

"""Booking from the patient portal: find or create the patient, book, record what they chose.

Portal identity (issue 17): details that match an existing patient (email + date of birth, or
mobile + date of birth) are not proof of being her. Such a booking goes ahead — the slot is held,
the visit is on her record, the texts about it go to the contact *on file* under her own consent,
so the real patient hears of it — but nothing on her record changes: not her contact data, not the
consents to texts, not the privacy-policy acceptance. The raw choices stay on the BookingRequest,
marked "identity not proven", and the front desk confirms who it is (the staff home lists these
bookings with a "Identity confirmed" button). The page the visitor sees is the same either way, so
it never tells a stranger that someone is a patient here. A new patient's record is created from
the form, and their text-message boxes follow the phone-ownership rules (a pending opt-in and one
"Reply YES" request for a number nobody has proven to own)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from appointments import portal_consents, services
from appointments.models import Appointment, BookingRequest
from cinrella.request_meta import client_ip, user_agent
from patients.selectors import returning_patient
from patients.services import create_patient


@dataclass(frozen=True)
class PortalBooking:
    appointment: Appointment
    booking_request: BookingRequest


@transaction.atomic
def book_from_portal(
    *,
    request,
    service,
    location,
    provider,
    starts_at,
    details: dict,
    sms_transactional: bool,
    sms_marketing: bool,
    privacy_acknowledged: bool,
) -> PortalBooking:
    """Raises services.SlotTaken (and the other SchedulingErrors) like book_appointment."""
    patient = returning_patient(
        date_of_birth=details["date_of_birth"], email=details["email"], phone=details["mobile_phone"]
    )
    identity = BookingRequest.Identity.UNPROVEN_MATCH if patient else BookingRequest.Identity.NEW_PATIENT
    if patient is None:
        patient = create_patient(
            first_name=details["first_name"],
            last_name=details["last_name"],
            email=details["email"],
            mobile_phone=details["mobile_phone"],
            date_of_birth=details["date_of_birth"],
        )
    appointment = services.book_appointment(
        patient=patient,
        service=service,
        location=location,
        provider=provider,
        starts_at=starts_at,
        source=Appointment.Source.PORTAL,
        require_offered_slot=True,
    )
    booking_request = portal_consents.record_portal_consents(
        request=request,
        appointment=appointment,
        identity=identity,
        choices=portal_consents.PortalConsentChoices(
            sms_transactional=sms_transactional,
            sms_marketing=sms_marketing,
            sms_phone=details["mobile_phone"],
            privacy_policy_acknowledged=privacy_acknowledged,
            privacy_policy_version=portal_consents.current_policy_version(),
            ip_address=client_ip(request),
            user_agent=user_agent(request),
            page_url=request.path,
        ),
    )
    return PortalBooking(appointment=appointment, booking_request=booking_request)


def bookings_to_confirm(*, location=None):
    """Upcoming portal bookings that matched an existing record without proof, oldest first."""
    qs = BookingRequest.objects.filter(
        identity=BookingRequest.Identity.UNPROVEN_MATCH,
        identity_confirmed_at__isnull=True,
        appointment__starts_at__gte=timezone.now(),
        appointment__status__in=[Appointment.Status.BOOKED, Appointment.Status.CONFIRMED],
    ).select_related("appointment__patient", "appointment__service", "appointment__location")
    if location is not None:
        qs = qs.filter(appointment__location=location)
    return qs.order_by("appointment__starts_at")


@transaction.atomic
def confirm_booking_identity(*, booking_request: BookingRequest, user) -> bool:
    """The front desk checked with the patient (on the contact on file) that the booking is hers."""
    return bool(
        BookingRequest.objects.filter(pk=booking_request.pk, identity_confirmed_at__isnull=True).update(
            identity_confirmed_by=user, identity_confirmed_at=timezone.now()
        )
    )

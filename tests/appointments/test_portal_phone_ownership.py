"""Consent belongs to the phone's owner (issue 17, points 1–4): the stranger scenarios through the
real booking portal, and the pending opt-in confirmed by a signed YES from the number."""

import datetime as dt

import pytest

from appointments.models import Appointment, BookingRequest
from consents.models import PhoneVerification, SmsConsentEvent, SmsPurpose
from consents.selectors import sms_opted_in
from messaging import backends, dispatch
from messaging.models import Kind, OutboundMessage, Status
from messaging.selectors import marketing_audience
from privacy.models import PolicyAcceptance
from tests.appointments.test_portal import DETAILS, SLOT, book_through_portal
from tests.factories import PatientFactory
from tests.messaging.signing import TOKEN, text_from

pytestmark = pytest.mark.django_db

OWNER = "+16195550177"
BOTH_BOXES = {"privacy_acknowledged": "on", "sms_transactional": "on", "sms_marketing": "on"}


@pytest.fixture(autouse=True)
def twilio_and_open_hours(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = ""
    settings.SMS_QUIET_HOURS = (0, 24)
    settings.SMS_QUIET_HOURS_BY_STATE = {}
    backends.outbox.clear()
    yield
    backends.outbox.clear()


def sent_to(phone):
    return [m for m in backends.outbox if m.to == phone]


def test_stranger_booking_never_re_opts_in_a_number_whose_owner_texted_stop(client, portal_clinic, frozen_now):
    """Observed: booking /book/ with someone else's mobile re-opted it into marketing after its
    owner had texted STOP (the ledger is per phone and the latest event won)."""
    text_from(client, OWNER, "START")
    text_from(client, OWNER, "STOP")
    stranger = {**DETAILS, "mobile_phone": OWNER}

    response = book_through_portal(client, portal_clinic, details=stranger, consents=BOTH_BOXES)

    assert response.status_code == 302
    assert not sms_opted_in(OWNER, SmsPurpose.MARKETING)
    assert not sms_opted_in(OWNER, SmsPurpose.TRANSACTIONAL)
    assert not SmsConsentEvent.objects.filter(source="portal_form").exists()
    dispatch.run_once()
    assert [m.body for m in sent_to(OWNER) if "unsubscribed" not in m.body and "resubscribed" not in m.body] == []


def test_stranger_matching_an_existing_patient_changes_none_of_her_records(client, portal_clinic, frozen_now):
    """Observed: a booking whose email and date of birth matched an existing patient attached the
    stranger's opt-ins and a policy acceptance to her record (they showed in her records download)."""
    patient = PatientFactory(
        first_name="Dana", email="dana@example.com", mobile_phone=OWNER, date_of_birth=dt.date(1991, 6, 15)
    )
    acceptances_before = PolicyAcceptance.objects.filter(patient=patient).count()
    stranger = {**DETAILS, "first_name": "Mallory", "mobile_phone": "(619) 555-0199"}

    response = book_through_portal(client, portal_clinic, details=stranger, consents=BOTH_BOXES)

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.mobile_phone == OWNER and patient.first_name == "Dana"
    assert not SmsConsentEvent.objects.filter(patient=patient).exists()
    assert not SmsConsentEvent.objects.filter(phone_bidx=patient.phone_bidx).exists()
    assert PolicyAcceptance.objects.filter(patient=patient).count() == acceptances_before
    assert not sms_opted_in("+16195550199", SmsPurpose.MARKETING)
    # The booking itself is held for staff to confirm who it is.
    booking = BookingRequest.objects.get()
    assert booking.appointment.patient == patient and booking.identity == BookingRequest.Identity.UNPROVEN_MATCH


def test_free_text_typed_as_a_name_never_reaches_a_phone(client, portal_clinic, frozen_now):
    """Observed: a first name of "URGENT card declined, pay now at http://evil.example/pay" was
    texted verbatim in the booking confirmation to the typed number."""
    evil = {**DETAILS, "first_name": "URGENT card declined, pay now at http://evil.example/pay"}

    response = book_through_portal(client, portal_clinic, details=evil, consents=BOTH_BOXES)

    assert response.status_code == 200  # the form asks again: that is not a name
    assert "Use letters only" in response.text
    assert not Appointment.objects.exists()
    dispatch.run_once()
    assert not [m for m in backends.outbox if "evil.example" in m.body or "URGENT" in m.body]


def test_web_opt_in_for_an_unproven_number_is_pending_until_the_number_says_yes(client, portal_clinic, frozen_now):
    """The pending opt-in end to end: one fixed-wording "Reply YES" request and nothing else until
    a signed YES arrives from the number; then the confirmations (marketing's names its program,
    frequency, rates, HELP and STOP) and the visit's texts go."""
    response = book_through_portal(client, portal_clinic, consents=BOTH_BOXES)
    assert response.status_code == 302
    phone = "+16195550134"
    patient = Appointment.objects.get().patient
    events = SmsConsentEvent.objects.filter(phone_bidx=patient.phone_bidx)
    assert {(e.purpose, e.action, e.asserted_by, e.verification) for e in events} == {
        ("transactional", "pending", "web_visitor", "unverified"),
        ("marketing", "pending", "web_visitor", "unverified"),
    }

    dispatch.run_once()
    received = sent_to(phone)
    assert len(received) == 1
    request_text = received[0].body
    assert "Reply YES" in request_text and "Cinrella Med Spa" in request_text and "STOP" in request_text
    assert "Dana" not in request_text  # nothing typed on the form goes to an unproven number
    confirmation = OutboundMessage.objects.get(kind=Kind.BOOKING_CONFIRMATION)
    assert confirmation.status == Status.SUPPRESSED
    assert patient not in marketing_audience()

    text_from(client, phone, "YES")
    dispatch.run_once()

    assert sms_opted_in(phone, SmsPurpose.TRANSACTIONAL) and sms_opted_in(phone, SmsPurpose.MARKETING)
    opt_in = SmsConsentEvent.objects.filter(phone_bidx=patient.phone_bidx, action="opt_in").first()
    assert (opt_in.asserted_by, opt_in.verification) == ("number", "inbound_text")
    assert PhoneVerification.objects.filter(patient=patient, method="reply_yes").exists()
    bodies = [m.body for m in sent_to(phone)[1:]]
    marketing = next(b for b in bodies if "offers and news" in b)
    assert "Msg & data rates may apply" in marketing and "HELP" in marketing and "STOP" in marketing
    assert "Up to 4 msgs/month" in marketing
    assert any("appointment reminders" in b for b in bodies)
    assert patient in marketing_audience()


def test_a_second_booking_with_the_same_unproven_number_sends_no_second_request(client, portal_clinic, frozen_now):
    book_through_portal(client, portal_clinic, consents=BOTH_BOXES)
    other_slot = {**DETAILS, "email": "someone@example.com", "first_name": "Sam"}
    book_through_portal(
        client, portal_clinic, details=other_slot, consents=BOTH_BOXES, starts_at=SLOT + dt.timedelta(hours=1)
    )
    assert OutboundMessage.objects.filter(kind=Kind.OPT_IN_REQUEST).count() == 1


def test_front_desk_sees_an_unproven_match_and_confirms_it(client, portal_clinic, frozen_now, staff_client):
    PatientFactory(first_name="Dana", email="dana@example.com", mobile_phone=OWNER, date_of_birth=dt.date(1991, 6, 15))
    book_through_portal(client, portal_clinic, consents=BOTH_BOXES)
    desk = staff_client("front_desk")

    home = desk.get("/staff/").text
    assert "Online bookings to confirm (1)" in home and "Identity confirmed" in home
    appointment = Appointment.objects.get()
    desk.post(f"/staff/appointments/{appointment.pk}/identity-confirmed/")

    booking = BookingRequest.objects.get()
    assert booking.identity_confirmed_by == desk.user and booking.identity_confirmed_at is not None
    assert "Online bookings to confirm" not in desk.get("/staff/").text

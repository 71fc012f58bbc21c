"""The booking portal end to end through the test client."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import signing
from icalendar import Calendar

from appointments.models import Appointment, BookingRequest
from appointments.views.portal import MANAGE_SALT, manage_token
from consents.models import SmsConsentEvent
from messaging.models import OutboundMessage
from patients.models import Patient
from privacy.models import PolicyAcceptance
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

# Friday 2026-11-27 10:00 in San Diego (PST).
SLOT = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)
DETAILS = {
    "first_name": "Dana",
    "last_name": "Rivera",
    "email": "dana@example.com",
    "mobile_phone": "(619) 555-0134",
    "date_of_birth": "1991-06-15",
}


def slot_fields(service, who="any", starts_at=SLOT):
    return {"service": service.pk, "who": who, "starts_at": starts_at.isoformat()}


def book_through_portal(client, clinic, *, details=DETAILS, consents=None, who="any", starts_at=SLOT):
    service = clinic["service"]
    fields = {**slot_fields(service, who, starts_at), **details}
    consents = {"privacy_acknowledged": "on"} if consents is None else consents
    return client.post("/book/confirm/", {**fields, **consents})


def test_full_flow_service_provider_time_details_consents_confirmation(client, portal_clinic, frozen_now):
    service, provider = portal_clinic["service"], portal_clinic["provider"]

    home = client.get("/book/")
    assert "Neuromodulator" in home.text and "Chemical peel" in home.text
    providers = client.get(f"/book/{service.pk}/")
    assert "Anyone available" in providers.text and provider.display_name in providers.text

    times = client.get(f"/book/{service.pk}/any/?date=2026-11-27")
    assert times.status_code == 200
    assert "Los Angeles time (PST)" in times.text
    assert "10:00 AM" in times.text and SLOT.isoformat() in times.text

    details = client.post("/book/details/", slot_fields(service))
    assert details.status_code == 200 and "Your details" in details.text
    assert "Friday, November 27" in details.text and "10:00 AM" in details.text

    consents = client.post("/book/details/", {**slot_fields(service), **DETAILS})
    assert consents.status_code == 200
    page = consents.text
    assert page.count('type="checkbox" name="sms_') == 2
    assert "checked" not in re.sub(r"{%.*?%}", "", page.split('name="sms_transactional"')[1].split(">")[0])
    assert "Consent is not a condition of purchase." in page
    assert "Message frequency varies. Message and data rates may apply. Reply STOP to opt out, HELP for help." in page
    assert "(version 1)" in page and 'href="/privacy/"' in page  # the policy version in force

    done = book_through_portal(
        client, portal_clinic, consents={"privacy_acknowledged": "on", "sms_transactional": "on"}
    )

    assert done.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.starts_at == SLOT and appointment.provider == provider
    assert appointment.room == portal_clinic["room"] and appointment.source == "portal"
    patient = appointment.patient
    assert (patient.first_name, patient.email, patient.mobile_phone) == ("Dana", "dana@example.com", "+16195550134")
    request_row = BookingRequest.objects.get(appointment=appointment)
    assert request_row.sms_transactional and not request_row.sms_marketing
    assert request_row.sms_phone == "+16195550134" and request_row.privacy_policy_version == "1"
    assert "Reply STOP to opt out" in request_row.transactional_disclosure and request_row.ip_address == "127.0.0.1"
    # The ledger holds the transactional opt-in, pending until the number answers YES (nobody has
    # shown yet that they own it), with the exact text shown; nothing for marketing.
    opt_in = SmsConsentEvent.objects.get(patient=patient)
    assert (opt_in.purpose, opt_in.action, opt_in.source) == ("transactional", "pending", "portal_form")
    assert opt_in.disclosure_text == request_row.transactional_disclosure
    assert opt_in.disclosure_text in page
    assert PolicyAcceptance.objects.get(patient=patient).version.number == 1
    # The one "Reply YES" request is queued in the outbox.
    assert OutboundMessage.objects.filter(kind="opt_in_request").exists()
    # No PHI in the confirmation URL: only the signed appointment id.
    assert "Dana" not in done["Location"] and "example" not in done["Location"]
    confirmation = client.get(done["Location"])
    assert "You're booked" in confirmation.text and "Manage my appointment" in confirmation.text
    assert "Friday, November 27, 2026" in confirmation.text and "10:00 AM" in confirmation.text

    ics = client.get(f"/book/manage/{manage_token(appointment)}/calendar.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == SLOT
    assert str(event["summary"]) == "Appointment at Cinrella Med Spa"  # no treatment name leaves in a calendar file


def test_sms_boxes_are_optional_and_mobile_is_optional_without_them(client, portal_clinic, frozen_now):
    response = book_through_portal(client, portal_clinic, details={**DETAILS, "mobile_phone": ""})

    assert response.status_code == 302
    request_row = BookingRequest.objects.get()
    assert not request_row.sms_transactional and not request_row.sms_marketing and request_row.sms_phone == ""


def test_sms_consent_without_a_mobile_asks_for_one(client, portal_clinic, frozen_now):
    response = book_through_portal(
        client,
        portal_clinic,
        details={**DETAILS, "mobile_phone": ""},
        consents={"privacy_acknowledged": "on", "sms_marketing": "on"},
    )

    assert response.status_code == 200
    assert "To receive texts, add your mobile number" in response.text
    assert not Appointment.objects.exists()


def test_privacy_acknowledgement_is_required(client, portal_clinic, frozen_now):
    response = book_through_portal(client, portal_clinic, consents={})

    assert "Please confirm you have read our Privacy Policy." in response.text
    assert not Appointment.objects.exists()


def test_under_18_is_refused_kindly_and_nothing_is_saved(client, portal_clinic, frozen_now):
    minor = {**DETAILS, "date_of_birth": "2009-01-10"}

    at_details = client.post("/book/details/", {**slot_fields(portal_clinic["service"]), **minor})
    at_confirm = book_through_portal(client, portal_clinic, details=minor)

    for response in (at_details, at_confirm):
        assert response.status_code == 200
        assert "Online booking is for guests aged 18 and over" in response.text
        assert "parent or guardian" in response.text
    assert not Patient.objects.exists() and not Appointment.objects.exists()


def test_turning_18_today_may_book(client, portal_clinic, frozen_now):
    response = book_through_portal(client, portal_clinic, details={**DETAILS, "date_of_birth": "2008-11-25"})

    assert response.status_code == 302


def test_returning_patient_is_matched_without_revealing_or_changing_the_record(client, portal_clinic, frozen_now):
    existing = PatientFactory(
        first_name="Dana", last_name="Old-Name", email="dana@example.com", date_of_birth=dt.date(1991, 6, 15)
    )
    stranger_page = book_through_portal(client, portal_clinic, details={**DETAILS, "email": "new@example.com"})
    client.cookies.clear()
    returning_page = book_through_portal(client, portal_clinic, starts_at=SLOT + dt.timedelta(hours=2))

    appointments = list(Appointment.objects.order_by("starts_at"))
    assert appointments[1].patient == existing
    assert appointments[0].patient != existing
    existing.refresh_from_db()
    assert existing.last_name == "Old-Name"  # never edited from the portal
    for response in (stranger_page, returning_page):
        page = client.get(response["Location"]).text
        assert "Old-Name" not in page and "Dana" not in page


def test_a_taken_time_shows_a_clear_message_and_fresh_nearby_slots(client, portal_clinic, frozen_now):
    AppointmentFactory(
        location=portal_clinic["location"],
        service=portal_clinic["service"],
        provider=portal_clinic["provider"],
        starts_at=SLOT,
    )

    response = book_through_portal(client, portal_clinic)

    assert response.status_code == 409
    assert "That time was just taken" in response.text
    offered = re.findall(r'name="starts_at" value="([^"]+)"', response.text)
    assert offered and SLOT.isoformat() not in offered
    assert (SLOT + dt.timedelta(minutes=45)).isoformat() in offered  # right after the held range
    assert Appointment.objects.count() == 1


def test_a_time_outside_the_offered_slots_cannot_be_booked(client, portal_clinic, frozen_now):
    response = book_through_portal(client, portal_clinic, starts_at=SLOT.replace(hour=4))  # 20:00 the evening before

    assert response.status_code == 409
    assert not Appointment.objects.exists()


def test_a_time_already_past_says_so_instead_of_taken(client, portal_clinic, frozen_now):
    past = frozen_now - dt.timedelta(days=1)

    response = book_through_portal(client, portal_clinic, starts_at=past)

    assert response.status_code == 409
    assert "That time has already passed" in response.text and "just taken" not in response.text
    assert not Appointment.objects.exists()


def test_tampered_expired_and_foreign_manage_links_are_refused(client, portal_clinic, frozen_now):
    appointment = AppointmentFactory(
        location=portal_clinic["location"],
        service=portal_clinic["service"],
        provider=portal_clinic["provider"],
        starts_at=SLOT + dt.timedelta(days=7),
    )
    other = AppointmentFactory(
        location=portal_clinic["location"],
        service=portal_clinic["service"],
        provider=portal_clinic["provider"],
        starts_at=SLOT + dt.timedelta(days=8),
    )
    token = manage_token(appointment)
    value, stamp, signature = token.split(":")
    forged = f"{other.pk}:{stamp}:{signature}"
    unsalted = signing.TimestampSigner().sign(str(other.pk))

    assert client.get(f"/book/manage/{token}/").status_code == 200
    for bad in (forged, unsalted, token[:-2] + "xx", "123", "not-a-token"):
        assert client.get(f"/book/manage/{bad}/").status_code == 404
        assert client.get(f"/book/manage/{bad}/calendar.ics").status_code == 404
        assert client.post(f"/book/manage/{bad}/cancel/").status_code == 404
    with time_machine.travel(frozen_now + dt.timedelta(days=91), tick=False):
        assert client.get(f"/book/manage/{token}/").status_code == 404
    other.refresh_from_db()
    assert other.status == Appointment.Status.BOOKED
    assert signing.TimestampSigner(salt=MANAGE_SALT).unsign(token) == str(appointment.pk)


def test_manage_link_cancels_within_policy(client, portal_clinic, frozen_now):
    appointment = AppointmentFactory(
        location=portal_clinic["location"],
        service=portal_clinic["service"],
        provider=portal_clinic["provider"],
        starts_at=SLOT,
    )

    response = client.post(f"/book/manage/{manage_token(appointment)}/cancel/")

    assert response.status_code == 200 and "Appointment cancelled" in response.text
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_late_cancellation_is_refused_online_with_the_clinic_phone(client, portal_clinic, frozen_now):
    appointment = AppointmentFactory(
        location=portal_clinic["location"],
        service=portal_clinic["service"],
        provider=portal_clinic["provider"],
        starts_at=frozen_now + dt.timedelta(hours=5),
    )
    token = manage_token(appointment)

    page = client.get(f"/book/manage/{token}/")
    response = client.post(f"/book/manage/{token}/cancel/")

    assert "can't be changed online" in page.text and "(858) 256-0289" in page.text
    assert "Cancel appointment" not in page.text
    assert response.status_code == 409 and "(858) 256-0289" in response.text
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_manage_link_reschedules_to_an_offered_time(client, portal_clinic, frozen_now):
    appointment = AppointmentFactory(
        location=portal_clinic["location"],
        service=portal_clinic["service"],
        provider=portal_clinic["provider"],
        starts_at=SLOT,
    )
    token = manage_token(appointment)
    new_time = SLOT + dt.timedelta(minutes=15)  # overlaps its own old time: allowed

    picker = client.get(f"/book/manage/{token}/reschedule/?date=2026-11-27")
    response = client.post(f"/book/manage/{token}/reschedule/", {"starts_at": new_time.isoformat()})

    assert new_time.isoformat() in picker.text
    assert response.status_code == 200 and "Appointment moved" in response.text
    appointment.refresh_from_db()
    assert appointment.starts_at == new_time


def test_booking_posts_are_rate_limited_per_ip(client, portal_clinic, frozen_now, settings):
    settings.APPOINTMENTS_RATE_LIMITS = {"booking": (3, 600), "manage": (2, 600)}
    statuses = [client.post("/book/details/", slot_fields(portal_clinic["service"])).status_code for _ in range(4)]
    other_ip = client.post("/book/details/", slot_fields(portal_clinic["service"]), REMOTE_ADDR="10.0.0.9")

    assert statuses == [200, 200, 200, 429]
    assert other_ip.status_code == 200
    appointment = AppointmentFactory(
        location=portal_clinic["location"],
        service=portal_clinic["service"],
        provider=portal_clinic["provider"],
        starts_at=SLOT,
    )
    manage = [client.get(f"/book/manage/{manage_token(appointment)}/").status_code for _ in range(3)]
    assert manage == [200, 200, 429]


def test_bad_input_never_gives_a_500(client, portal_clinic, frozen_now):
    service = portal_clinic["service"]
    assert client.post("/book/details/", {"service": "x", "who": "any", "starts_at": "nope"}).status_code == 302
    assert client.post("/book/details/", {**slot_fields(service), "starts_at": "2026-11-27T10:00"}).status_code == 302
    assert client.post("/book/details/", {**slot_fields(service, who="999999")}).status_code == 404
    assert client.get(f"/book/{service.pk}/abc/").status_code == 404
    assert client.get(f"/book/{service.pk}/any/?date=garbage&from=junk").status_code == 200
    bad_dob = client.post("/book/details/", {**slot_fields(service), **DETAILS, "date_of_birth": "31/31/1990"})
    assert bad_dob.status_code == 200 and "Enter a valid date" in bad_dob.text
    bad_phone = client.post("/book/details/", {**slot_fields(service), **DETAILS, "mobile_phone": "12"})
    assert "Enter a valid mobile number" in bad_phone.text


def test_online_booking_needs_the_minimum_notice(client, portal_clinic, frozen_now, settings):
    settings.APPOINTMENTS_MIN_NOTICE_MINUTES = 120
    service = portal_clinic["service"]

    page = client.get(f"/book/{service.pk}/any/?date=2026-11-25").text
    too_soon = book_through_portal(client, portal_clinic, starts_at=frozen_now + dt.timedelta(minutes=60))

    offered = re.findall(r'name="starts_at" value="([^"]+)"', page)
    assert offered[0] == (frozen_now + dt.timedelta(hours=2)).isoformat()  # 12:00 local, not 10:00
    assert too_soon.status_code == 409 and not Appointment.objects.exists()


def test_service_with_deposit_goes_to_the_deposit_step_when_payments_are_set_up(
    client, portal_clinic, frozen_now, settings
):
    service = portal_clinic["service"]
    service.deposit_cents = 5000
    service.save()

    settings.STRIPE_SECRET_KEY = ""
    skipped = book_through_portal(client, portal_clinic)
    assert skipped["Location"].startswith("/book/done/")  # no payments configured: step skipped

    Appointment.objects.all().update(status="cancelled")
    settings.STRIPE_SECRET_KEY = "sk_test_not_called_here"
    to_deposit = book_through_portal(client, portal_clinic)
    assert to_deposit.status_code == 302
    assert to_deposit["Location"].startswith("/book/deposit/")

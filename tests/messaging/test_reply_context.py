"""Replies read in the context of the last message sent, through the signed inbound webhook
(issue 17, points 5–7), and the one-click "This is an opt-out" for staff."""

import datetime as dt

import pytest
import time_machine

from appointments.models import Appointment
from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import sms_opted_in
from messaging import backends, dispatch
from messaging.models import Conversation, InboundMessage, Kind, OutboundMessage, Status
from messaging.services.inbox import staff_reply
from messaging.services.outbox import queue_message
from tests.factories import AppointmentFactory, PatientFactory
from tests.messaging.factories import opt_in
from tests.messaging.signing import TOKEN, text_from

pytestmark = pytest.mark.django_db
PHONE = "+16195550142"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = ""
    settings.SMS_QUIET_HOURS = (0, 24)
    settings.SMS_QUIET_HOURS_BY_STATE = {}
    with time_machine.travel(dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC), tick=True):
        yield


def last_sent(kind, phone=PHONE, **context):
    """Something the clinic texted this number (sent), as the last message before the reply."""
    row = queue_message(to_phone=phone, kind=kind, idempotency_key=f"test:{kind}:{phone}", **context)
    OutboundMessage.objects.filter(pk=row.pk).update(status=Status.SENT)
    return row


@pytest.mark.parametrize(
    "text", ["STOP please", "Stop it", "stop stop stop", "unsubscribe please", "quit it", "end texts", "No more"]
)
def test_clear_opt_outs_in_other_words_opt_out_and_stop_the_reminders(client, text):
    """Observed: these landed in the inbox, consent unchanged, and reminders continued."""
    opt_in(PHONE)
    opt_in(PHONE, SmsPurpose.MARKETING)
    appointment = AppointmentFactory(patient=PatientFactory(mobile_phone=PHONE))
    reminder = queue_message(
        to_phone=PHONE, kind=Kind.REMINDER, idempotency_key="test:reminder", appointment=appointment
    )
    text_from(client, PHONE, text)

    assert not sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL)
    assert not sms_opted_in(PHONE, SmsPurpose.MARKETING)
    dispatch.run_once()
    reminder.refresh_from_db()
    assert reminder.status == Status.SUPPRESSED


@pytest.mark.parametrize(
    "text",
    [
        "Don't call me, text me instead",
        "Take me off the waitlist",
        "Remove me from the 3pm slot",
        "Wrong number for the front desk?",
    ],
)
def test_replies_about_the_waitlist_a_slot_or_a_channel_keep_consent(client, text):
    """Observed: these opted the patient out of all texts."""
    opt_in(PHONE)
    text_from(client, PHONE, text)
    assert sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL)
    assert not SmsConsentEvent.objects.filter(action="opt_out").exists()


def test_unsure_reply_keeps_consent_flags_for_staff_and_one_click_records_the_opt_out(client, staff_client):
    opt_in(PHONE)
    text_from(client, PHONE, "Who is this?")
    conversation = Conversation.objects.get()
    inbound = InboundMessage.objects.get()
    assert sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL)
    assert conversation.needs_review and inbound.handling == InboundMessage.Handling.FLAGGED
    assert "consent kept" in conversation.review_reason

    desk = staff_client("front_desk")
    page = desk.get(f"/staff/messages/conversations/{conversation.pk}/").text
    assert "This is an opt-out" in page and "Consent is unchanged" in page
    desk.post(f"/staff/messages/conversations/{conversation.pk}/inbound/{inbound.pk}/opt-out/")

    assert not sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL) and not sms_opted_in(PHONE, SmsPurpose.MARKETING)
    event = SmsConsentEvent.objects.filter(action="opt_out").first()
    assert (event.asserted_by, event.verification, event.staff_user) == ("number", "inbound_text", desk.user)
    assert OutboundMessage.objects.filter(kind=Kind.OPT_OUT_CONFIRMATION).count() == 1
    conversation.refresh_from_db()
    assert not conversation.needs_review and conversation.reviewed_by == desk.user


def test_yes_to_a_staff_question_is_an_answer_not_an_opt_in(client, staff_client):
    """Observed: "Yes" in reply to a staff question counted as an opt-in and sent "You're resubscribed"."""
    patient = PatientFactory(mobile_phone=PHONE)
    opt_in(PHONE)
    text_from(client, PHONE, "hi, can I come earlier?")
    desk = staff_client("front_desk")
    staff_reply(conversation=Conversation.objects.get(), text="Would 2pm work?", user=desk.user)
    OutboundMessage.objects.filter(kind=Kind.STAFF_REPLY).update(status=Status.SENT)
    events_before = SmsConsentEvent.objects.count()

    text_from(client, PHONE, "Yes")

    assert SmsConsentEvent.objects.count() == events_before
    assert InboundMessage.objects.latest("received_at").handling == InboundMessage.Handling.INBOX
    assert not OutboundMessage.objects.filter(kind=Kind.OPT_IN_CONFIRMATION).exists()
    assert patient.pk


def test_yes_to_a_reminder_confirms_the_visit(client):
    appointment = AppointmentFactory(patient=PatientFactory(mobile_phone=PHONE))
    opt_in(PHONE)
    last_sent(Kind.REMINDER, appointment=appointment)
    text_from(client, PHONE, "Y")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED


def test_cancel_after_a_reminder_flags_the_visit_tells_staff_and_keeps_consent(client):
    """Observed: "cancel" opted out of everything while the appointment stayed booked, and staff
    were not told."""
    appointment = AppointmentFactory(patient=PatientFactory(mobile_phone=PHONE))
    opt_in(PHONE)
    last_sent(Kind.REMINDER, appointment=appointment)

    text_from(client, PHONE, "cancel")

    assert sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL)
    conversation = Conversation.objects.get()
    assert conversation.needs_review and f"#{appointment.pk}" in conversation.review_reason
    assert conversation.unread_count == 1
    reply = OutboundMessage.objects.get(kind=Kind.CANCEL_REQUEST_RECEIVED)
    assert "front desk" in reply.body and "reply STOP" in reply.body
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED  # staff cancel or rebook after calling


def test_cancel_after_a_marketing_text_is_an_opt_out(client):
    opt_in(PHONE)
    opt_in(PHONE, SmsPurpose.MARKETING)
    last_sent(Kind.CAMPAIGN, purpose="marketing", template="{clinic_name}: 20% off peels this week.")
    text_from(client, PHONE, "Cancel")
    assert not sms_opted_in(PHONE, SmsPurpose.MARKETING) and not sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL)


def test_no_thanks_to_an_offer_ends_marketing_only(client):
    opt_in(PHONE)
    opt_in(PHONE, SmsPurpose.MARKETING)
    last_sent(Kind.CAMPAIGN, purpose="marketing", template="{clinic_name}: 20% off peels this week.")
    text_from(client, PHONE, "No thanks")
    assert not sms_opted_in(PHONE, SmsPurpose.MARKETING)
    assert sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL)


def test_join_from_the_number_is_written_marketing_consent_confirmed_by_the_first_marketing_text(client):
    opt_in(PHONE)
    text_from(client, PHONE, "JOIN")
    event = SmsConsentEvent.objects.get(purpose="marketing")
    assert (event.action, event.asserted_by, event.verification) == ("opt_in", "number", "inbound_text")
    dispatch.run_once()
    body = next(m.body for m in backends.outbox if m.to == PHONE)
    for words in (
        "Cinrella Med Spa",
        "offers and news",
        "Up to 4 msgs/month",
        "Msg & data rates may apply",
        "HELP",
        "STOP",
    ):
        assert words in body


def test_spanish_no_mas_and_basta_opt_out(client):
    opt_in(PHONE)
    text_from(client, PHONE, "No más mensajes por favor")
    assert not sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL)

"""The twilio backend, with the real `twilio` library talking HTTP to a local server."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from consents.models import SmsConsentEvent
from messaging import dispatch
from messaging.backends import SmsSendError, TwilioBackend
from messaging.models import Kind, OutboundMessage, Status
from messaging.services import outbox
from tests.factories import PatientFactory
from tests.messaging.conftest import ACCOUNT, SERVICE
from tests.messaging.factories import opt_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def daytime():
    with time_machine.travel(dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC), tick=True):
        yield


def test_send_posts_to_the_messages_api_with_service_sid_callback_and_auth(twilio):
    result = TwilioBackend().send(to="+16195550142", body="Hello there", reference="42")
    assert result.sid.startswith("SM")
    request = twilio.requests[0]
    assert request["method"] == "POST"
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request["auth"] == f"{ACCOUNT}:secret-token"
    assert request["form"] == {
        "To": "+16195550142",
        "Body": "Hello there",
        "MessagingServiceSid": SERVICE,
        "StatusCallback": "https://app.example.test/webhooks/twilio/status/?ref=42",
    }


def test_explicit_status_callback_url_setting_wins(twilio, settings):
    settings.SMS_STATUS_CALLBACK_URL = "https://hooks.example.test/sms/status"
    TwilioBackend().send(to="+16195550142", body="Hi", reference="7")
    assert twilio.requests[0]["form"]["StatusCallback"] == "https://hooks.example.test/sms/status?ref=7"


@pytest.mark.parametrize(("status", "code", "transient"), [(500, 20500, True), (429, 20429, True), (400, 21610, False)])
def test_errors_are_classified(twilio, status, code, transient):
    twilio.responses.append((status, {"code": code, "message": "nope", "status": status}))
    with pytest.raises(SmsSendError) as raised:
        TwilioBackend().send(to="+16195550142", body="Hi", reference="1")
    assert raised.value.code == str(code)
    assert raised.value.transient is transient


def test_worker_through_twilio_21610_records_carrier_opt_out(twilio):
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = outbox.queue_message(
        to_phone=patient.mobile_phone, kind=Kind.STAFF_REPLY, idempotency_key="x", literal="Hi", patient=patient
    )
    twilio.responses.append(
        (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400})
    )
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SUPPRESSED and row.error_code == "21610"
    assert SmsConsentEvent.objects.filter(
        source=SmsConsentEvent.Source.CARRIER_ERROR, action="opt_out", purpose="transactional"
    ).exists()


def test_worker_sends_through_twilio_and_stores_the_sid(twilio):
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = outbox.queue_message(
        to_phone=patient.mobile_phone, kind=Kind.STAFF_REPLY, idempotency_key="x", literal="Hi", patient=patient
    )
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SENT and row.provider_sid == twilio.messages[0]["sid"]
    assert twilio.requests[0]["form"]["StatusCallback"].endswith(f"?ref={row.pk}")
    assert twilio.requests[0]["form"]["Body"] == "Hi Reply STOP to opt out."


def test_find_sent_lists_our_messages_to_the_number_since_the_attempt_began(twilio):
    backend = TwilioBackend()
    earlier = backend.send(to="+16195550142", body="Exactly this", reference="8")
    since = timezone.now()
    with time_machine.travel(since + dt.timedelta(seconds=2)):
        sent = backend.send(to="+16195550142", body="Exactly this", reference="9")
        backend.send(to="+16195550142", body="Other words", reference="10")
        backend.send(to="+16195550199", body="Exactly this", reference="11")

    found = backend.find_sent(reference="9", to="+16195550142", body="Exactly this", since=since)

    assert [m.sid for m in found] == [sent.sid]  # not the earlier one, another text or another number
    assert earlier.sid != sent.sid
    assert twilio.requests[-1]["method"] == "GET" and twilio.requests[-1]["query"]["To"] == "+16195550142"


def test_unreachable_provider_is_a_transient_error(settings, twilio):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(SmsSendError) as raised:
        TwilioBackend().send(to="+16195550142", body="Hi", reference="1")
    assert raised.value.transient


def test_no_outbox_row_left_sending_after_twilio_500(twilio):
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    outbox.queue_message(
        to_phone=patient.mobile_phone, kind=Kind.STAFF_REPLY, idempotency_key="x", literal="Hi", patient=patient
    )
    twilio.responses.append((503, {"code": 20503, "message": "unavailable", "status": 503}))
    dispatch.run_once()
    row = OutboundMessage.objects.get()
    assert row.status == Status.PENDING and row.attempts == 1 and row.error_code == "20503"

"""Reconciliation after a crash or an ambiguous send, against the local Twilio server with the real
`twilio` library (issue 13 point 1, issue 17 point 10).

Twilio keeps no client reference on a message, so a message is found by the one thing the worker
makes unique to a row: its number and the time since the row's attempt began (at most one message
per number is ever in flight), confirmed by its text, ignoring messages whose SID is already ours."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from messaging import dispatch
from messaging.models import Kind, OutboundMessage, Status
from messaging.services import inbound, outbox
from tests.factories import PatientFactory
from tests.messaging.factories import opt_in

pytestmark = pytest.mark.django_db

NOON_PACIFIC = dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC)
NUMBER = "+16195550142"


@pytest.fixture(autouse=True)
def daytime():
    with time_machine.travel(NOON_PACIFIC, tick=True):
        yield


def text_in(body: str, sid: str):
    return inbound.receive_inbound(message_sid=sid, from_phone=NUMBER, to_phone="+18582560289", body=body)


def help_reply(sid: str) -> OutboundMessage:
    return OutboundMessage.objects.get(idempotency_key=f"inbound:{sid}:reply")


def killed_mid_send(row: OutboundMessage, *, seconds_ago: int = 6) -> None:
    """What `kill -9` of the sender leaves behind: the row claimed ('sending', committed before the
    API call) and never answered."""
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=Status.SENDING, attempts=1, claimed_at=timezone.now() - dt.timedelta(seconds=seconds_ago)
    )


def a_new_booking_confirmation() -> OutboundMessage:
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    return outbox.queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.BOOKING_CONFIRMATION,
        idempotency_key="new-booking",
        literal="You're booked.",
        patient=patient,
    )


def past_the_sending_timeout(settings):
    return time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS + 30))


def test_observed_repro_a_second_help_killed_mid_send_never_takes_the_first_replys_sid(twilio, settings):
    # Issue 13, deterministic repro: HELP, reply sent; HELP again, sender killed mid-send (Twilio
    # never got it); past the timeout every send_due_messages run failed with IntegrityError
    # (outbox_unique_provider_sid) and a new booking's confirmation stayed pending.
    text_in("HELP", "SMin1")
    dispatch.run_once()
    first = help_reply("SMin1")
    first.refresh_from_db()
    assert first.status == Status.SENT
    text_in("HELP", "SMin2")
    second = help_reply("SMin2")
    assert second.body == first.body  # fixed wording: (to, body) cannot tell them apart
    killed_mid_send(second)
    confirmation = a_new_booking_confirmation()

    with past_the_sending_timeout(settings):
        call_command("send_due_messages", verbosity=0)
        call_command("send_due_messages", verbosity=0)

    first.refresh_from_db()
    second.refresh_from_db()
    confirmation.refresh_from_db()
    assert confirmation.status == Status.SENT
    assert second.provider_sid != first.provider_sid
    # Twilio never had the second reply: it is sent again, once (issue 17 point 10), not left for a person.
    assert second.status == Status.SENT
    assert len(twilio.sent_to(NUMBER)) == 2
    assert {m["sid"] for m in twilio.sent_to(NUMBER)} == {first.provider_sid, second.provider_sid}


def test_a_killed_send_that_twilio_did_get_is_matched_to_its_own_message(twilio, settings):
    text_in("HELP", "SMin1")
    dispatch.run_once()
    first = help_reply("SMin1")
    text_in("HELP", "SMin2")
    second = help_reply("SMin2")
    killed_mid_send(second, seconds_ago=2)
    # The request had reached Twilio before the kill: Twilio accepted it, nobody recorded the SID.
    accepted = twilio.create({"To": NUMBER, "Body": second.body})

    with past_the_sending_timeout(settings):
        result = dispatch.run_once()

    second.refresh_from_db()
    first.refresh_from_db()
    assert result.reconciled == 1
    assert second.status == Status.SENT and second.provider_sid == accepted["sid"]
    assert first.provider_sid != accepted["sid"]
    assert len(twilio.posts()) == 1  # nothing sent again


def test_lookup_before_retry_never_takes_an_earlier_messages_sid(twilio, settings):
    # Issue 13: "The same false match can reach _record_sent() through lookup-before-retry".
    settings.SMS_HTTP_TIMEOUT_SECONDS = 0.5
    text_in("HELP", "SMin1")
    dispatch.run_once()
    first = help_reply("SMin1")
    first.refresh_from_db()
    text_in("HELP", "SMin2")
    second = help_reply("SMin2")
    twilio.hang_next(1.5, create=False)  # read timeout; Twilio lost the request
    dispatch.run_once()
    second.refresh_from_db()
    assert second.status == Status.PENDING

    with time_machine.travel(second.next_attempt_at + dt.timedelta(seconds=1)):
        dispatch.run_once()

    second.refresh_from_db()
    assert second.status == Status.SENT
    assert second.provider_sid not in {"", first.provider_sid}
    assert len(twilio.sent_to(NUMBER)) == 2


def test_two_copies_at_twilio_since_the_attempt_began_are_truly_ambiguous_and_go_to_a_manager(twilio, settings):
    text_in("HELP", "SMin1")
    row = help_reply("SMin1")
    killed_mid_send(row, seconds_ago=2)
    twilio.create({"To": NUMBER, "Body": row.body})
    twilio.create({"To": NUMBER, "Body": row.body})

    with past_the_sending_timeout(settings):
        result = dispatch.run_once()

    row.refresh_from_db()
    assert result.unknown == 1
    assert row.status == Status.UNKNOWN and row.provider_sid == ""
    assert "2 texts to this number" in row.error_reason
    assert twilio.posts() == []


def test_a_late_status_callback_with_our_reference_settles_a_row_queued_again(twilio, settings):
    from messaging.services import delivery

    text_in("HELP", "SMin1")
    row = help_reply("SMin1")
    killed_mid_send(row, seconds_ago=2)
    with past_the_sending_timeout(settings):
        # Twilio down for the look-up, then a status callback proves the first attempt went out.
        twilio.down = True
        dispatch.run_once()
        delivery.record_delivery_status(message_sid="SMlate", provider_status="delivered", reference=str(row.pk))
        twilio.down = False
        dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.DELIVERED and row.provider_sid == "SMlate"
    assert twilio.posts() == []

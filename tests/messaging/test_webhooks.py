"""Twilio webhooks: signatures, keywords, free-text revocation, idempotency, status callbacks."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse
from twilio.request_validator import RequestValidator

from appointments.models import Appointment
from cinrella import crypto
from consents.models import SmsConsentEvent
from consents.selectors import sms_opted_in
from messaging import backends, dispatch
from messaging.models import Conversation, InboundMessage, Kind, OutboundMessage, Status
from messaging.services import inbox, notifications, outbox
from messaging.services.inbound import receive_inbound
from tests.factories import AppointmentFactory, PatientFactory
from tests.messaging.factories import opt_in

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token-test"
PHONE = "+16195550142"
sids = itertools.count(1)


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = ""
    with time_machine.travel(dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC), tick=True):
        yield settings


def signed_post(client, name, params, *, url=None, token=TOKEN, secure=False, **extra):
    path = reverse(name)
    full = url or f"{'https' if secure else 'http'}://testserver{path}"
    signature = RequestValidator(token).compute_signature(full, params)
    return client.post(path, params, headers={"X-Twilio-Signature": signature}, secure=secure, **extra)


def inbound(client, body, phone=PHONE, sid=None, **more):
    params = {"MessageSid": sid or f"SM{next(sids):032d}", "From": phone, "To": "+18582560289", "Body": body, **more}
    return signed_post(client, "messaging-twilio-inbound", params)


def ledger(phone=PHONE):
    return list(
        SmsConsentEvent.objects.filter(phone_bidx=crypto.blind_index("phone", phone))
        .order_by("id")
        .values_list("purpose", "action", "source")
    )


# --- signatures ---------------------------------------------------------------------------------


def test_forged_signature_is_refused_and_changes_nothing(client):
    params = {"MessageSid": "SMforged", "From": PHONE, "Body": "STOP"}
    response = client.post(reverse("messaging-twilio-inbound"), params, headers={"X-Twilio-Signature": "bm9wZQ=="})
    assert response.status_code == 403
    assert not InboundMessage.objects.exists() and ledger() == []


def test_missing_signature_is_refused(client):
    response = client.post(reverse("messaging-twilio-inbound"), {"MessageSid": "SMx", "From": PHONE, "Body": "STOP"})
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_signature_made_with_another_token_is_refused(client):
    response = signed_post(
        client, "messaging-twilio-inbound", {"MessageSid": "SMy", "From": PHONE, "Body": "hi"}, token="other"
    )
    assert response.status_code == 403


def test_tampered_body_is_refused(client):
    params = {"MessageSid": "SMz", "From": PHONE, "Body": "hello"}
    path = reverse("messaging-twilio-inbound")
    signature = RequestValidator(TOKEN).compute_signature(f"http://testserver{path}", params)
    response = client.post(path, {**params, "Body": "STOP"}, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_behind_a_tls_proxy_the_https_url_twilio_used_validates(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    params = {"MessageSid": "SMproxy", "From": PHONE, "Body": "hello"}
    path = reverse("messaging-twilio-inbound")
    signature = RequestValidator(TOKEN).compute_signature(f"https://testserver{path}", params)
    response = client.post(
        path, params, headers={"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https"}
    )  # plain HTTP from the proxy
    assert response.status_code == 200
    assert InboundMessage.objects.filter(message_sid="SMproxy").exists()


def test_public_base_url_is_the_url_validated(client, settings):
    settings.PUBLIC_BASE_URL = "https://app.cinrella.test"
    params = {"MessageSid": "SMpub", "From": PHONE, "Body": "hello"}
    response = signed_post(
        client, "messaging-twilio-inbound", params, url="https://app.cinrella.test/webhooks/twilio/inbound/"
    )
    assert response.status_code == 200


# --- keywords -------------------------------------------------------------------------------------

STOP_VARIANTS = [
    "STOP", "stop", "Stop", " stop ", "STOP.", "stop!", "Stop!!!", "s.t.o.p", "\tSTOP\n", "STOPALL", "stop all",
    "UNSUBSCRIBE", "Unsubscribe.", "CANCEL", "cancel", "END", "End", "QUIT", "quit!", "REVOKE", "OPTOUT",
    "opt-out", "Opt Out", "ＳＴＯＰ",
]  # fmt: skip


@pytest.mark.parametrize("text", STOP_VARIANTS)
def test_stop_keyword_variants_opt_out_of_both_purposes(client, text):
    opt_in(PHONE)
    opt_in(PHONE, "marketing")
    response = inbound(client, text)
    assert response.status_code == 200
    assert not sms_opted_in(PHONE, "transactional") and not sms_opted_in(PHONE, "marketing")
    events = SmsConsentEvent.objects.filter(source="keyword", action="opt_out")
    assert sorted(events.values_list("purpose", flat=True)) == ["marketing", "transactional"]
    assert events.first().disclosure_text == text[:1000]
    assert InboundMessage.objects.get().handling == InboundMessage.Handling.OPT_OUT
    reply = OutboundMessage.objects.get()
    assert reply.kind == Kind.OPT_OUT_CONFIRMATION


@pytest.mark.parametrize("text", ["START", "start", " Yes ", "yes!", "UNSTOP", "un-stop"])
def test_start_keywords_opt_back_in_to_transactional(client, text):
    inbound(client, "STOP")
    inbound(client, text)
    assert sms_opted_in(PHONE, "transactional")
    assert not sms_opted_in(PHONE, "marketing")  # marketing needs its own opt-in (§3)
    assert OutboundMessage.objects.filter(kind=Kind.OPT_IN_CONFIRMATION).count() == 1


@pytest.mark.parametrize("text", ["HELP", "help", "Help?", " info ", "INFO."])
def test_help_keywords_reply_with_clinic_details(client, text):
    inbound(client, text)
    reply = OutboundMessage.objects.get(kind=Kind.HELP_REPLY)
    for words in ("Cinrella Med Spa", "(858) 256-0289", "www.cinrellamedspa.com", "Msg frequency varies",
                  "Msg & data rates may apply", "Reply STOP to opt out"):  # fmt: skip
        assert words in reply.body
    assert ledger() == [("transactional", "help", "keyword")]
    dispatch.run_once()  # a HELP reply goes out even without an opt-in (carrier rules)
    assert backends.outbox[0].body == reply.body


@pytest.mark.parametrize(("opt_out_type", "body"), [("STOP", "arret"), ("START", "begin"), ("HELP", "ayuda")])
def test_twilio_opt_out_type_is_honoured_and_twilio_s_own_reply_is_not_duplicated(client, opt_out_type, body):
    inbound(client, body, OptOutType=opt_out_type)
    expected = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}[opt_out_type]
    assert {action for _, action, _ in ledger()} == {expected}
    assert not OutboundMessage.objects.exists()  # Advanced Opt-Out already answered


def test_second_stop_gets_no_second_confirmation(client):
    inbound(client, "STOP")
    inbound(client, "stop")
    assert OutboundMessage.objects.filter(kind=Kind.OPT_OUT_CONFIRMATION).count() == 1


def test_stop_confirmation_carries_no_marketing(client):
    inbound(client, "STOP")
    body = OutboundMessage.objects.get().body
    assert (
        body == "Cinrella Med Spa: You're unsubscribed and will get no more texts from us. Reply START to resubscribe."
    )


def test_duplicate_message_sid_makes_one_ledger_event(client):
    assert inbound(client, "STOP", sid="SMdup").status_code == 200
    assert inbound(client, "STOP", sid="SMdup").status_code == 200
    assert InboundMessage.objects.count() == 1
    assert len(ledger()) == 2  # one per purpose, once
    assert OutboundMessage.objects.count() == 1


# --- free-text revocation ---------------------------------------------------------------------------

REVOCATIONS = [
    "please stop texting me",
    "Stop sending me messages",
    "Don't text me anymore",
    "do not contact me again",
    "Remove me from your list",
    "take me off this list please",
    "no more texts",
    "No más",
    "no mas mensajes por favor",
    "No me envíen mensajes",
    "I want to unsubscribe",
    "leave me alone",
    "Wrong number",
]


@pytest.mark.parametrize("text", REVOCATIONS)
def test_free_text_revocation_opts_out_and_flags_for_staff(client, text):
    patient = PatientFactory(mobile_phone=PHONE)
    opt_in(PHONE)
    inbound(client, text)
    assert not sms_opted_in(PHONE, "transactional")
    assert SmsConsentEvent.objects.filter(source="free_text", action="opt_out", patient=patient).count() == 2
    conversation = Conversation.objects.get()
    assert conversation.needs_review and conversation.unread_count == 1
    assert InboundMessage.objects.get().handling == InboundMessage.Handling.REVOCATION
    assert OutboundMessage.objects.filter(kind=Kind.OPT_OUT_CONFIRMATION).count() == 1


@pytest.mark.parametrize(
    "text",
    [
        "Can I stop by at 3 to pick up my receipt?",
        "Running 5 min late",
        "Thanks! See you soon",
        "Can I move to Friday?",
    ],
)
def test_ordinary_text_lands_in_the_inbox(client, text):
    opt_in(PHONE)
    inbound(client, text)
    assert sms_opted_in(PHONE, "transactional")
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1 and not conversation.needs_review
    assert InboundMessage.objects.get().handling == InboundMessage.Handling.INBOX
    assert not OutboundMessage.objects.exists()


def test_unknown_number_gets_a_conversation_without_patient(client):
    inbound(client, "hello?", phone="+13055550100")
    conversation = Conversation.objects.get()
    assert conversation.patient is None and conversation.phone == "+13055550100"


def test_later_texts_from_one_phone_share_the_conversation_and_count_as_unread(client):
    PatientFactory(mobile_phone=PHONE)
    inbound(client, "Running late")
    inbound(client, "HELP")  # answered automatically: not unread
    inbound(client, "Sorry, 10 minutes")
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2 and conversation.inbound.count() == 3


def test_a_patient_added_after_the_first_text_is_linked_to_the_conversation(client):
    inbound(client, "hello?")
    assert Conversation.objects.get().patient is None
    patient = PatientFactory(mobile_phone=PHONE)
    inbound(client, "it's Ana, booked online")
    conversation = Conversation.objects.get()
    assert conversation.patient == patient
    assert InboundMessage.objects.order_by("id").last().patient == patient


def test_a_revocation_flags_a_conversation_staff_had_already_reviewed(client, django_user_model):
    PatientFactory(mobile_phone=PHONE)
    inbound(client, "wrong number")
    conversation = Conversation.objects.get()
    inbox.mark_conversation_reviewed(conversation=conversation, user=django_user_model.objects.create(username="m"))
    inbound(client, "Running late")
    conversation.refresh_from_db()
    assert not conversation.needs_review and conversation.reviewed_by is not None
    inbound(client, "please stop texting me")
    conversation.refresh_from_db()
    assert conversation.needs_review and conversation.reviewed_by is None and conversation.reviewed_at is None
    assert "opt-out" in conversation.review_reason


def test_an_inbox_text_costs_one_statement(client, django_assert_num_queries):
    # One statement files it (conversation upsert with the patient lookup, and the inbound row):
    # atomic on its own, so no BEGIN/COMMIT round trips. The webhook must stay fast at 100k patients
    # (issue #6 benchmark).
    PatientFactory(mobile_phone=PHONE)
    inbound(client, "warm-up")
    with django_assert_num_queries(3) as captured:  # in a test, inside a savepoint and its RELEASE
        inbound(client, "Running 5 minutes late")
    savepoint, filing, release = (q["sql"] for q in captured.captured_queries)
    assert "SAVEPOINT" in savepoint and "RELEASE SAVEPOINT" in release
    assert "INTO messaging_conversation" in filing and "INTO messaging_inboundmessage" in filing
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2 and conversation.patient is not None
    assert InboundMessage.objects.filter(conversation=conversation, patient=conversation.patient).count() == 2


def test_a_stop_writes_both_purposes_in_one_statement(client, django_assert_num_queries):
    PatientFactory(mobile_phone=PHONE)
    opt_in(PHONE)
    inbound(client, "hi")
    # savepoint (BEGIN), conversation + inbound row, consent state, ledger, the reply (template,
    # insert: its key comes from the MessageSid just inserted), release (COMMIT)
    with django_assert_num_queries(7):
        inbound(client, "STOP")
    assert SmsConsentEvent.objects.filter(action="opt_out").count() == 2
    assert OutboundMessage.objects.filter(kind=Kind.OPT_OUT_CONFIRMATION).count() == 1


def test_a_duplicate_reply_key_rolls_the_whole_text_back(client):
    # The reply is inserted without a look-up or savepoint: should its key ever exist already, the
    # inbound row, ledger events and conversation update roll back with it, and the webhook still
    # answers with the first row when there is one.
    PatientFactory(mobile_phone=PHONE)
    outbox.queue_message(to_phone=PHONE, kind=Kind.HELP_REPLY, idempotency_key="inbound:SMtaken:reply")
    with pytest.raises(IntegrityError):
        receive_inbound(message_sid="SMtaken", from_phone=PHONE, to_phone="+18582560289", body="HELP")
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists() and not ledger()


def test_a_duplicate_inbox_text_changes_nothing(client):
    assert inbound(client, "Running late", sid="SMdupinbox").status_code == 200
    assert inbound(client, "Running late", sid="SMdupinbox").status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1 and InboundMessage.objects.count() == 1


# --- C / CONFIRM -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["C", "c", "Confirm", "CONFIRM!"])
def test_confirm_sets_the_next_upcoming_appointment_confirmed(client, text):
    patient = PatientFactory(mobile_phone=PHONE)
    opt_in(PHONE)
    now = dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC)
    later = AppointmentFactory(patient=patient, starts_at=now + dt.timedelta(days=9))
    sooner = AppointmentFactory(patient=patient, starts_at=now + dt.timedelta(days=2))
    AppointmentFactory(patient=patient, starts_at=now - dt.timedelta(days=2))
    inbound(client, text)
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert sooner.status == Appointment.Status.CONFIRMED and later.status == Appointment.Status.BOOKED
    reply = OutboundMessage.objects.get(kind=Kind.APPOINTMENT_CONFIRMED)
    assert reply.appointment == sooner and "is confirmed" in reply.body


def test_confirm_without_upcoming_appointment_goes_to_the_inbox(client):
    PatientFactory(mobile_phone=PHONE)
    inbound(client, "C")
    assert InboundMessage.objects.get().handling == InboundMessage.Handling.INBOX
    assert Conversation.objects.get().unread_count == 1


# --- status callbacks ----------------------------------------------------------------------------------


def sent_message():
    patient = PatientFactory(mobile_phone=PHONE)
    opt_in(PHONE)
    row = outbox.queue_message(
        to_phone=PHONE, kind=Kind.STAFF_REPLY, idempotency_key="s", literal="Hi", patient=patient
    )
    dispatch.run_once()
    row.refresh_from_db()
    return row


def status(client, row, value, **more):
    params = {"MessageSid": row.provider_sid, "MessageStatus": value, **more}
    path = reverse("messaging-twilio-status") + f"?ref={row.pk}"
    signature = RequestValidator(TOKEN).compute_signature(f"http://testserver{path}", params)
    return client.post(path, params, headers={"X-Twilio-Signature": signature})


def test_status_callbacks_never_move_backwards(client):
    row = sent_message()
    assert status(client, row, "delivered").status_code == 204
    assert status(client, row, "sent").status_code == 204  # late, out of order
    assert status(client, row, "queued").status_code == 204
    row.refresh_from_db()
    assert row.status == Status.DELIVERED


def test_undelivered_callback_records_the_human_reason(client):
    row = sent_message()
    status(client, row, "undelivered", ErrorCode="30005")
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.error_code == "30005" and "does not exist" in row.error_reason
    status(client, row, "delivered")  # a final status stays final
    row.refresh_from_db()
    assert row.status == Status.FAILED


def test_status_callback_with_forged_signature_changes_nothing(client):
    row = sent_message()
    response = client.post(
        reverse("messaging-twilio-status"),
        {"MessageSid": row.provider_sid, "MessageStatus": "delivered"},
        headers={"X-Twilio-Signature": "Zm9yZ2Vk"},
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_help_reply_is_sent_right_after_the_webhook_commits(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbound(client, "HELP")
    reply = OutboundMessage.objects.get(kind=Kind.HELP_REPLY)
    assert reply.status == Status.SENT  # the dispatch task ran (ImmediateBackend in tests)
    assert backends.outbox[0].body == reply.body


def test_demo_data_loads_twice_without_duplicates():
    import io

    from messaging import demo

    demo.load(io.StringIO())
    demo.load(io.StringIO())
    assert InboundMessage.objects.count() == 3
    assert Conversation.objects.filter(needs_review=True).count() == 1


def test_stop_from_a_short_code_lands_in_the_inbox_without_a_500(client):
    response = inbound(client, "STOP", phone="22395")
    assert response.status_code == 200
    assert InboundMessage.objects.get().handling == InboundMessage.Handling.INBOX
    assert not SmsConsentEvent.objects.exists() and not OutboundMessage.objects.exists()


def test_marketing_double_opt_in_confirmation_is_sent_with_the_marketing_program():
    patient = PatientFactory(mobile_phone=PHONE)
    opt_in(PHONE, "marketing")
    row = notifications.queue_double_opt_in(phone=PHONE, patient=patient, reference="ev9", purpose="marketing")
    assert row.body == (
        "Cinrella Med Spa: You're subscribed to offers and news by text. Msg frequency varies. "
        "Msg & data rates may apply. Reply HELP for help, STOP to opt out."
    )
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_with_database_tasks_the_dispatch_task_commits_with_the_reply(
    client, settings, django_capture_on_commit_callbacks
):
    # django_tasks_db (production): the task row is written in the webhook's transaction, so it
    # appears exactly when the reply does, with no commit of its own.
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks() as callbacks:
        inbound(client, "HELP")
    assert not callbacks
    assert OutboundMessage.objects.filter(kind=Kind.HELP_REPLY).count() == 1
    assert DBTaskResult.objects.filter(task_path="messaging.tasks.dispatch_due_messages").count() == 1


def test_with_database_tasks_a_rolled_back_reply_leaves_no_task(settings):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with pytest.raises(RuntimeError), transaction.atomic():
        receive_inbound(message_sid="SMrb", from_phone=PHONE, to_phone="+18582560289", body="HELP")
        raise RuntimeError("the caller's transaction fails")
    assert not DBTaskResult.objects.exists() and not OutboundMessage.objects.exists()


# --- picture messages (issue 17 point 11) -------------------------------------------------------


def test_observed_a_picture_message_no_longer_shows_as_empty(client, staff_client):
    # Issue 17: "picture messages (MMS) show as empty". The count is kept; the media are not fetched.
    response = inbound(
        client, "", NumMedia="2", MediaUrl0="https://api.twilio.com/x/Media/ME1", MediaContentType0="image/jpeg"
    )
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert message.media_count == 2 and message.body == ""
    page = staff_client("front_desk").get(reverse("messaging-conversation", args=[message.conversation_id])).text
    assert "Picture message · 2 pictures (not shown here)" in page
    assert "api.twilio.com" not in page


def test_a_picture_with_words_keeps_both_and_a_keyword_still_counts(client):
    inbound(client, "STOP", NumMedia="1")
    message = InboundMessage.objects.get()
    assert message.media_count == 1 and message.handling == InboundMessage.Handling.OPT_OUT

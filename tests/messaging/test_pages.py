"""Staff pages: inbox, reply, logs, templates, campaigns, simulator."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from consents.models import SmsConsentEvent
from messaging import backends, dispatch, templating
from messaging.models import Campaign, Conversation, InboundMessage, Kind, MessageTemplate, OutboundMessage, Status
from messaging.services import appointment_messages, campaigns, delivery, inbound, outbox
from tests.factories import AppointmentFactory, PatientFactory, ServiceFactory
from tests.messaging.factories import opt_in

pytestmark = pytest.mark.django_db

DAY = dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC)  # noon in San Diego


@pytest.fixture(autouse=True)
def daytime():
    with time_machine.travel(DAY, tick=True):
        yield


def text_in(phone, body, sid):
    return inbound.receive_inbound(message_sid=sid, from_phone=phone, to_phone="+18582560289", body=body)


def test_inbox_lists_conversations_with_unread_counts_and_flags(staff_client, django_assert_max_num_queries):
    patients = PatientFactory.create_batch(5)
    for i, p in enumerate(patients):
        text_in(p.mobile_phone, "Running late", f"SMa{i}")
        text_in(p.mobile_phone, "Sorry!", f"SMb{i}")
    text_in(patients[0].mobile_phone, "please stop texting me", "SMrev")
    client = staff_client("front_desk")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("messaging-inbox"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 flagged conversation to review" in html
    assert html.count("Revocation — review") == 1
    assert patients[1].full_name in html and '<span class="badge">2</span>' in html


def test_inbox_is_not_for_billing(staff_client):
    assert staff_client("billing").get(reverse("messaging-inbox")).status_code == 403


def test_opening_a_conversation_marks_it_read_and_shows_the_thread(staff_client):
    patient = PatientFactory()
    text_in(patient.mobile_phone, "Can I move to Friday?", "SM1")
    conversation = Conversation.objects.get()
    response = staff_client("front_desk").get(reverse("messaging-conversation", args=[conversation.pk]))
    assert "Can I move to Friday?" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_staff_reply_is_queued_as_transactional_and_consent_checked(staff_client):
    patient = PatientFactory()
    text_in(patient.mobile_phone, "Can I move to Friday?", "SM1")
    conversation = Conversation.objects.get()
    client = staff_client("front_desk")
    page = client.get(reverse("messaging-conversation", args=[conversation.pk])).content.decode()
    assert "no current opt-in for appointment texts" in page
    response = client.post(reverse("messaging-reply", args=[conversation.pk]), {"text": "Yes, Friday 3pm works."})
    assert response.status_code == 302
    row = OutboundMessage.objects.get(kind=Kind.STAFF_REPLY)
    assert row.purpose == "transactional" and row.sent_by == client.user
    assert row.body == "Yes, Friday 3pm works. Reply STOP to opt out."
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SUPPRESSED  # no transactional opt-in on record


def test_empty_reply_shows_an_error_not_a_500(staff_client):
    patient = PatientFactory()
    text_in(patient.mobile_phone, "hi", "SM1")
    conversation = Conversation.objects.get()
    response = staff_client("front_desk").post(reverse("messaging-reply", args=[conversation.pk]), {"text": "   "})
    assert response.status_code == 400 and "This field is required." in response.content.decode()


def test_an_overlong_reply_is_refused_whole_with_its_length_not_cut(staff_client):
    patient = PatientFactory()
    text_in(patient.mobile_phone, "hi", "SM1")
    conversation = Conversation.objects.get()
    client = staff_client("front_desk")
    page = client.get(reverse("messaging-conversation", args=[conversation.pk])).content.decode()
    assert "maxlength" not in page  # a browser would cut a pasted reply silently

    response = client.post(reverse("messaging-reply", args=[conversation.pk]), {"text": "a" * 700})

    html = response.content.decode()
    assert response.status_code == 400 and "Keep a reply to 640 characters: this one has 700." in html
    assert "a" * 700 in html  # what was typed is kept in the box
    assert not OutboundMessage.objects.filter(kind=Kind.STAFF_REPLY).exists()


def test_reply_during_quiet_hours_warns(staff_client):
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    text_in(patient.mobile_phone, "hi", "SM1")
    conversation = Conversation.objects.get()
    with time_machine.travel(dt.datetime(2026, 6, 11, 5, 0, tzinfo=dt.UTC), tick=True):  # 22:00 PDT
        client = staff_client("front_desk")
        page = client.get(reverse("messaging-conversation", args=[conversation.pk])).content.decode()
        assert "Quiet hours for this number" in page
        response = client.post(reverse("messaging-reply", args=[conversation.pk]), {"text": "OK"}, follow=True)
    assert "quiet hours" in response.content.decode()


def test_flagged_revocation_can_be_marked_reviewed(staff_client):
    patient = PatientFactory()
    text_in(patient.mobile_phone, "don't text me", "SM1")
    conversation = Conversation.objects.get()
    client = staff_client("front_desk")
    client.post(reverse("messaging-reviewed", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert not conversation.needs_review and conversation.reviewed_by == client.user


def test_a_flagged_revocation_says_when_the_number_has_since_opted_back_in(staff_client):
    patient = PatientFactory()
    text_in(patient.mobile_phone, "please stop texting me", "SM1")
    conversation = Conversation.objects.get()
    client = staff_client("front_desk")
    url = reverse("messaging-conversation", args=[conversation.pk])
    assert "it has since opted back in" not in client.get(url).content.decode()

    text_in(patient.mobile_phone, "START", "SM2")

    html = client.get(url).content.decode()
    assert "This number was opted out of all texts; it has since opted back in to appointment texts." in html


def test_patient_and_appointment_logs_show_status_and_failure_reasons(staff_client, django_assert_max_num_queries):
    appointment = AppointmentFactory()
    patient = appointment.patient
    for i in range(5):
        outbox.queue_message(
            to_phone=patient.mobile_phone,
            kind=Kind.REMINDER,
            idempotency_key=f"r{i}",
            literal="x",
            patient=patient,
            appointment=appointment,
        )
    OutboundMessage.objects.filter(idempotency_key="r0").update(
        status=Status.FAILED, error_code="30007", error_reason=delivery.error_reason("30007")
    )
    OutboundMessage.objects.filter(idempotency_key="r1").update(
        status=Status.SUPPRESSED, error_code="consent", error_reason="No transactional SMS opt-in on record."
    )
    client = staff_client("front_desk")
    with django_assert_max_num_queries(10):
        html = client.get(reverse("messaging-patient-log", args=[patient.pk])).content.decode()
    assert "Filtered by the carrier" in html and html.count("Appointment reminder") == 5
    assert "No transactional SMS opt-in on record." in html and ">consent<" not in html  # no internal codes
    html = client.get(reverse("messaging-appointment-log", args=[appointment.pk])).content.decode()
    assert "30007" in html
    assert client.get(reverse("messaging-patient-log", args=[999999])).status_code == 404


def set_aside(key, status, reason):
    patient = PatientFactory()
    row = outbox.queue_message(
        to_phone=patient.mobile_phone, kind=Kind.STAFF_REPLY, idempotency_key=key, literal="x", patient=patient
    )
    OutboundMessage.objects.filter(pk=row.pk).update(status=status, attempts=1, error_reason=reason)
    return row


def set_aside_messages():
    return (
        set_aside("u", Status.UNKNOWN, "Check with the patient before resending."),
        set_aside("q", Status.QUARANTINED, "Set aside: cannot be decrypted (FIELD_ENCRYPTION_KEYS)."),
    )


def test_observed_front_desk_no_longer_sees_resend_buttons_that_answer_403(staff_client):
    # Issue 17 point 10: "front desk sees those buttons and gets 403".
    unknown = set_aside("u", Status.UNKNOWN, "Check with the patient before resending.")
    client = staff_client("front_desk")
    html = client.get(reverse("messaging-log")).content.decode()
    assert "Check with the patient before resending." in html  # the status and reason are shown
    assert "Resend after checking" not in html and "Send again" not in html
    assert client.post(reverse("messaging-resend", args=[unknown.pk])).status_code == 403


def test_manager_resends_an_unknown_and_a_set_aside_message_after_checking(staff_client):
    unknown, quarantined = set_aside_messages()
    client = staff_client("manager")
    html = client.get(reverse("messaging-log")).content.decode()
    assert "Resend after checking" in html and "Send again" in html
    assert "Set aside — needs attention" in html
    for row in (unknown, quarantined):
        response = client.post(reverse("messaging-resend", args=[row.pk]))
        assert response.status_code == 302
        row.refresh_from_db()
        assert row.status == Status.PENDING and row.error_reason.startswith("Resend approved by staff user")


def test_manager_edits_a_template_and_unknown_placeholders_are_refused(staff_client):
    client = staff_client("manager")
    url = reverse("messaging-template-edit", args=["reminder"])
    response = client.post(url, {"body": "Hi {firstname}, see you {date}"})
    assert response.status_code == 200 and "Unknown placeholder(s): {firstname}." in response.content.decode()
    client.post(url, {"body": "{clinic_name}: see you {date} at {time}, {first_name}!"})
    assert MessageTemplate.objects.get(kind="reminder").updated_by == client.user
    appointment = AppointmentFactory()
    appointment_messages.on_appointment_booked(appointment=appointment)
    reminder = OutboundMessage.objects.filter(kind=Kind.REMINDER).first()
    assert reminder.body.startswith("Cinrella Med Spa: see you") and reminder.body.endswith("Reply STOP to opt out.")


@pytest.mark.parametrize("kind", templating.PLACEHOLDERS_BY_KIND)
def test_every_default_wording_passes_its_own_kind_rules(kind):
    templating.validate_template(templating.DEFAULT_TEMPLATES[kind], kind=kind)  # raises if not


def test_a_placeholder_the_message_cannot_fill_is_refused(staff_client):
    client = staff_client("manager")

    response = client.post(
        reverse("messaging-template-edit", args=["reminder"]), {"body": "{clinic_name}: you owe {amount}"}
    )

    assert response.status_code == 200
    assert (
        "{amount} would be sent blank: this message (Appointment reminder) has no value for it."
        in response.content.decode()
    )
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize(
    ("kind", "body", "missing"),
    [
        (
            "help_reply",
            "{clinic_name}: call us. Msg frequency varies. Msg & data rates may apply. Reply STOP",
            "{clinic_phone}",
        ),
        (
            "help_reply",
            "{clinic_name}: help at {clinic_phone}. Msg frequency varies. Msg & data rates may apply.",
            "Reply STOP",
        ),
        ("double_opt_in", "{clinic_name}: you're in! Reply STOP to opt out.", "{program}"),
        ("opt_in_confirmation", "{clinic_name}: welcome back!", "Reply HELP"),
        ("opt_out_confirmation", "You're unsubscribed.", "{clinic_name}"),
    ],
)
def test_compliance_replies_keep_their_required_wording(staff_client, kind, body, missing):
    client = staff_client("manager")
    url = reverse("messaging-template-edit", args=[kind])
    assert "Carriers require this reply to keep" in client.get(url).content.decode()

    response = client.post(url, {"body": body})

    html = response.content.decode()
    assert response.status_code == 200 and "This reply must keep" in html and missing in html
    assert not MessageTemplate.objects.exists()
    assert templating.template_text(kind) == templating.DEFAULT_TEMPLATES[kind]  # still the compliant default


def test_front_desk_cannot_edit_templates(staff_client):
    assert staff_client("front_desk").get(reverse("messaging-templates")).status_code == 403


# --- campaigns -----------------------------------------------------------------------------------


def marketing_patients():
    opted = PatientFactory(first_name="Olivia")
    opt_in(opted.mobile_phone, "marketing")
    transactional_only = PatientFactory(first_name="Tara")
    opt_in(transactional_only.mobile_phone)
    withdrawn = PatientFactory(first_name="Wes")
    opt_in(withdrawn.mobile_phone, "marketing")
    inbound.receive_inbound(
        message_sid="SMwithdraw", from_phone=withdrawn.mobile_phone, to_phone="+18582560289", body="STOP"
    )
    return opted, transactional_only, withdrawn


def create_campaign(client, **extra):
    client.post(
        reverse("messaging-campaign-new"),
        {"name": "Summer glow", "body": "{clinic_name}: Hi {first_name}, 20% off facials this June!", **extra},
    )
    return Campaign.objects.get()


def test_campaign_audience_is_only_current_marketing_opt_ins(staff_client):
    opted, transactional_only, withdrawn = marketing_patients()
    client = staff_client("manager")
    campaign = create_campaign(client)
    html = client.get(reverse("messaging-campaign", args=[campaign.pk])).content.decode()
    assert 'id="audience-count">1<' in html
    assert "Olivia" in html and "Tara" not in html and "Wes" not in html


def test_campaign_cannot_include_a_non_opted_in_phone_even_when_its_id_is_injected(staff_client):
    opted, transactional_only, withdrawn = marketing_patients()
    client = staff_client("manager")
    campaign = create_campaign(client)
    response = client.post(
        reverse("messaging-campaign", args=[campaign.pk]),
        {"patient_ids": [opted.pk, transactional_only.pk, withdrawn.pk]},
        follow=True,
    )
    assert "2 selected patient(s) have no current marketing opt-in" in response.content.decode()
    recipients = set(OutboundMessage.objects.filter(campaign=campaign).values_list("patient_id", flat=True))
    assert recipients == {opted.pk}
    campaign.refresh_from_db()
    assert campaign.audience_size == 1 and campaign.excluded_count == 2


def test_schedule_service_refuses_injected_ids_directly():
    from tests.factories import UserFactory

    opted, transactional_only, withdrawn = marketing_patients()
    user = UserFactory(role="manager")
    campaign = campaigns.create_campaign(
        name="c", body="{clinic_name}: Hello {first_name}", filters={}, rate_per_minute=60, user=user
    )
    with pytest.raises(campaigns.CampaignError):
        campaigns.schedule_campaign(campaign=campaign, user=user, patient_ids=[transactional_only.pk])
    assert not OutboundMessage.objects.filter(campaign=campaign).exists()
    count = campaigns.schedule_campaign(
        campaign=campaign, user=user, patient_ids=[opted.pk, transactional_only.pk, withdrawn.pk, 987654]
    )
    assert count == 1
    assert list(OutboundMessage.objects.filter(campaign=campaign).values_list("patient_id", flat=True)) == [opted.pk]


def test_campaign_is_throttled_and_sends_with_live_progress(staff_client):
    patients = PatientFactory.create_batch(4)
    for p in patients:
        opt_in(p.mobile_phone, "marketing")
    client = staff_client("manager")
    campaign = create_campaign(client, rate_per_minute=2)
    client.post(reverse("messaging-campaign", args=[campaign.pk]), {})
    rows = list(OutboundMessage.objects.filter(campaign=campaign).order_by("due_at"))
    assert [r.due_at - rows[0].due_at for r in rows] == [dt.timedelta(seconds=30 * i) for i in range(4)]
    assert all(r.purpose == "marketing" and r.body.endswith("Reply STOP to opt out.") for r in rows)
    page = client.get(reverse("messaging-campaign", args=[campaign.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page and "0 of 4 handled" in page
    dispatch.run_once()
    partial = client.get(reverse("messaging-campaign-progress", args=[campaign.pk])).content.decode()
    assert "1 of 4 handled" in partial and "1 sent" in partial and ">Sending<" in partial
    with time_machine.travel(DAY + dt.timedelta(minutes=5), tick=False):
        dispatch.run_once()
    partial = client.get(reverse("messaging-campaign-progress", args=[campaign.pk])).content.decode()
    assert "4 of 4 handled" in partial and "hx-trigger" not in partial and ">Finished<" in partial
    listing = client.get(reverse("messaging-campaigns")).content.decode()
    assert "<td>Finished</td>" in listing and "<td>Scheduled</td>" not in listing


def test_a_campaign_nobody_can_receive_offers_no_schedule_button(staff_client):
    PatientFactory()  # no marketing opt-in
    client = staff_client("manager")
    campaign = create_campaign(client)

    html = client.get(reverse("messaging-campaign", args=[campaign.pk])).content.decode()

    assert 'id="audience-count">0<' in html and "Nobody can receive this campaign yet" in html
    assert ">Schedule</button>" not in html


def test_campaign_filters_by_service_and_recent_visit(staff_client):
    service = ServiceFactory()
    visited = AppointmentFactory(service=service, status="completed", starts_at=DAY - dt.timedelta(days=10))
    other = PatientFactory()
    for p in (visited.patient, other):
        opt_in(p.mobile_phone, "marketing")
    client = staff_client("manager")
    campaign = create_campaign(client, service=service.pk, visited_within_days=30)
    html = client.get(reverse("messaging-campaign", args=[campaign.pk])).content.decode()
    assert 'id="audience-count">1<' in html and visited.patient.full_name in html


def test_a_draft_can_be_deleted_but_a_scheduled_campaign_keeps_its_record(staff_client):
    patient = PatientFactory()
    opt_in(patient.mobile_phone, "marketing")
    client = staff_client("manager")
    sent = create_campaign(client)
    client.post(reverse("messaging-campaign", args=[sent.pk]), {})
    client.post(reverse("messaging-campaign-new"), {"name": "Draft", "body": "{clinic_name}: Hi {first_name}!"})
    draft = Campaign.objects.get(state=Campaign.State.DRAFT)

    deleted = client.post(reverse("messaging-campaign", args=[draft.pk]), {"delete": "1"}, follow=True)
    refused = client.post(reverse("messaging-campaign", args=[sent.pk]), {"delete": "1"}, follow=True)

    assert "deleted." in deleted.content.decode() and not Campaign.objects.filter(pk=draft.pk).exists()
    assert "Only a draft can be deleted" in refused.content.decode()
    assert Campaign.objects.filter(pk=sent.pk).exists() and OutboundMessage.objects.filter(campaign=sent).count() == 1


def test_a_draft_can_be_edited_and_a_scheduled_campaign_cannot(staff_client):
    service = ServiceFactory(name="Chemical peel")
    client = staff_client("manager")
    campaign = create_campaign(client, visited_within_days=90)
    url = reverse("messaging-campaign-edit", args=[campaign.pk])
    form = client.get(url).content.decode()
    assert "Summer glow" in form and 'value="90"' in form  # what was saved is filled in

    client.post(
        url,
        {"name": "Winter glow", "body": "{clinic_name}: Hi {first_name}, peels are 15% off!", "service": service.pk},
    )
    refused = client.post(url, {"name": "Bad", "body": "Hi {first_name}, book: {manage_link}"})

    campaign.refresh_from_db()
    assert (campaign.name, campaign.body) == ("Winter glow", "{clinic_name}: Hi {first_name}, peels are 15% off!")
    assert campaign.filters == {"service_id": service.pk}  # the cleared filter is gone
    assert "A campaign cannot fill in {manage_link}" in refused.content.decode()
    opt_in(PatientFactory().mobile_phone, "marketing")
    client.post(url, {"name": "Winter glow", "body": "{clinic_name}: Hi {first_name}!"})  # everyone opted in
    client.post(reverse("messaging-campaign", args=[campaign.pk]), {})
    late = client.post(url, {"name": "Too late", "body": "{clinic_name}: Hi!"}, follow=True)
    assert "Only a draft can be edited" in late.content.decode()
    campaign.refresh_from_db()
    assert campaign.name == "Winter glow"


def test_campaigns_are_manager_only(staff_client):
    assert staff_client("front_desk").get(reverse("messaging-campaigns")).status_code == 403


def test_stop_from_a_campaign_recipient_suppresses_the_rest(staff_client):
    patient = PatientFactory()
    opt_in(patient.mobile_phone, "marketing")
    client = staff_client("manager")
    campaign = create_campaign(client)
    client.post(reverse("messaging-campaign", args=[campaign.pk]), {})
    inbound.receive_inbound(message_sid="SMs", from_phone=patient.mobile_phone, to_phone="+1", body="stop")
    dispatch.run_once()
    row = OutboundMessage.objects.get(campaign=campaign)
    assert row.status == Status.SUPPRESSED
    assert SmsConsentEvent.objects.filter(purpose="marketing", action="opt_out").exists()


# --- simulator -------------------------------------------------------------------------------------


def test_simulator_is_404_unless_the_console_backend_is_configured(staff_client):
    assert staff_client("front_desk").get(reverse("messaging-simulator")).status_code == 404


def test_simulator_reply_goes_through_the_signed_webhook(staff_client, settings):
    settings.SMS_BACKEND = "messaging.backends.ConsoleBackend"
    settings.TWILIO_AUTH_TOKEN = ""
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    outbox.queue_message(
        to_phone=patient.mobile_phone, kind=Kind.STAFF_REPLY, idempotency_key="x", literal="Hello!", patient=patient
    )
    client = staff_client("front_desk")
    client.post(reverse("messaging-simulator"), {"run_worker": "1"})
    html = client.get(reverse("messaging-simulator")).content.decode()
    assert "Hello! Reply STOP to opt out." in html
    response = client.post(reverse("messaging-simulator"), {"phone": patient.mobile_phone, "body": "HELP"}, follow=True)
    assert "Reply delivered to the webhook." in response.content.decode()
    received = InboundMessage.objects.get()
    assert received.handling == InboundMessage.Handling.HELP and received.message_sid.startswith("SMsim")
    assert "For help, call" in response.content.decode()  # the automatic answer, sent by the worker
    assert backends.console_sent[-1].body.startswith("Cinrella Med Spa:")


def test_admin_lists_messages_without_phone_or_body(staff_client):
    patient = PatientFactory()
    outbox.queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.STAFF_REPLY,
        idempotency_key="a",
        literal="Secret body",
        patient=patient,
    )
    client = staff_client("manager", is_superuser=True)
    response = client.get(reverse("admin:messaging_outboundmessage_changelist"))
    assert response.status_code == 200
    row = OutboundMessage.objects.get()
    detail = client.get(reverse("admin:messaging_outboundmessage_change", args=[row.pk]))
    assert detail.status_code == 200 and "Secret body" not in detail.content.decode()
    assert patient.mobile_phone not in detail.content.decode()


def test_conversation_page_query_count_does_not_grow_with_the_thread(staff_client, django_assert_max_num_queries):
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    for i in range(15):
        text_in(patient.mobile_phone, f"message {i}", f"SMq{i}")
        outbox.queue_message(
            to_phone=patient.mobile_phone, kind=Kind.STAFF_REPLY, idempotency_key=f"q{i}", literal=f"answer {i}"
        )
    conversation = Conversation.objects.get()
    client = staff_client("front_desk")
    with django_assert_max_num_queries(14):
        html = client.get(reverse("messaging-conversation", args=[conversation.pk])).content.decode()
    assert "message 14" in html and "answer 14" in html


def test_replying_to_a_short_code_shows_a_message_not_a_500(staff_client):
    text_in("22395", "Your carrier balance is low", "SMshort")
    conversation = Conversation.objects.get()
    response = staff_client("front_desk").post(
        reverse("messaging-reply", args=[conversation.pk]), {"text": "hello"}, follow=True
    )
    assert response.status_code == 200 and "not a mobile number we can text" in response.content.decode()
    assert not OutboundMessage.objects.exists()


# --- found walking through the staff pages -------------------------------------------------------


def test_times_on_the_message_pages_are_clinic_time_not_utc(staff_client):
    patient = PatientFactory()
    text_in(patient.mobile_phone, "Running late", "SMtz")
    client = staff_client("front_desk")
    inbox = client.get(reverse("messaging-inbox")).content.decode()
    assert "Jun 10, 12:00 PM" in inbox and "19:00" not in inbox  # DAY is 19:00 UTC, noon in San Diego
    conversation = Conversation.objects.get()
    thread = client.get(reverse("messaging-conversation", args=[conversation.pk])).content.decode()
    assert "Jun 10, 12:00 PM" in thread


def test_quiet_hours_warning_gives_the_recipients_own_time(staff_client):
    florida = "+13055550103"
    opt_in(florida)
    text_in(florida, "Can I come earlier?", "SMfl")
    conversation = Conversation.objects.get()
    with time_machine.travel(dt.datetime(2026, 6, 11, 1, 0, tzinfo=dt.UTC), tick=True):  # 21:00 in Miami
        page = staff_client("front_desk").get(reverse("messaging-conversation", args=[conversation.pk]))
    assert "a reply waits until Thu Jun 11, 8:00 AM EDT their time (5:00 AM PDT here)" in page.content.decode()


def test_templates_page_opens_and_texts_sent_as_given_are_not_editable(staff_client):
    client = staff_client("manager")
    response = client.get(reverse("messaging-templates"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Appointment reminder" in html and "Portal sign-in code" not in html
    assert client.get(reverse("messaging-template-edit", args=[Kind.SIGN_IN_CODE])).status_code == 404


@pytest.mark.parametrize("body", ["Hi {first_name!r}", "Hi {first_name:>10000000000}", "Hi {first_name:d}"])
def test_template_placeholder_with_a_format_or_conversion_is_refused(staff_client, body):
    client = staff_client("manager")
    response = client.post(reverse("messaging-template-edit", args=["reminder"]), {"body": body})
    assert response.status_code == 200
    assert "no &#x27;:&#x27; or &#x27;!&#x27; inside the braces" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_campaign_body_refuses_placeholders_a_campaign_cannot_fill(staff_client):
    client = staff_client("manager")
    response = client.post(
        reverse("messaging-campaign-new"), {"name": "Winter", "body": "Hi {first_name}, book: {manage_link}"}
    )
    assert response.status_code == 200
    assert "A campaign cannot fill in {manage_link}" in response.content.decode()
    assert not Campaign.objects.exists()


def test_campaign_start_in_the_past_is_refused_so_the_throttle_holds(staff_client):
    patients = PatientFactory.create_batch(2)
    for p in patients:
        opt_in(p.mobile_phone, "marketing")
    client = staff_client("manager")
    campaign = create_campaign(client, rate_per_minute=1)
    url = reverse("messaging-campaign", args=[campaign.pk])
    response = client.post(url, {"start_at": "2020-01-01T10:00"})
    assert response.status_code == 200 and "This time has passed" in response.content.decode()
    assert not OutboundMessage.objects.filter(campaign=campaign).exists()
    client.post(url, {"start_at": "2026-06-10T15:00"})  # 15:00 clinic time, 3 hours from now
    rows = list(OutboundMessage.objects.filter(campaign=campaign).order_by("due_at"))
    assert rows[0].due_at == dt.datetime(2026, 6, 10, 22, 0, tzinfo=dt.UTC)
    assert rows[1].due_at - rows[0].due_at == dt.timedelta(minutes=1)


def test_simulator_lists_a_number_that_only_texted_in(staff_client, settings):
    settings.SMS_BACKEND = "messaging.backends.ConsoleBackend"
    settings.TWILIO_AUTH_TOKEN = ""
    client = staff_client("front_desk")
    client.post(reverse("messaging-simulator"), {"phone": "(312) 555-0199", "body": "Do you do lip filler?"})
    html = client.get(reverse("messaging-simulator")).content.decode()
    assert "(312) 555-0199" in html and "Do you do lip filler?" in html

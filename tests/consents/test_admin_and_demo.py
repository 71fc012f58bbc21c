import io

import pytest

from consents import demo, selectors, services
from consents.models import ConsentSignature, ConsentTemplate, SmsConsentEvent, SmsPurpose
from tests.conftest import sign_in_verified
from tests.factories import PatientFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    sign_in_verified(client, UserFactory(is_superuser=True))
    return client


def test_admin_changes_template_text_only_by_publishing_a_new_version(admin_client):
    template = ConsentTemplate.objects.create(slug="peel", title="Chemical peel consent", kind="treatment")
    services.publish_template_version(template=template, body="First words.")
    page = admin_client.get(f"/admin/consents/consenttemplate/{template.pk}/change/")
    assert page.status_code == 200 and "First words." in page.text

    response = admin_client.post(
        f"/admin/consents/consenttemplate/{template.pk}/change/",
        {
            "slug": "peel",
            "title": "Chemical peel consent",
            "kind": "treatment",
            "validity_days": "365",
            "active": "on",
            "new_version_text": "Second words.",
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": str(selectors.current_version(template).pk),
            "versions-0-template": str(template.pk),
        },
    )
    assert response.status_code == 302, response.text[:2000]
    assert list(template.versions.order_by("number").values_list("number", "body")) == [
        (1, "First words."),
        (2, "Second words."),
    ]


def test_admin_cannot_add_change_or_delete_signatures_or_ledger_rows(admin_client):
    event = services.record_sms_consent_event(
        phone="+18585550101", purpose="transactional", action="opt_in", source="portal_form"
    )
    assert admin_client.get("/admin/consents/smsconsentevent/add/").status_code == 403
    assert admin_client.post(f"/admin/consents/smsconsentevent/{event.pk}/delete/").status_code == 403
    view = admin_client.get(f"/admin/consents/smsconsentevent/{event.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.text
    assert "+18585550101" not in view.text
    assert admin_client.get("/admin/consents/consentsignature/add/").status_code == 403
    assert SmsConsentEvent.objects.count() == 1


def test_demo_load_is_idempotent_and_links_services():
    ServiceFactory(name="Botox — forehead lines")
    PatientFactory()
    PatientFactory()
    demo.load(io.StringIO())
    demo.load(io.StringIO())
    assert ConsentTemplate.objects.count() == len(demo.DEMO_TEMPLATES)
    assert all(t.versions.count() == 1 for t in ConsentTemplate.objects.all())
    assert ConsentTemplate.objects.get(slug="neuromodulator").required_for_services.count() == 1
    assert ConsentSignature.objects.count() == 5


def test_demo_records_sms_opt_ins_once_so_demo_texts_are_sent_not_all_suppressed(settings):
    from django.core.management import call_command

    from messaging import dispatch
    from messaging.models import Kind, OutboundMessage, Status

    settings.DEBUG = True  # seed_demo refuses to run otherwise
    settings.SMS_QUIET_HOURS = (0, 24)  # whatever the wall clock says, the worker sends now
    settings.SMS_QUIET_HOURS_BY_STATE = {}
    call_command("seed_demo", "--quiet-credentials", stdout=io.StringIO())
    events_after_first = SmsConsentEvent.objects.count()
    call_command("seed_demo", "--quiet-credentials", stdout=io.StringIO())

    assert SmsConsentEvent.objects.count() == events_after_first  # the second run adds nothing
    for phone, purposes in demo.DEMO_SMS_CHOICES:
        assert {p for p in SmsPurpose if selectors.sms_opted_in(phone, p)} == purposes
        event = selectors.latest_sms_consent(phone, SmsPurpose.TRANSACTIONAL)
        assert event.source == SmsConsentEvent.Source.PORTAL_FORM and event.disclosure_version
        assert event.patient is not None
    assert not selectors.sms_opted_in("+18585550130", SmsPurpose.TRANSACTIONAL)  # Aisha never opted in
    assert OutboundMessage.objects.filter(kind=Kind.DOUBLE_OPT_IN).count() == len(demo.DEMO_SMS_CHOICES)
    marketing = [phone for phone, purposes in demo.DEMO_SMS_CHOICES if SmsPurpose.MARKETING in purposes]
    assert OutboundMessage.objects.filter(kind=Kind.MARKETING_CONFIRMATION).count() == len(marketing)
    assert event.asserted_by == SmsConsentEvent.AssertedBy.PATIENT
    assert event.verification == SmsConsentEvent.Verification.VERIFIED_RECORD

    dispatch.run_once()
    assert OutboundMessage.objects.filter(status=Status.SENT).exists()
    assert OutboundMessage.objects.filter(kind=Kind.DOUBLE_OPT_IN).exclude(status=Status.SENT).count() == 0

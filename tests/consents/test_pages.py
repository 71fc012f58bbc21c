import csv
import io
import re
import zlib

import pytest
import time_machine
from django.utils import timezone

from consents import links, selectors, services
from consents.models import ConsentSignature, SmsConsentEvent, SmsConsentProofExport, SmsPurpose
from consents.selectors import sms_opted_in
from privacy.models import Disclosure
from tests.consents.factories import ConsentTemplateFactory, signature_data_url, verify_phone
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


def published_template(**kw):
    template = ConsentTemplateFactory(**kw)
    services.publish_template_version(template=template, body="Risks include bruising.\n\nI agree to treatment.")
    return template


def pdf_text(pdf: bytes) -> str:
    """Text drawn by fpdf2 with a core font: decompress content streams, join the string operands."""
    chunks = []
    # fpdf2 writes "stream\n<data>\nendstream"; compressed data may itself end in a \r byte, so no \r? here.
    for stream in re.findall(rb"stream\n(.*?)\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompressobj().decompress(stream))
        except zlib.error:
            chunks.append(stream)
    strings = re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", b"\n".join(chunks), re.S)
    text = " ".join(s.decode("latin-1").replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\") for s in strings)
    return " ".join(text.split())


# --- consent signing pages ------------------------------------------------------------------------


def test_check_in_page_warns_missing_consent_and_front_desk_signs_on_tablet(staff_client):
    client = staff_client("front_desk")
    appointment = AppointmentFactory()
    template = published_template(title="Dermal filler consent")
    template.required_for_services.add(appointment.service)

    page = client.get(f"/staff/consents/appointment/{appointment.pk}/").text
    assert "Consent “Dermal filler consent” missing — sign now" in page
    sign_url = f"/staff/consents/sign/{appointment.patient_id}/{template.slug}/?appointment={appointment.pk}"
    assert sign_url.replace("&", "&amp;") in page or sign_url in page

    form_page = client.get(sign_url).text
    assert "Risks include bruising." in form_page
    assert "<script>" not in form_page  # CSP: no inline script

    response = client.post(
        sign_url,
        {"agree": "on", "typed_name": "Maria Lopez", "signature": signature_data_url()},
        HTTP_USER_AGENT="iPad Safari",
    )
    assert response.status_code == 302
    signature = ConsentSignature.objects.get()
    assert signature.appointment == appointment
    assert signature.staff_user == client.user
    assert signature.channel == "front_desk"
    assert signature.user_agent == "iPad Safari"
    assert selectors.missing_consents(appointment) == []
    assert "All required consents are signed ✓" in client.get(response["Location"]).text


def test_signing_without_a_drawing_shows_a_message_and_records_nothing(staff_client):
    client = staff_client("front_desk")
    patient = PatientFactory()
    template = published_template()
    response = client.post(
        f"/staff/consents/sign/{patient.pk}/{template.slug}/", {"agree": "on", "typed_name": "Maria", "signature": ""}
    )
    assert response.status_code == 400
    assert "Please draw your signature in the box." in response.text
    assert not ConsentSignature.objects.exists()


def test_billing_cannot_reach_consent_pages(staff_client):
    client = staff_client("billing")
    appointment = AppointmentFactory()
    assert client.get(f"/staff/consents/appointment/{appointment.pk}/").status_code == 404
    assert client.get(f"/staff/consents/patient/{appointment.patient_id}/").status_code == 404
    assert client.get(f"/staff/patients/{appointment.patient_id}/sms-consent/").status_code == 404
    assert client.get("/staff/consents/sms-proof/").status_code == 404


def test_signed_pdf_for_provider_but_front_desk_sees_presence_only(staff_client, client):
    patient = PatientFactory()
    template = published_template(title="Chemical peel consent")
    signature = services.sign_consent(
        patient=patient,
        version=selectors.current_version(template),
        typed_name="Maria Lopez",
        signature_data_url=signature_data_url(),
        channel="front_desk",
    )
    front_desk = staff_client("front_desk")
    page = front_desk.get(f"/staff/consents/patient/{patient.pk}/").text
    assert "signed ✓" in page
    assert f"/staff/consents/signature/{signature.pk}/pdf/" not in page
    assert front_desk.get(f"/staff/consents/signature/{signature.pk}/pdf/").status_code == 404

    provider = staff_client("provider")
    response = provider.get(f"/staff/consents/signature/{signature.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Chemical peel consent" in text
    assert "Risks include bruising." in text
    assert signature.rendered_text_sha256 in text
    assert "matches" in text


def test_patient_signs_through_signed_link_and_downloads_pdf(client):
    appointment = AppointmentFactory()
    template = published_template(title="Laser treatment consent")
    template.required_for_services.add(appointment.service)
    token = links.signing_token(appointment.patient, appointment)
    assert str(appointment.patient.last_name) not in token

    listing = client.get(f"/book/consents/{token}/").text
    assert "Laser treatment consent" in listing
    response = client.post(
        f"/book/consents/{token}/sign/{template.slug}/",
        {"agree": "on", "typed_name": "Maria Lopez", "signature": signature_data_url()},
    )
    assert response.status_code == 302
    signature = ConsentSignature.objects.get()
    assert signature.channel == "portal" and signature.staff_user is None
    listing = client.get(f"/book/consents/{token}/").text
    assert "Download a PDF copy" in listing
    pdf = client.get(f"/book/consents/{token}/signature/{signature.pk}/pdf/")
    assert pdf.status_code == 200 and "Laser treatment consent" in pdf_text(pdf.content)


def test_portal_link_is_refused_when_forged_expired_or_for_another_patients_signature(client):
    patient = PatientFactory()
    other = PatientFactory()
    template = published_template()
    theirs = services.sign_consent(
        patient=other,
        version=selectors.current_version(template),
        typed_name="Other Person",
        signature_data_url=signature_data_url(),
        channel="portal",
    )
    with time_machine.travel(timezone.now() - timezone.timedelta(days=8)):
        old_token = links.signing_token(patient)
    token = links.signing_token(patient)
    assert client.get(f"/book/consents/{old_token}/").status_code == 404
    assert client.get(f"/book/consents/{token}x/").status_code == 404
    assert client.get(f"/book/consents/{token}/signature/{theirs.pk}/pdf/").status_code == 404


def test_staff_revocation_makes_a_new_row(staff_client):
    patient = PatientFactory()
    template = published_template()
    signature = services.sign_consent(
        patient=patient,
        version=selectors.current_version(template),
        typed_name="Maria Lopez",
        signature_data_url=signature_data_url(),
        channel="portal",
    )
    client = staff_client("front_desk")
    response = client.post(f"/staff/consents/signature/{signature.pk}/revoke/", {"reason": "Patient asked"})
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.revocation.recorded_by == client.user
    assert "revoked" in client.get(f"/staff/consents/patient/{patient.pk}/").text


# --- SMS consent --------------------------------------------------------------------------------


def test_portal_choices_with_both_boxes_declined_record_nothing_and_do_not_fail(rf):
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    from consents.signals import sms_opt_in_recorded

    sms_opt_in_recorded.connect(receiver)
    try:
        outcome = services.record_portal_sms_choices(
            phone="", transactional=False, marketing=False, request=rf.post("/book/"), patient=None
        )
    finally:
        sms_opt_in_recorded.disconnect(receiver)
    assert outcome == services.OptInOutcome()
    assert not SmsConsentEvent.objects.exists()
    assert received == []


def test_portal_choices_record_ticked_boxes_with_exact_disclosure_and_signal_double_opt_in(rf):
    from consents import disclosures
    from consents.signals import sms_opt_in_recorded

    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    sms_opt_in_recorded.connect(receiver)
    patient = PatientFactory(mobile_phone="+18585550142")
    verify_phone(patient)
    request = rf.post("/book/confirm/", HTTP_USER_AGENT="Firefox", REMOTE_ADDR="198.51.100.7")
    try:
        outcome = services.record_portal_sms_choices(
            phone="858-555-0142", transactional=True, marketing=False, request=request, patient=patient
        )
    finally:
        sms_opt_in_recorded.disconnect(receiver)
    assert outcome.opted_in == ["transactional"]
    event = SmsConsentEvent.objects.get()
    assert event.disclosure_text == disclosures.transactional_disclosure()
    assert "Message frequency varies. Message and data rates may apply. Reply STOP to opt out, HELP for help." in (
        event.disclosure_text
    )
    assert event.disclosure_version == disclosures.DISCLOSURE_VERSION
    assert event.ip_address == "198.51.100.7" and event.page_url.endswith("/book/confirm/")
    assert "Consent is not a condition of purchase." in disclosures.marketing_disclosure()
    assert received[0]["phone"] == "+18585550142" and received[0]["purposes"] == ["transactional"]
    assert received[0]["patient"] == patient
    assert sms_opted_in("8585550142", SmsPurpose.MARKETING) is False
    assert event.asserted_by == "patient" and event.verification == "verified_record"


def test_staff_sms_page_shows_status_and_verbal_consent_requires_a_note(staff_client):
    patient = PatientFactory(mobile_phone="+18585550177")
    client = staff_client("front_desk")
    url = f"/staff/patients/{patient.pk}/sms-consent/"
    assert "never asked" in client.get(url).text

    refused = client.post(url, {"purpose": "transactional", "action": "opt_in", "note": "   "})
    assert refused.status_code == 400
    assert "A note is required" in refused.text
    assert not SmsConsentEvent.objects.exists()

    response = client.post(url, {"purpose": "transactional", "action": "opt_in", "note": "Said yes at check-in"})
    assert response.status_code == 302
    event = SmsConsentEvent.objects.get()
    assert event.staff_user == client.user
    assert event.source == "staff_verbal" and event.note == "Said yes at check-in"
    page = client.get(url).text
    assert "opted in" in page
    assert "Recorded by staff (verbal)" in page


@pytest.mark.parametrize("role", ["provider", "manager"])
def test_provider_and_manager_read_sms_status_but_do_not_record(staff_client, role):
    patient = PatientFactory(mobile_phone="+18585550178")
    client = staff_client(role)
    url = f"/staff/patients/{patient.pk}/sms-consent/"
    page = client.get(url)
    assert page.status_code == 200 and "Record a verbal" not in page.text
    assert client.post(url, {"purpose": "transactional", "action": "opt_in", "note": "x"}).status_code == 404


def test_patient_preferences_page_shows_state_and_records_changes(client):
    patient = PatientFactory(mobile_phone="+18585550179")
    verify_phone(patient)
    services.record_portal_sms_choices(
        phone=patient.mobile_phone, transactional=True, marketing=False, request=None, patient=patient
    )
    url = f"/book/preferences/{links.preferences_token(patient)}/"
    page = client.get(url).text
    assert re.search(r'name="transactional"[^>]*checked', page)
    assert not re.search(r'name="marketing"[^>]*checked', page)

    client.post(url, {"marketing": "on"})  # untick transactional, tick marketing

    assert sms_opted_in(patient.mobile_phone, SmsPurpose.TRANSACTIONAL) is False
    assert sms_opted_in(patient.mobile_phone, SmsPurpose.MARKETING) is True
    sources = set(SmsConsentEvent.objects.filter(source="portal_preferences").values_list("action", flat=True))
    assert sources == {"opt_in", "opt_out"}
    assert client.get(f"/book/preferences/{links.preferences_token(patient)}x/").status_code == 404


# --- proof export --------------------------------------------------------------------------------


def _ledger(phone="+18585550190"):
    patient = PatientFactory(mobile_phone=phone)
    verify_phone(patient)
    services.record_portal_sms_choices(phone=phone, transactional=True, marketing=True, request=None, patient=patient)
    services.record_sms_consent_event(
        phone=phone,
        purpose=SmsPurpose.TRANSACTIONAL,
        action="opt_out",
        source="keyword",
        disclosure_text="STOP",
        inbound_message_sid="SM0123456789abcdef",
        patient=patient,
    )
    return patient, list(selectors.sms_consent_history(phone))


def test_proof_export_csv_contains_every_event_with_its_disclosure_text(staff_client):
    _, events = _ledger()
    client = staff_client("manager")
    response = client.post(
        "/staff/consents/sms-proof/", {"phone": "(858) 555-0190", "file_format": "csv", "destination": "in_clinic"}
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [int(r["event_id"]) for r in rows] == [e.pk for e in events]
    assert [r["disclosure_text"] for r in rows] == [e.disclosure_text for e in events]
    assert rows[-1]["inbound_message_sid"] == "SM0123456789abcdef"
    assert rows[0]["occurred_at_utc"].endswith("Z") and rows[0]["occurred_at_clinic"].endswith(("PST", "PDT"))
    log = SmsConsentProofExport.objects.get()
    assert log.user == client.user and log.destination == "in_clinic" and log.event_count == 3
    assert not Disclosure.objects.exists()  # in-clinic use is not a disclosure


def test_proof_export_pdf_contains_every_event_with_its_disclosure_text(staff_client):
    _, events = _ledger()
    client = staff_client("manager")
    response = client.post(
        "/staff/consents/sms-proof/", {"phone": "+18585550190", "file_format": "pdf", "destination": "in_clinic"}
    )
    text = pdf_text(response.content)
    for event in events:
        assert f"Event #{event.pk}" in text
        assert " ".join(event.disclosure_text.split()) in text


def test_proof_export_to_a_payment_processor_is_refused_and_to_the_sms_provider_is_recorded(staff_client):
    patient, _ = _ledger()
    from privacy.models import Recipient

    client = staff_client("manager")
    stripe = Recipient.objects.get(key="stripe")
    refused = client.post(
        "/staff/consents/sms-proof/",
        {"phone": "+18585550190", "file_format": "csv", "destination": "outside", "recipient": stripe.pk},
    )
    assert refused.status_code == 400
    assert "Refused by the privacy policy" in refused.text
    assert not SmsConsentProofExport.objects.exists() and not Disclosure.objects.exists()

    twilio = Recipient.objects.get(key="twilio")
    sent = client.post(
        "/staff/consents/sms-proof/",
        {"phone": "+18585550190", "file_format": "pdf", "destination": "outside", "recipient": twilio.pk},
    )
    assert sent.status_code == 200 and sent["Content-Type"] == "application/pdf"
    disclosure = Disclosure.objects.get()
    assert disclosure.recipient == twilio and disclosure.patient == patient
    assert "sms_consent" in disclosure.categories
    assert SmsConsentProofExport.objects.get().destination == "outside"


def test_proof_export_is_for_managers_only_and_rejects_a_bad_phone(staff_client):
    assert staff_client("front_desk").get("/staff/consents/sms-proof/").status_code == 404
    client = staff_client("manager")
    response = client.post(
        "/staff/consents/sms-proof/", {"phone": "12", "file_format": "csv", "destination": "in_clinic"}
    )
    assert response.status_code == 400
    assert "Enter a valid mobile number" in response.text


def test_portal_sms_boxes_are_unchecked_by_default_and_show_the_disclosures():
    from django.template.loader import render_to_string

    from consents.forms import SmsOptInForm

    html = render_to_string("consents/partials/sms_opt_in_boxes.html", {"form": SmsOptInForm()})
    assert html.count('type="checkbox"') == 2
    assert "checked" not in html
    assert "Consent is not a condition of purchase." in html
    assert "Reply STOP to opt out, HELP for help." in html
    assert "/privacy/" in html
    declined = SmsOptInForm({})
    assert declined.is_valid()
    assert (
        services.record_portal_sms_choices(
            phone="",
            transactional=declined.cleaned_data["sms_transactional"],
            marketing=declined.cleaned_data["sms_marketing"],
            request=None,
        )
        == services.OptInOutcome()
    )


def test_patient_consents_page_query_count_does_not_grow_with_forms_and_signatures(
    staff_client, django_assert_max_num_queries
):
    client = staff_client("provider")
    patient = PatientFactory()
    for n in range(6):
        template = published_template(title=f"Form {n}")
        services.sign_consent(
            patient=patient,
            version=selectors.current_version(template),
            typed_name="Maria Lopez",
            signature_data_url=signature_data_url(),
            channel="portal",
        )
    with django_assert_max_num_queries(11):
        page = client.get(f"/staff/consents/patient/{patient.pk}/")
    assert page.text.count("signed ✓") == 6
    assert page.text.count("/pdf/") == 6


def test_patient_withdraws_photo_marketing_consent_in_the_portal(client):
    from consents.models import ConsentKind
    from patients.consent_checks import has_photo_marketing_consent

    patient = PatientFactory()
    template = published_template(title="Photography consent — marketing use", kind=ConsentKind.PHOTO_MARKETING)
    signature = services.sign_consent(
        patient=patient,
        version=selectors.current_version(template),
        typed_name="Maria Lopez",
        signature_data_url=signature_data_url(),
        channel="portal",
    )
    token = links.signing_token(patient)
    assert has_photo_marketing_consent(patient) is True
    assert "Withdraw this consent" in client.get(f"/book/consents/{token}/").text

    other_token = links.signing_token(PatientFactory())
    assert client.post(f"/book/consents/{other_token}/signature/{signature.pk}/revoke/").status_code == 404
    response = client.post(f"/book/consents/{token}/signature/{signature.pk}/revoke/")

    assert response.status_code == 302
    assert has_photo_marketing_consent(patient) is False
    signature.refresh_from_db()
    assert signature.revocation.recorded_by is None


def test_check_in_panel_answers_htmx_with_the_partial_only(staff_client):
    client = staff_client("front_desk")
    appointment = AppointmentFactory()
    published_template().required_for_services.add(appointment.service)
    response = client.get(f"/staff/consents/appointment/{appointment.pk}/", HTTP_HX_REQUEST="true")
    assert "<html" not in response.text
    assert 'id="appointment-consents"' in response.text and "sign now" in response.text


def test_staff_pages_show_times_in_the_clinic_time_zone(staff_client):
    import datetime as dt

    patient = PatientFactory(mobile_phone="+18585550191")
    services.record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=SmsPurpose.TRANSACTIONAL,
        action="opt_in",
        source="portal_form",
        occurred_at=dt.datetime(2026, 7, 1, 19, 30, tzinfo=dt.UTC),
        patient=patient,
    )
    page = staff_client("front_desk").get(f"/staff/patients/{patient.pk}/sms-consent/").text
    assert "Jul 1, 2026 12:30 PM PDT" in page  # 19:30 UTC


def test_patient_page_shows_current_sms_status_per_purpose_with_date_and_source(staff_client):
    from consents.models import SmsConsentEvent, SmsPurpose
    from consents.services import record_sms_consent_event
    from tests.factories import PatientFactory

    patient = PatientFactory(mobile_phone="+16195550177")
    record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=SmsPurpose.TRANSACTIONAL,
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.PORTAL_FORM,
        patient=patient,
    )
    record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=SmsPurpose.MARKETING,
        action=SmsConsentEvent.Action.OPT_OUT,
        source=SmsConsentEvent.Source.KEYWORD,
        patient=patient,
    )

    page = staff_client("front_desk").get(f"/staff/patients/{patient.pk}/").text

    assert "Opted in" in page and "Portal booking form" in page
    assert "Opted out" in page and "Keyword reply" in page
    billing_page = staff_client("billing").get(f"/staff/patients/{patient.pk}/").text
    assert "SMS consent" not in billing_page  # billing may not see sms_consent

"""One-time-code sign-in to the patient portal: no passwords, no record-existence oracle."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from compliance.portal_auth import PATIENT_SESSION_KEY
from privacy.models import Disclosure, PortalSignInCode, PrivacyEvent
from tests.compliance.conftest import code_from_mail, request_code
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_code_is_emailed_through_the_sharing_gate_and_signs_the_patient_in(client, patient):
    response = request_code(client, patient)

    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [patient.email]
    disclosure = Disclosure.objects.get(patient=patient)
    assert disclosure.recipient.key == "email" and disclosure.categories == ["contact"]
    code = code_from_mail(mail.outbox[0])
    assert code not in PortalSignInCode.objects.get(patient=patient).code_hash  # only a hash is kept

    page = client.post("/book/account/code/", {"code": code}, follow=True)

    assert client.session[PATIENT_SESSION_KEY] == patient.pk
    assert f"Hello {patient.first_name}" in page.text
    assert PrivacyEvent.objects.filter(patient=patient, kind="signed_in").exists()


def test_sign_in_by_mobile_number_and_date_of_birth(client):
    patient = PatientFactory(mobile_phone="+16195550166")
    request_code(client, patient, contact="(619) 555-0166")
    assert len(mail.outbox) == 1


def test_unknown_person_sees_the_same_answer_and_nothing_is_sent(client, patient):
    known = request_code(client, patient, contact=patient.email)
    known_page = client.get(known["Location"]).text
    client.cookies.clear()
    unknown = request_code(client, patient, contact="nobody@example.com")
    unknown_page = client.get(unknown["Location"]).text

    assert known["Location"] == unknown["Location"]
    assert "If we found you" in known_page and "If we found you" in unknown_page
    assert len(mail.outbox) == 1  # only the real patient got a code
    wrong_dob = request_code(client, patient, date_of_birth="1990-01-01")
    assert wrong_dob.status_code == 302 and len(mail.outbox) == 1


def test_code_expires_after_ten_minutes(client, patient):
    request_code(client, patient)
    code = code_from_mail(mail.outbox[0])

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)):
        response = client.post("/book/account/code/", {"code": code})

    assert response["Location"] == "/book/account/sign-in/"
    assert PATIENT_SESSION_KEY not in client.session


def test_code_works_only_once(client, patient):
    request_code(client, patient)
    code = code_from_mail(mail.outbox[0])
    client.post("/book/account/code/", {"code": code})
    client.post("/book/account/sign-out/")
    assert PATIENT_SESSION_KEY not in client.session

    client.post("/book/account/code/", {"code": code})

    assert PATIENT_SESSION_KEY not in client.session


def test_a_new_code_replaces_the_previous_one(client, patient):
    request_code(client, patient)
    first = code_from_mail(mail.outbox[0])
    request_code(client, patient)
    second = code_from_mail(mail.outbox[1])
    if first == second:
        pytest.skip("the two random codes happen to be equal")

    client.post("/book/account/code/", {"code": first})
    assert PATIENT_SESSION_KEY not in client.session


def test_five_wrong_codes_lock_the_code_even_the_right_one(client, patient):
    request_code(client, patient)
    code = code_from_mail(mail.outbox[0])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(4):
        page = client.post("/book/account/code/", {"code": wrong})
        assert "That code is not right" in page.text
    locked = client.post("/book/account/code/", {"code": wrong})
    assert locked["Location"] == "/book/account/sign-in/"

    client.post("/book/account/code/", {"code": code})

    assert PATIENT_SESSION_KEY not in client.session
    row = PortalSignInCode.objects.get(patient=patient)
    assert row.attempts == 5 and row.revoked_at is not None
    assert PrivacyEvent.objects.filter(patient=patient, kind="code_locked").count() == 1


def test_guessing_without_a_code_sent_locks_just_the_same(client):
    for _ in range(4):
        assert "That code is not right" in client.post("/book/account/code/", {"code": "123456"}).text
    assert client.post("/book/account/code/", {"code": "123456"})["Location"] == "/book/account/sign-in/"


def test_per_ip_rate_limit(client, patient, settings):
    settings.PORTAL_SIGN_IN_MAX_PER_IP = 3
    for _ in range(3):
        request_code(client, patient)

    refused = request_code(client, patient)

    assert refused.status_code == 429
    assert "Too many attempts" in refused.text
    assert len(mail.outbox) == 3


def test_portal_session_ends_after_fifteen_idle_minutes(portal_client, patient):
    client = portal_client(patient)
    assert client.get("/book/account/").status_code == 200

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)):
        response = client.get("/book/account/")

    assert response["Location"] == "/book/account/sign-in/"


def test_portal_session_is_not_a_staff_session(portal_client, patient):
    client = portal_client(patient)
    assert client.get("/staff/")["Location"].startswith("/staff/login/")
    assert "_auth_user_id" not in client.session


def test_account_pages_need_a_signed_in_patient(client):
    for path in ("/book/account/", "/book/account/records/", "/book/account/disclosures/"):
        assert client.get(path)["Location"] == "/book/account/sign-in/"


def test_bad_input_gives_a_form_error_not_a_500(client):
    page = client.post("/book/account/sign-in/", {"contact": "not a phone", "date_of_birth": "yesterday"})
    assert page.status_code == 200
    assert "Enter the email address or mobile number" in page.text


def test_patient_without_email_gets_the_code_by_text_through_the_outbox(client, django_capture_on_commit_callbacks):
    import re

    from consents.models import SmsConsentEvent, SmsPurpose
    from consents.services import record_sms_consent_event
    from messaging import backends
    from messaging.models import OutboundMessage

    patient = PatientFactory(email="", mobile_phone="+16195550188")
    record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=SmsPurpose.TRANSACTIONAL,
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.PORTAL_FORM,
        patient=patient,
    )
    backends.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):  # the worker runs when the request commits
        request_code(client, patient, contact="(619) 555-0188")

    row = OutboundMessage.objects.get(kind="sign_in_code", patient=patient)
    assert row.status == "sent"
    code = re.search(r"\b(\d{6})\b", row.body).group(1)
    page = client.post("/book/account/code/", {"code": code}, follow=True)
    assert client.session.get(PATIENT_SESSION_KEY) == patient.pk
    assert page.status_code == 200

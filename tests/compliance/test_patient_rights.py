"""Patient rights from the portal (§7, §10) and the staff queue that handles them."""

import datetime as dt
import io
import json
import zipfile

import pytest
import time_machine
from django.utils import timezone

from compliance.services import create_rights_request
from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import sms_opted_in
from consents.services import record_sms_consent_event
from privacy.gate import disclose
from privacy.models import Disclosure, PrivacyEvent, RightsRequest
from privacy.policy import Category, Purpose
from privacy.records import EXPECTED_SECTIONS, sections
from tests.factories import AppointmentFactory, PatientFactory
from tests.helpers import assert_rejected_by_database

pytestmark = pytest.mark.django_db


def opt_in(patient, purpose=SmsPurpose.MARKETING):
    return record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=purpose,
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.PORTAL_FORM,
        disclosure_text="Yes, send me offers.",
        patient=patient,
    )


def download(client):
    response = client.post("/book/account/records/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_export_zip_has_every_section_and_nothing_of_another_patient(portal_client):
    me = PatientFactory(first_name="Marisol", last_name="Quintero")
    other = PatientFactory(first_name="Bartholomew", last_name="Zyskowski", email="bart@example.com")
    AppointmentFactory(patient=me)
    AppointmentFactory(patient=other, starts_at=timezone.now() - dt.timedelta(days=3))
    opt_in(me)
    opt_in(other)
    disclose(
        recipient="twilio",
        categories={Category.CONTACT},
        purpose=Purpose.SCHEDULING,
        patient=other,
        description="Reminder for Bartholomew",
    )
    create_rights_request(patient=other, kind="deletion", note="Zyskowski note")

    archive = download(portal_client(me))

    names = set(archive.namelist())
    assert {"records.json", "records.pdf", "README.txt"} <= names
    document = json.loads(archive.read("records.json"))
    assert set(document["sections"]) == {spec.key for spec in sections()}
    assert set(EXPECTED_SECTIONS) <= set(document["sections"])  # intake, signed consents, photos
    for key in ("identity", "contact", "appointments", "sms_consent_history", "disclosures", "access_history"):
        assert key in document["sections"]
    assert document["sections"]["identity"]["data"]["first_name"] == "Marisol"
    assert len(document["sections"]["appointments"]["data"]) == 1
    assert len(document["sections"]["sms_consent_history"]["data"]) == 1
    raw = archive.read("records.json").decode() + archive.read("records.pdf").decode("latin-1")
    for foreign in ("Bartholomew", "Zyskowski", "bart@example.com", other.mobile_phone):
        assert foreign not in raw
    assert archive.read("records.pdf").startswith(b"%PDF")


def test_records_download_is_accounted_as_a_disclosure_to_the_patient(portal_client, patient):
    download(portal_client(patient))

    row = Disclosure.objects.get(patient=patient, recipient__key="patient")
    assert "health" in row.categories and "sms_consent" in row.categories
    assert PrivacyEvent.objects.filter(patient=patient, kind="records_exported").exists()


def test_patient_sees_their_accounting_of_disclosures_of_the_last_six_years(portal_client, patient):
    recent = disclose(
        recipient="stripe",
        categories={Category.PAYMENT},
        purpose=Purpose.PAYMENT,
        patient=patient,
        description="Deposit for your visit",
    )
    disclose(
        recipient="twilio",
        categories={Category.CONTACT},
        purpose=Purpose.SCHEDULING,
        patient=PatientFactory(),
        description="Someone else's reminder",
    )
    with time_machine.travel(timezone.now() - dt.timedelta(days=7 * 365)):
        disclose(
            recipient="emr",
            categories={Category.IDENTITY},
            purpose=Purpose.OPERATIONS,
            patient=patient,
            description="Ancient sync",
        )

    page = portal_client(patient).get("/book/account/disclosures/").text

    assert recent.description in page
    assert "Someone else" not in page
    assert "Ancient sync" not in page


def test_correction_request_lands_in_queue_and_is_applied(portal_client, patient, staff_client):
    client = portal_client(patient)
    client.post("/book/account/correction/", {"field_name": "last_name", "requested_value": "Reyes-Ortiz"})
    rights_request = RightsRequest.objects.get(patient=patient)
    assert rights_request.kind == "correction"
    assert rights_request.due_at.date() == (rights_request.created_at + dt.timedelta(days=30)).date()

    manager = staff_client("manager")
    queue = manager.get("/staff/privacy/requests/").text
    assert f"/staff/privacy/requests/{rights_request.pk}/" in queue
    assert rights_request.due_at.strftime("%b") in queue
    manager.post(f"/staff/privacy/requests/{rights_request.pk}/", {"do": "assign", "assignee": manager.user.pk})
    manager.post(
        f"/staff/privacy/requests/{rights_request.pk}/",
        {"do": "resolve", "action": "approve", "value": "", "resolution": "Corrected, thank you."},
    )

    patient.refresh_from_db()
    rights_request.refresh_from_db()
    assert patient.last_name == "Reyes-Ortiz"
    assert rights_request.status == "fulfilled" and rights_request.assignee == manager.user
    kinds = list(rights_request.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["request_created", "request_assigned", "request_fulfilled"]
    first = rights_request.events.first().pk
    assert_rejected_by_database("UPDATE privacy_privacyevent SET detail = 'x' WHERE id = %s", [first])
    assert_rejected_by_database("DELETE FROM privacy_privacyevent WHERE id = %s", [first])


def test_deletion_request_is_partially_fulfilled_with_reasons(portal_client, staff_client):
    patient = PatientFactory(first_name="Delia")
    AppointmentFactory(patient=patient, starts_at=timezone.now() - dt.timedelta(days=400), status="completed")
    opt_in(patient)
    client = portal_client(patient)
    preview = client.get("/book/account/deletion/").text
    assert "State law requires medical records" in preview
    client.post("/book/account/deletion/", {"confirm": "on"})
    rights_request = RightsRequest.objects.get(patient=patient, kind="deletion")

    manager = staff_client("manager")
    detail = manager.get(f"/staff/privacy/requests/{rights_request.pk}/").text
    assert "What can be deleted and what must be kept" in detail
    manager.post(f"/staff/privacy/requests/{rights_request.pk}/", {"do": "fulfil_deletion"})

    rights_request.refresh_from_db()
    patient.refresh_from_db()
    assert rights_request.status == "partial"
    assert "Deleted: Email, mobile number and emergency contact" in rights_request.resolution
    assert "Kept: Name, date of birth, address and visit history" in rights_request.resolution
    assert "7 years after the last visit" in rights_request.resolution
    assert "Kept: Text-message consent history" in rights_request.resolution
    assert patient.email == "" and patient.mobile_phone == ""
    assert patient.first_name == "Delia"  # the medical record keeps its identity
    assert SmsConsentEvent.objects.filter(patient=patient).exists()  # consent proof kept
    assert patient.email_bidx == "" and patient.phone_bidx == ""


def test_deletion_of_a_never_seen_patient_removes_identity_too(staff_client):
    patient = PatientFactory(first_name="Gone", date_of_birth=dt.date(1988, 5, 2))
    rights_request = create_rights_request(patient=patient, kind="deletion")

    staff_client("manager").post(f"/staff/privacy/requests/{rights_request.pk}/", {"do": "fulfil_deletion"})

    patient.refresh_from_db()
    assert patient.first_name == "Removed" and patient.date_of_birth == dt.date(1988, 1, 1)
    assert RightsRequest.objects.get(pk=rights_request.pk).status == "partial"  # audit rows are kept


def test_one_click_marketing_opt_out(portal_client, patient):
    opt_in(patient)
    client = portal_client(patient)
    assert "Stop marketing messages" in client.get("/book/account/").text

    client.post("/book/account/marketing-opt-out/")

    assert not sms_opted_in(patient.mobile_phone, SmsPurpose.MARKETING)
    event = SmsConsentEvent.objects.filter(patient=patient).order_by("-id").first()
    assert event.action == "opt_out" and event.source == "portal_preferences"
    assert "You receive no marketing messages" in client.get("/book/account/").text


def test_access_history_page_shows_staff_reads_from_the_access_log(portal_client, patient, staff_client):
    provider_client = staff_client("provider", first_name="Dana", last_name="Lee")
    assert provider_client.get(f"/staff/patients/{patient.pk}/intake/").status_code == 200  # a logged health read

    page = portal_client(patient).get("/book/account/access-history/").text

    assert "Dana Lee (provider)" in page and "health" in page


def test_manager_exports_a_patients_disclosures_as_csv(staff_client, patient):
    disclose(
        recipient="stripe",
        categories={Category.PAYMENT},
        purpose=Purpose.PAYMENT,
        patient=patient,
        description="=HYPERLINK(evil)",
    )
    disclose(
        recipient="twilio",
        categories={Category.CONTACT},
        purpose=Purpose.SCHEDULING,
        patient=PatientFactory(),
        description="other patient",
    )
    manager = staff_client("manager")

    response = manager.post("/staff/privacy/disclosures.csv", {"patient_id": patient.pk})

    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert "Stripe" in body and "other patient" not in body
    assert "'=HYPERLINK" in body  # formula injection neutralised
    assert PrivacyEvent.objects.filter(kind="disclosures_exported", patient=patient, user=manager.user).exists()


def test_privacy_staff_pages_are_for_managers_only(staff_client):
    client = staff_client("front_desk")
    assert client.get("/staff/privacy/requests/").status_code == 403
    assert client.post("/staff/privacy/disclosures.csv", {"patient_id": 1}).status_code == 403


def test_request_queue_query_count_is_bounded(staff_client, django_assert_max_num_queries):
    for _ in range(15):
        create_rights_request(patient=PatientFactory(), kind="deletion")
    manager = staff_client("manager")
    with django_assert_max_num_queries(12):
        page = manager.get("/staff/privacy/requests/")
    assert page.text.count("/staff/privacy/requests/") >= 15


def test_deletion_request_under_legal_hold_deletes_nothing_and_says_why(staff_client):
    from compliance.services import place_legal_hold

    patient = PatientFactory(first_name="Holden")
    manager = staff_client("manager")
    place_legal_hold(patient=patient, reason="Subpoena 7-A", by=manager.user)
    rights_request = create_rights_request(patient=patient, kind="deletion")

    manager.post(f"/staff/privacy/requests/{rights_request.pk}/", {"do": "fulfil_deletion"})

    rights_request.refresh_from_db()
    patient.refresh_from_db()
    assert rights_request.status == "denied"
    assert "Under a legal hold" in rights_request.resolution
    assert patient.first_name == "Holden" and patient.email


def test_export_zip_carries_intake_history_signed_consents_and_photos(portal_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from consents.models import ConsentKind
    from patients import services as patient_services
    from tests.consents.factories import sign_consent_of_kind
    from tests.factories import UserFactory
    from tests.patients.test_photos import jpeg_bytes

    me = PatientFactory(first_name="Marisol", last_name="Quintero")
    other = PatientFactory(first_name="Bartholomew")
    provider = UserFactory(role="provider")
    patient_services.record_intake(patient=me, answers={"allergies": "Lidocaine"}, recorded_by=provider)
    patient_services.record_intake(patient=other, answers={"allergies": "Penicillin"}, recorded_by=provider)
    sign_consent_of_kind(me, ConsentKind.PHOTO_CLINICAL)
    patient_services.store_photo(
        patient=me, upload=SimpleUploadedFile("a.jpg", jpeg_bytes(size=(64, 48))), uploaded_by=provider
    )

    archive = download(portal_client(me))
    sections_ = json.loads(archive.read("records.json"))["sections"]

    assert [row.get("allergies") for row in sections_["intake_history"]["data"]] == ["Lidocaine"]
    consent = sections_["signed_consents"]["data"][0]
    assert consent["typed_name"] and f"files/signed_consents/{consent['file']}" in archive.namelist()
    photo = sections_["photos"]["data"][0]
    assert archive.read(f"files/photos/{photo['file']}")[:2] == b"\xff\xd8"  # a JPEG
    assert "Penicillin" not in archive.read("records.json").decode()

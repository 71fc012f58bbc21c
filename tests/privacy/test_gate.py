"""Each sharing rule of DESIGN.md §4, allowed and refused."""

import datetime as dt

import pytest

from consents.models import SmsConsentEvent, SmsPurpose
from consents.services import record_sms_consent_event
from patients.services import create_patient
from privacy.gate import LegalBasis, PolicyViolation, disclose, pending_disclosure, record_disclosures
from privacy.models import Disclosure, Recipient
from privacy.policy import Category, Purpose
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    return create_patient(
        first_name="Ana", last_name="Reyes", date_of_birth=dt.date(1988, 5, 2), mobile_phone="(619) 555-0142"
    )


def recipient(key, kind):
    return Recipient.objects.get_or_create(key=key, defaults={"name": key, "kind": kind})[0]


def test_allowed_disclosure_writes_a_disclosure_row(patient):
    row = disclose(
        recipient="twilio",
        categories={Category.CONTACT},
        purpose=Purpose.SCHEDULING,
        patient=patient,
        description="Appointment reminder",
    )
    assert Disclosure.objects.get(pk=row.pk).categories == ["contact"]
    assert row.recipient.key == "twilio"


def test_a_batch_of_disclosures_is_checked_one_by_one_and_recorded_together(patient):
    allowed = [
        pending_disclosure(
            recipient="twilio",
            categories={Category.CONTACT},
            purpose=Purpose.SCHEDULING,
            patient=patient,
            description=f"SMS #{n}",
        )
        for n in range(3)
    ]
    assert not Disclosure.objects.exists()  # nothing recorded until the caller records the batch
    with pytest.raises(PolicyViolation):
        pending_disclosure(recipient="twilio", categories={Category.SMS_CONSENT}, purpose=Purpose.SALE, description="x")

    record_disclosures(allowed)

    assert sorted(Disclosure.objects.values_list("description", flat=True)) == ["SMS #0", "SMS #1", "SMS #2"]
    assert set(Disclosure.objects.values_list("patient_id", flat=True)) == {patient.pk}


def test_nothing_is_ever_sold(patient):
    broker = recipient("broker", "data_broker")
    with pytest.raises(PolicyViolation) as refused:
        disclose(
            recipient=broker,
            categories={Category.CONTACT},
            purpose=Purpose.OPERATIONS,
            patient=patient,
            description="list",
        )
    assert refused.value.clause == "no_sale"
    with pytest.raises(PolicyViolation):
        disclose(
            recipient="hosting", categories={Category.IDENTITY}, purpose=Purpose.SALE, patient=patient, description="x"
        )
    assert not Disclosure.objects.exists()


def test_no_mobile_information_to_affiliates_for_marketing(patient):
    affiliate = recipient("partner", "affiliate")
    with pytest.raises(PolicyViolation) as refused:
        disclose(
            recipient=affiliate,
            categories={Category.CONTACT},
            purpose=Purpose.MARKETING,
            patient=patient,
            description="promo list",
        )
    assert refused.value.clause == "no_mobile_marketing_sharing"


def test_sms_consent_goes_only_to_sms_providers(patient):
    disclose(
        recipient="twilio",
        categories={Category.SMS_CONSENT, Category.CONTACT},
        purpose=Purpose.OPERATIONS,
        patient=patient,
        description="opt-in proof to the SMS provider",
    )
    for key in ("stripe", "emr", "hosting", "support"):
        with pytest.raises(PolicyViolation) as refused:
            disclose(
                recipient=key,
                categories={Category.SMS_CONSENT},
                purpose=Purpose.OPERATIONS,
                patient=patient,
                description="export",
            )
        assert refused.value.clause == "sms_consent_only_to_sms_providers"


def test_processors_get_only_what_their_purpose_needs(patient):
    disclose(
        recipient="stripe",
        categories={Category.IDENTITY, Category.CONTACT, Category.PAYMENT},
        purpose=Purpose.PAYMENT,
        patient=patient,
        description="deposit",
    )
    with pytest.raises(PolicyViolation) as refused:
        disclose(
            recipient="stripe",
            categories={Category.HEALTH, Category.PAYMENT},
            purpose=Purpose.PAYMENT,
            patient=patient,
            description="deposit with notes",
        )
    assert refused.value.clause == "processor_purpose_only"
    with pytest.raises(PolicyViolation):
        disclose(
            recipient="stripe",
            categories={Category.CONTACT},
            purpose=Purpose.MARKETING,
            patient=patient,
            description="x",
        )


def test_legal_disclosure_needs_basis_reference_and_approving_manager(patient):
    police = recipient("sdpd", "law_enforcement")
    clerk = UserFactory(role="front_desk")
    manager = UserFactory(role="manager")
    for basis in (
        None,
        LegalBasis("subpoena", "", manager),
        LegalBasis("subpoena", "24-CV-1", clerk),
        LegalBasis("rumour", "24-CV-1", manager),
    ):
        with pytest.raises(PolicyViolation) as refused:
            disclose(
                recipient=police,
                categories={Category.HEALTH},
                purpose=Purpose.LEGAL,
                patient=patient,
                description="records",
                basis=basis,
            )
        assert refused.value.clause == "legal_basis_required"

    row = disclose(
        recipient=police,
        categories={Category.HEALTH},
        purpose=Purpose.LEGAL,
        patient=patient,
        description="records",
        basis=LegalBasis("subpoena", "24-CV-1", manager),
    )
    assert (row.legal_basis, row.legal_reference, row.approved_by) == ("subpoena", "24-CV-1", manager)


def test_marketing_needs_the_marketing_opt_in(patient):
    with pytest.raises(PolicyViolation) as refused:
        disclose(
            recipient="twilio",
            categories={Category.CONTACT},
            purpose=Purpose.MARKETING,
            patient=patient,
            description="campaign",
        )
    assert refused.value.clause == "marketing_needs_opt_in"

    record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=SmsPurpose.MARKETING,
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.PORTAL_FORM,
        disclosure_text="Yes, send me offers",
        disclosure_version="1",
    )
    assert disclose(
        recipient="twilio",
        categories={Category.CONTACT},
        purpose=Purpose.MARKETING,
        patient=patient,
        description="campaign",
    )


def test_marketing_photos_need_the_photo_marketing_consent(patient):
    record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=SmsPurpose.MARKETING,
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.PORTAL_FORM,
    )
    with pytest.raises(PolicyViolation) as refused:
        disclose(
            recipient="twilio",
            categories={Category.CONTACT, Category.HEALTH},
            purpose=Purpose.MARKETING,
            patient=patient,
            description="before/after",
        )
    assert refused.value.clause in {"photos_need_marketing_consent", "processor_purpose_only"}


def test_inactive_recipient_is_refused(patient):
    Recipient.objects.filter(key="emr").update(active=False)
    with pytest.raises(PolicyViolation) as refused:
        disclose(
            recipient="emr",
            categories={Category.IDENTITY},
            purpose=Purpose.OPERATIONS,
            patient=patient,
            description="sync",
        )
    assert refused.value.clause == "recipient_inactive"


def test_disclosure_log_is_append_only(patient):
    from tests.helpers import assert_append_only

    row = disclose(
        recipient="twilio",
        categories={Category.CONTACT},
        purpose=Purpose.SCHEDULING,
        patient=patient,
        description="reminder",
    )
    assert_append_only(Disclosure, row.pk)

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from consents import selectors, services
from consents.models import ConsentKind, ConsentSignature, ConsentTemplateVersion
from consents.selectors import missing_consents, photos_for_marketing, render_consent_text
from consents.services import ConsentError, ConsentsMissing, assert_consents_complete
from patients.consent_checks import has_photo_clinical_consent, has_photo_marketing_consent
from tests.consents.factories import ConsentTemplateFactory, blank_signature_data_url, signature_data_url
from tests.factories import AppointmentFactory, PatientFactory
from tests.helpers import assert_append_only, assert_rejected_by_database

pytestmark = pytest.mark.django_db


def sign(patient, template, **kw):
    return services.sign_consent(
        patient=patient,
        version=selectors.current_version(template),
        typed_name="Maria Lopez",
        signature_data_url=signature_data_url(),
        channel=ConsentSignature.Channel.FRONT_DESK,
        **kw,
    )


def template_with_text(text="Version one text.", **kw):
    template = ConsentTemplateFactory(**kw)
    services.publish_template_version(template=template, body=text)
    return template


def test_new_template_version_leaves_old_signatures_pointing_at_the_old_text():
    template = template_with_text("Botulinum toxin may cause bruising.")
    patient = PatientFactory()
    old_signature = sign(patient, template)
    old_hash = old_signature.rendered_text_sha256

    new_version = services.publish_template_version(template=template, body="Updated: may cause bruising or ptosis.")

    old_signature.refresh_from_db()
    assert new_version.number == 2
    assert old_signature.template_version.number == 1
    assert old_signature.template_version.body == "Botulinum toxin may cause bruising."
    assert (
        old_signature.rendered_text_sha256 == old_hash == selectors.rendered_text_sha256(old_signature.template_version)
    )
    assert "ptosis" not in render_consent_text(old_signature.template_version)
    assert selectors.current_version(template) == new_version


def test_published_version_text_cannot_be_changed_or_deleted_in_the_database():
    template = template_with_text("Original words.")
    version = selectors.current_version(template)
    assert_rejected_by_database(
        "UPDATE consents_consenttemplateversion SET body = 'Altered' WHERE id = %s", [version.pk]
    )
    assert_append_only(ConsentTemplateVersion, version.pk)
    version.refresh_from_db()
    assert version.body == "Original words."


def test_publishing_identical_text_does_not_make_a_new_version():
    template = template_with_text("Same words.")
    again = services.publish_template_version(template=template, body="  Same words. ")
    assert again.number == 1
    assert template.versions.count() == 1


def test_signature_stores_hash_ip_user_agent_and_encrypted_drawing(rf):
    template = template_with_text()
    request = rf.post("/", HTTP_USER_AGENT="TabletBrowser/1.0", REMOTE_ADDR="203.0.113.9")
    signature = sign(PatientFactory(), template, request=request)
    signature.refresh_from_db()
    assert signature.ip_address == "203.0.113.9"
    assert signature.user_agent == "TabletBrowser/1.0"
    assert len(signature.rendered_text_sha256) == 64
    assert signature.expires_at == signature.signed_at + dt.timedelta(days=365)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT typed_name, signature_png_b64 FROM consents_consentsignature WHERE id = %s", [signature.pk]
        )
        typed, png = cursor.fetchone()
    assert "Maria" not in typed
    assert not png.startswith("iVBOR")  # base64 of a PNG header: stored only encrypted
    assert_append_only(ConsentSignature, signature.pk)


def test_blank_or_missing_drawing_is_refused_with_a_message():
    template = template_with_text()
    for data_url in ("", "data:image/png;base64,!!!", blank_signature_data_url()):
        with pytest.raises(ConsentError):
            services.sign_consent(
                patient=PatientFactory(),
                version=selectors.current_version(template),
                typed_name="Maria Lopez",
                signature_data_url=data_url,
                channel=ConsentSignature.Channel.PORTAL,
            )
    assert ConsentSignature.objects.count() == 0


def test_service_needing_consent_blocks_completion_until_signed():
    appointment = AppointmentFactory()
    template = template_with_text(title="Neuromodulator treatment consent")
    template.required_for_services.add(appointment.service)

    assert [m.template for m in missing_consents(appointment)] == [template]
    assert missing_consents(appointment)[0].reason == "missing"
    with pytest.raises(ConsentsMissing) as excinfo:
        assert_consents_complete(appointment)
    assert "Neuromodulator treatment consent" in str(excinfo.value)

    sign(appointment.patient, template, appointment=appointment)

    assert missing_consents(appointment) == []
    assert_consents_complete(appointment)  # no exception: the visit may be completed


def test_expired_consent_counts_as_missing():
    appointment = AppointmentFactory()
    template = template_with_text(validity_days=30)
    template.required_for_services.add(appointment.service)
    sign(appointment.patient, template, signed_at=timezone.now() - dt.timedelta(days=31))

    assert [m.reason for m in missing_consents(appointment)] == ["expired"]


def test_consent_of_another_patient_does_not_count():
    appointment = AppointmentFactory()
    template = template_with_text()
    template.required_for_services.add(appointment.service)
    sign(PatientFactory(), template)
    assert len(missing_consents(appointment)) == 1


def test_revoked_photo_marketing_consent_stops_marketing_use_immediately():
    patient = PatientFactory()
    other = PatientFactory()
    marketing = template_with_text(kind=ConsentKind.PHOTO_MARKETING, validity_days=None)
    clinical = template_with_text(kind=ConsentKind.PHOTO_CLINICAL, validity_days=None)
    assert has_photo_marketing_consent(patient) is False
    marketing_signature = sign(patient, marketing)
    sign(patient, clinical)
    sign(other, marketing)
    assert has_photo_marketing_consent(patient) is True
    assert has_photo_clinical_consent(patient) is True
    # photos_for_marketing narrows any queryset of rows that carry a `patient` foreign key.
    from patients.models import Patient

    assert set(selectors.marketing_photo_patients()) == {patient, other}

    services.revoke_consent(signature=marketing_signature, reason="Changed my mind")

    assert has_photo_marketing_consent(patient) is False
    assert has_photo_clinical_consent(patient) is True  # the clinical scope is separate
    assert set(selectors.marketing_photo_patients()) == {other}
    assert list(photos_for_marketing(ConsentSignature.objects.filter(patient__in=Patient.objects.all()))) == list(
        ConsentSignature.objects.filter(patient=other)
    )
    marketing_signature.refresh_from_db()
    assert marketing_signature.revocation.reason == "Changed my mind"  # a new row; the signature is unchanged


def test_revocation_is_recorded_once():
    template = template_with_text()
    signature = sign(PatientFactory(), template)
    services.revoke_consent(signature=signature)
    with pytest.raises(ConsentError):
        services.revoke_consent(signature=signature)


def test_signature_in_the_past_is_not_valid_before_it_was_made():
    template = template_with_text(kind=ConsentKind.PHOTO_CLINICAL)
    patient = PatientFactory()
    with time_machine.travel(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC), tick=False):
        sign(patient, template)
    assert has_photo_clinical_consent(patient) is True
    assert not selectors.has_valid_consent_of_kind(
        patient, ConsentKind.PHOTO_CLINICAL, at=dt.datetime(2025, 12, 31, tzinfo=dt.UTC)
    )


def test_front_desk_check_in_warns_and_provider_cannot_complete_until_signed(staff_client):
    appointment = AppointmentFactory(status="booked")
    template = template_with_text(title="Dermal filler consent")
    template.required_for_services.add(appointment.service)
    client = staff_client("front_desk")

    checked_in = client.post(f"/staff/appointments/{appointment.pk}/check-in/", HTTP_HX_REQUEST="true")

    assert "Consent needed before this visit: Dermal filler consent" in checked_in.text
    assert f"/staff/consents/appointment/{appointment.pk}/" in checked_in.text
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"  # check-in is a warning, not a block

    refused = client.post(f"/staff/appointments/{appointment.pk}/complete/", HTTP_HX_REQUEST="true")

    assert "Consent required before this visit can be completed" in refused.text
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"

    sign(appointment.patient, template, appointment=appointment)
    client.post(f"/staff/appointments/{appointment.pk}/complete/", HTTP_HX_REQUEST="true")
    appointment.refresh_from_db()
    assert appointment.status == "completed"

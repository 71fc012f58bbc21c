"""Who may change a number's consent (issue 17): staff at the desk, the preferences page, carriers."""

import pytest

from consents import services
from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import sms_opted_in
from messaging.selectors import marketing_audience
from tests.consents.factories import verify_phone
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_front_desk_cannot_record_verbal_marketing_consent(staff_client):
    """Observed: front desk recorded a verbal marketing opt-in and the patient joined campaign
    audiences at once. Marketing texts need prior express written consent (TCPA)."""
    patient = PatientFactory(mobile_phone="+18585550161")
    client = staff_client("front_desk")
    url = f"/staff/patients/{patient.pk}/sms-consent/"

    response = client.post(url, {"purpose": "marketing", "action": "opt_in", "note": "Said yes to offers at checkout"})

    assert response.status_code == 400
    assert not sms_opted_in(patient.mobile_phone, SmsPurpose.MARKETING)
    assert patient not in marketing_audience()
    assert "written consent" in response.text


def test_staff_page_offers_no_verbal_marketing_opt_in(staff_client):
    patient = PatientFactory(mobile_phone="+18585550162")
    page = staff_client("front_desk").get(f"/staff/patients/{patient.pk}/sms-consent/").text
    assert "Opt in to appointment texts (said at the desk)" in page
    assert "Marketing needs written consent" in page


def test_staff_cannot_re_opt_in_a_number_that_texted_stop():
    patient = PatientFactory(mobile_phone="+18585550163")
    services.record_sms_consent_event(
        phone=patient.mobile_phone, purpose=SmsPurpose.TRANSACTIONAL, action="opt_out", source="keyword"
    )
    with pytest.raises(services.ConsentError, match="Only the number itself can opt back in"):
        services.record_verbal_sms_consent(
            patient=patient,
            purpose=SmsPurpose.TRANSACTIONAL,
            action="opt_in",
            note="Asked at the desk",
            staff_user=None,
            request=None,
        )
    assert not sms_opted_in(patient.mobile_phone, SmsPurpose.TRANSACTIONAL)


def test_desk_opt_in_records_staff_as_who_asserted_it(staff_client):
    patient = PatientFactory(mobile_phone="+18585550164")
    client = staff_client("front_desk")
    client.post(
        f"/staff/patients/{patient.pk}/sms-consent/",
        {"purpose": "transactional", "action": "opt_in", "note": "Gave her mobile at check-in"},
    )
    event = SmsConsentEvent.objects.get()
    assert (event.asserted_by, event.verification, event.staff_user) == ("staff", "in_person", client.user)
    page = client.get(f"/staff/patients/{patient.pk}/sms-consent/").text
    assert "Staff, for the patient at the desk" in page and "Patient at the desk, in person" in page


def test_preferences_page_of_an_unproven_number_makes_a_pending_opt_in(client):
    from consents import links

    patient = PatientFactory(mobile_phone="+18585550165")
    url = f"/book/preferences/{links.preferences_token(patient)}/"
    response = client.post(url, {"transactional": "on", "marketing": "on"}, follow=True)

    assert not sms_opted_in(patient.mobile_phone, SmsPurpose.TRANSACTIONAL)
    assert set(SmsConsentEvent.objects.values_list("action", flat=True)) == {"pending"}
    assert "reply YES" in response.text


def test_preferences_page_of_a_verified_number_opts_in_at_once(client):
    from consents import links

    patient = PatientFactory(mobile_phone="+18585550166")
    verify_phone(patient)
    client.post(f"/book/preferences/{links.preferences_token(patient)}/", {"marketing": "on"})
    assert sms_opted_in(patient.mobile_phone, SmsPurpose.MARKETING)
    event = SmsConsentEvent.objects.get()
    assert (event.asserted_by, event.verification) == ("patient", "verified_record")


def test_opt_out_from_the_preferences_page_is_honoured_even_for_an_unproven_number(client):
    from consents import links

    patient = PatientFactory(mobile_phone="+18585550167")
    services.record_sms_consent_event(
        phone=patient.mobile_phone, purpose=SmsPurpose.TRANSACTIONAL, action="opt_in", source="keyword"
    )
    client.post(f"/book/preferences/{links.preferences_token(patient)}/", {})
    assert not sms_opted_in(patient.mobile_phone, SmsPurpose.TRANSACTIONAL)


def test_a_code_texted_to_the_number_and_entered_on_the_portal_confirms_it_and_its_pending_opt_ins(client):
    import re

    from consents import links
    from consents.models import PhoneVerification
    from messaging import dispatch
    from messaging.models import Kind, OutboundMessage

    patient = PatientFactory(mobile_phone="+18585550168")
    url = f"/book/preferences/{links.preferences_token(patient)}/"
    client.post(url, {"transactional": "on", "marketing": "on"})
    assert set(SmsConsentEvent.objects.values_list("action", flat=True)) == {"pending"}
    assert "Confirm this number is yours" in client.get(url).text

    client.post(url + "code/")
    code_text = OutboundMessage.objects.get(kind=Kind.PHONE_CODE)
    dispatch.run_once()
    code_text.refresh_from_db()
    assert code_text.status == "sent"  # a code the person asked for goes to a pending number
    code = re.search(r"\b(\d{6})\b", code_text.body).group(1)

    wrong = client.post(url + "code/", {"code": "000000" if code != "000000" else "111111"}, follow=True)
    assert "not right" in wrong.text and not PhoneVerification.objects.exists()
    done = client.post(url + "code/", {"code": code}, follow=True)

    assert "Your number is confirmed" in done.text
    assert PhoneVerification.objects.filter(patient=patient, method="sms_code").exists()
    assert sms_opted_in(patient.mobile_phone, SmsPurpose.TRANSACTIONAL)
    assert sms_opted_in(patient.mobile_phone, SmsPurpose.MARKETING)
    event = SmsConsentEvent.objects.filter(action="opt_in").first()
    assert (event.source, event.asserted_by, event.verification) == ("portal_code", "patient", "sms_code")
    assert OutboundMessage.objects.filter(kind=Kind.MARKETING_CONFIRMATION).exists()


def test_no_code_is_texted_to_a_number_that_opted_out():
    patient = PatientFactory(mobile_phone="+18585550169")
    for purpose in SmsPurpose:
        services.record_sms_consent_event(
            phone=patient.mobile_phone, purpose=purpose, action="opt_out", source="keyword"
        )
    with pytest.raises(services.ConsentError, match="Only the number itself"):
        services.send_phone_code(patient=patient)

"""Retention (§9): dry run vs real run on a dataset spanning ages; legal holds block purges."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from compliance.retention import medical_records_kept_until
from compliance.services import place_legal_hold
from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import sms_opted_in
from consents.services import record_sms_consent_event
from privacy.gate import disclose
from privacy.models import Disclosure, LegalHold, PortalSignInAttempt, PrivacyEvent, RetentionRule, RetentionRun
from privacy.policy import Category, Purpose
from tests.factories import AppointmentFactory, PatientFactory, UserFactory
from tests.helpers import assert_rejected_by_database

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def years_ago(years, days=0):
    return NOW - dt.timedelta(days=int(years * 365) + days)


def consent_event(patient, action, at):
    return record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=SmsPurpose.MARKETING,
        action=action,
        source=SmsConsentEvent.Source.PORTAL_FORM,
        patient=patient,
        occurred_at=at,
    )


@pytest.fixture
def dataset():
    """Patients and rows of every age, both sides of each limit."""
    data = {}
    with time_machine.travel(years_ago(9)):
        data["old_patient"] = PatientFactory(first_name="Olivia", date_of_birth=dt.date(1970, 3, 4))
        data["minor_patient"] = PatientFactory(first_name="Mina", date_of_birth=dt.date(2013, 6, 1))
        data["old_lead"] = PatientFactory(first_name="Leah")
        data["held_patient"] = PatientFactory(first_name="Hal", date_of_birth=dt.date(1960, 1, 1))
    data["recent_patient"] = PatientFactory(first_name="Rita")
    data["new_lead"] = PatientFactory(first_name="Nina")
    AppointmentFactory(patient=data["old_patient"], starts_at=years_ago(8), status="completed")
    # the minor was aged 5 then
    AppointmentFactory(patient=data["minor_patient"], starts_at=years_ago(8, days=-1), status="completed")
    AppointmentFactory(patient=data["held_patient"], starts_at=years_ago(8, days=-2), status="completed")
    AppointmentFactory(patient=data["recent_patient"], starts_at=years_ago(1), status="completed")
    # SMS consent: an old superseded opt-in, the old deciding opt-out, and recent events
    data["old_superseded"] = consent_event(data["recent_patient"], "opt_in", years_ago(6))
    data["old_deciding"] = consent_event(data["recent_patient"], "opt_out", years_ago(5, days=30))
    data["young_event"] = consent_event(data["old_patient"], "opt_in", years_ago(4))
    # disclosures and audit either side of 6 years
    for key, when in (("old_disclosure", years_ago(7)), ("young_disclosure", years_ago(5))):
        with time_machine.travel(when):
            data[key] = disclose(
                recipient="twilio",
                categories={Category.CONTACT},
                purpose=Purpose.SCHEDULING,
                patient=data["recent_patient"],
                description=key,
            )
    with time_machine.travel(years_ago(7)):
        data["held_disclosure"] = disclose(
            recipient="twilio",
            categories={Category.CONTACT},
            purpose=Purpose.SCHEDULING,
            patient=data["held_patient"],
            description="held",
        )
    data["old_event"] = PrivacyEvent.objects.create(kind="signed_in", at=years_ago(7), ip_address="203.0.113.9")
    data["tech_event"] = PrivacyEvent.objects.create(
        kind="signed_in", at=NOW - dt.timedelta(days=100), ip_address="203.0.113.7", user_agent="Firefox"
    )
    data["fresh_event"] = PrivacyEvent.objects.create(kind="signed_in", ip_address="203.0.113.8", user_agent="Safari")
    PortalSignInAttempt.objects.create(at=NOW - dt.timedelta(days=91), ip_address="203.0.113.7", kind="lookup")
    place_legal_hold(
        patient=data["held_patient"], reason="Litigation hold, case 26-CV-101", by=UserFactory(role="manager")
    )
    return data


def snapshot(data):
    names = {}
    for key in ("old_patient", "minor_patient", "old_lead", "held_patient", "recent_patient", "new_lead"):
        data[key].refresh_from_db()
        names[key] = data[key].first_name
    return names


def test_dry_run_lists_what_would_happen_and_changes_nothing(dataset, capsys):
    before = snapshot(dataset)
    disclosures, consent_rows = Disclosure.objects.count(), SmsConsentEvent.objects.count()

    call_command("enforce_retention", "--dry-run")

    output = capsys.readouterr().out
    assert "(dry run)" in output and "would act on" in output
    run = RetentionRun.objects.get()
    assert run.dry_run
    assert run.report["medical_records"]["ids"] == [dataset["old_patient"].pk]
    assert run.report["abandoned_leads"]["ids"] == [dataset["old_lead"].pk]
    assert run.report["disclosures"]["ids"] == [dataset["old_disclosure"].pk]
    assert run.report["sms_consent_proof"]["ids"] == [dataset["old_superseded"].pk]
    assert snapshot(dataset) == before
    assert Disclosure.objects.count() == disclosures and SmsConsentEvent.objects.count() == consent_rows
    assert PrivacyEvent.objects.get(pk=dataset["tech_event"].pk).ip_address == "203.0.113.7"


def test_real_run_purges_and_deidentifies_only_what_expired(dataset):
    call_command("enforce_retention")

    names = snapshot(dataset)
    assert names["old_patient"] == "Removed"  # 8 years after the last visit, adult
    assert dataset["old_patient"].date_of_birth == dt.date(1970, 1, 1)
    assert names["old_lead"] == "Removed"  # never visited, 9 years old
    assert names["minor_patient"] == "Mina"  # 8 years after the visit but not yet 19
    assert names["recent_patient"] == "Rita"
    assert names["new_lead"] == "Nina"
    assert not Disclosure.objects.filter(pk=dataset["old_disclosure"].pk).exists()
    assert Disclosure.objects.filter(pk=dataset["young_disclosure"].pk).exists()
    assert not SmsConsentEvent.objects.filter(pk=dataset["old_superseded"].pk).exists()
    # the deciding event is older than 5 years but is the current state: kept
    assert SmsConsentEvent.objects.filter(pk=dataset["old_deciding"].pk).exists()
    assert not sms_opted_in(dataset["recent_patient"].mobile_phone, SmsPurpose.MARKETING)
    assert SmsConsentEvent.objects.filter(pk=dataset["young_event"].pk).exists()
    assert not PrivacyEvent.objects.filter(pk=dataset["old_event"].pk).exists()
    tech = PrivacyEvent.objects.get(pk=dataset["tech_event"].pk)
    assert tech.ip_address is None and tech.user_agent == ""
    assert PrivacyEvent.objects.get(pk=dataset["fresh_event"].pk).ip_address == "203.0.113.8"
    assert not PortalSignInAttempt.objects.exists()
    run = RetentionRun.objects.get()
    assert not run.dry_run and run.finished_at is not None


def test_legal_hold_blocks_purge_and_deidentification(dataset):
    call_command("enforce_retention")

    snapshot(dataset)
    assert dataset["held_patient"].first_name == "Hal"
    assert Disclosure.objects.filter(pk=dataset["held_disclosure"].pk).exists()
    report = RetentionRun.objects.get().report
    assert report["medical_records"]["skipped_on_legal_hold"] == 1
    assert report["disclosures"]["skipped_on_legal_hold"] == 1

    hold = LegalHold.objects.get()
    from compliance.services import lift_legal_hold

    lift_legal_hold(hold=hold, reason="Case closed", by=hold.placed_by)
    call_command("enforce_retention")
    dataset["held_patient"].refresh_from_db()
    assert dataset["held_patient"].first_name == "Removed"
    assert not Disclosure.objects.filter(pk=dataset["held_disclosure"].pk).exists()


def test_retention_never_goes_below_the_legal_minimum(staff_client):
    rule = RetentionRule.objects.get(record_type="medical_records")
    manager = staff_client("manager")

    page = manager.post(
        "/staff/privacy/retention/", {"rule": rule.pk, f"r{rule.pk}-keep_days": 365, f"r{rule.pk}-basis": rule.basis}
    )

    assert "at least 2555 days" in page.text
    rule.refresh_from_db()
    assert rule.keep_days == 7 * 365
    manager.post(
        "/staff/privacy/retention/",
        {"rule": rule.pk, f"r{rule.pk}-keep_days": 3000, f"r{rule.pk}-basis": "Longer on counsel's advice"},
    )
    rule.refresh_from_db()
    assert rule.keep_days == 3000 and rule.updated_by == manager.user
    assert PrivacyEvent.objects.filter(kind="retention_rule").exists()


def test_retention_schedule_page_shows_the_defaults(staff_client):
    page = staff_client("manager").get("/staff/privacy/retention/").text
    rule = RetentionRule.objects.get(record_type="technical_data")
    # every input of a row belongs to that row's form, so Save submits both days and reason
    for field in ("keep_days", "basis"):
        assert re.search(rf'name="r{rule.pk}-{field}"[^>]*form="rule-{rule.pk}"', page), field
    for label in ("Medical records", "SMS consent proof", "Accounting of disclosures", "Technical data", "Abandoned"):
        assert label in page


def test_minor_medical_records_kept_until_nineteen_and_seven_years():
    born = dt.date(2010, 1, 1)
    assert medical_records_kept_until(date_of_birth=born, last_visit=dt.date(2026, 1, 1), keep_days=2555) > dt.date(
        2032, 12, 1
    )
    assert medical_records_kept_until(date_of_birth=born, last_visit=dt.date(2011, 1, 1), keep_days=2555) == dt.date(
        2029, 1, 1
    )


def test_managers_place_and_lift_holds_with_a_reason(staff_client):
    patient = PatientFactory()
    manager = staff_client("manager")

    manager.post("/staff/privacy/holds/", {"patient_id": patient.pk, "reason": "Subpoena 44-B"})
    hold = LegalHold.objects.get(patient=patient)
    missing_reason = manager.post(f"/staff/privacy/holds/{hold.pk}/lift/", {"reason": ""}, follow=True)
    assert "Say why" in missing_reason.text
    manager.post(f"/staff/privacy/holds/{hold.pk}/lift/", {"reason": "Released by counsel"})

    hold.refresh_from_db()
    assert hold.lifted_at is not None and hold.lift_reason == "Released by counsel"
    assert list(PrivacyEvent.objects.filter(patient=patient).values_list("kind", flat=True)) == [
        "hold_lifted",
        "hold_placed",
    ]
    assert_rejected_by_database("DELETE FROM privacy_legalhold WHERE id = %s", [hold.pk])


def test_privacy_trail_allows_only_clearing_technical_data():
    event = PrivacyEvent.objects.create(kind="signed_in", ip_address="203.0.113.1", user_agent="UA")
    assert_rejected_by_database("UPDATE privacy_privacyevent SET kind = 'signed_out' WHERE id = %s", [event.pk])
    assert_rejected_by_database("UPDATE privacy_privacyevent SET ip_address = '10.0.0.1' WHERE id = %s", [event.pk])
    PrivacyEvent.objects.filter(pk=event.pk).update(ip_address=None, user_agent="")
    assert PrivacyEvent.objects.get(pk=event.pk).ip_address is None

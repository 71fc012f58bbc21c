"""What a deletion request may and may not remove (§10 "deletion where legally permissible").

`assess(patient)` lists each kind of record with a decision: delete now, or keep (why, until when).
Apps holding other records (intake, photos, payments) add their own items with
`register_deletion_rule(fn)` in `<app>/privacy_export.py`; fn(patient, facts) -> [DeletionItem]."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from compliance.retention import last_visit_of, medical_records_kept_until, rule_days
from privacy.models import RecordType


@dataclass
class DeletionItem:
    label: str
    deletable: bool
    reason: str
    kept_until: dt.date | None = None
    apply: object = None  # callable(patient) run at fulfilment when deletable


@dataclass
class Facts:
    today: dt.date
    last_visit: dt.date | None
    medical_until: dt.date | None
    on_hold: bool
    has_future_visits: bool


_RULES: list = []


def register_deletion_rule(fn):
    _RULES.append(fn)
    return fn


def facts_about(patient) -> Facts:
    from privacy.selectors import active_hold

    last_visit = last_visit_of(patient)
    medical_until = (
        medical_records_kept_until(
            date_of_birth=patient.date_of_birth,
            last_visit=last_visit,
            keep_days=rule_days(RecordType.MEDICAL_RECORDS),
        )
        if last_visit
        else None
    )
    future = patient.appointments.exclude(status="cancelled").filter(starts_at__gt=timezone.now()).exists()
    return Facts(
        today=timezone.localdate(),
        last_visit=last_visit,
        medical_until=medical_until,
        on_hold=active_hold(patient) is not None,
        has_future_visits=future,
    )


def assess(patient) -> list[DeletionItem]:
    from cinrella.app_hooks import app_modules

    list(app_modules("privacy_export"))  # apps register their rules there
    facts = facts_about(patient)
    items = [item for rule in _RULES for item in rule(patient, facts)]
    if facts.on_hold:
        # A legal hold freezes everything: nothing may be destroyed while it is in place.
        for item in items:
            if item.deletable:
                item.deletable = False
                item.reason = "Under a legal hold: nothing may be deleted while the hold is in place."
                item.apply = None
    return items


def _clear_contact(patient):
    from compliance.services import clear_contact_details

    clear_contact_details(patient=patient)


def _clear_identity(patient):
    from compliance.services import deidentify_patient

    deidentify_patient(patient=patient, reason="deletion request")


def _clear_technical(patient):
    from privacy.models import PrivacyEvent

    PrivacyEvent.objects.filter(patient=patient).update(ip_address=None, user_agent="")


@register_deletion_rule
def core_rules(patient, facts: Facts) -> list[DeletionItem]:
    items = []
    if facts.has_future_visits:
        items.append(
            DeletionItem(
                "Email, mobile number and emergency contact",
                False,
                "You have upcoming visits: we need a way to reach you about them. Cancel them first, "
                "or ask us to delete these details after your last visit.",
            )
        )
    else:
        items.append(
            DeletionItem(
                "Email, mobile number and emergency contact",
                True,
                "Not part of the medical record.",
                apply=_clear_contact,
            )
        )
    if facts.medical_until and facts.medical_until > facts.today:
        items.append(
            DeletionItem(
                "Name, date of birth, address and visit history (your medical record)",
                False,
                "State law requires medical records to be kept at least 7 years after the last visit "
                "(for patients under 18: until age 19 and at least 7 years) — policy §9.",
                kept_until=facts.medical_until,
            )
        )
    elif facts.has_future_visits:
        items.append(
            DeletionItem(
                "Name, date of birth and address",
                False,
                "Needed for your upcoming visits.",
            )
        )
    else:
        items.append(
            DeletionItem(
                "Name, date of birth and address",
                True,
                "No medical record of yours must be kept any longer: de-identified.",
                apply=_clear_identity,
            )
        )
    items += [
        DeletionItem(
            "Text-message consent history",
            False,
            "Proof of what you agreed to and when you opted out must be kept at least 5 years (policy §4). "
            "Your marketing texts stop as soon as you opt out.",
        ),
        DeletionItem(
            "Record of disclosures and audit trail (including policy acceptances and this request)",
            False,
            "Federal law (HIPAA) requires the accounting of disclosures and audit records to be kept 6 years.",
        ),
        DeletionItem(
            "Technical data (IP address, browser) in our privacy trail",
            True,
            "Not needed once your request is handled.",
            apply=_clear_technical,
        ),
    ]
    return items

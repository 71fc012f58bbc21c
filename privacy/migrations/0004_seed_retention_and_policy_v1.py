import datetime as dt
from pathlib import Path

from django.db import migrations

# DESIGN.md §6 defaults (docs/privacy.md has the same table). Managers may lengthen, never shorten.
RULES = [
    (
        "medical_records",
        7 * 365,
        "last visit (minors: the later of age 19 and 7 years)",
        "deidentify",
        "State medical-record retention law (policy §9): at least 7 years after the last visit; minors until 19.",
    ),
    (
        "sms_consent_proof",
        5 * 365,
        "the event; the latest event per phone and purpose is always kept",
        "purge",
        "Proof of SMS consent (policy §4; TCPA statute of limitations).",
    ),
    ("disclosures", 6 * 365, "the disclosure", "purge", "HIPAA §164.528 accounting of disclosures: 6 years."),
    ("audit", 6 * 365, "the event", "purge", "HIPAA §164.316(b)(2) documentation: 6 years."),
    (
        "technical_data",
        90,
        "collection",
        "deidentify",
        "Policy §2D technical information: kept only as long as needed for security (90 days).",
    ),
    (
        "abandoned_leads",
        365,
        "creation of a record that never led to a visit",
        "deidentify",
        "Policy §9: kept only as long as necessary for the purpose (booking).",
    ),
]

POLICY_TEXT = Path(__file__).resolve().parent.parent / "policy_texts" / "v1.txt"


def seed(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for record_type, days, counted_from, action, basis in RULES:
        RetentionRule.objects.get_or_create(
            record_type=record_type,
            defaults={"keep_days": days, "counted_from": counted_from, "action": action, "basis": basis},
        )
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    PolicyVersion.objects.get_or_create(
        number=1,
        defaults={
            "effective_at": dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC),
            "text": POLICY_TEXT.read_text(encoding="utf-8").strip(),
            "summary_of_changes": "First published version.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_rights_retention_policy")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

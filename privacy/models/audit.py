import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from privacy.policy import LEGAL_BASES, Category, Purpose, RecipientKind


class Recipient(models.Model):
    """A party outside the clinic that may receive patient data (policy §5 registry)."""

    key = models.SlugField(max_length=50, unique=True, help_text="Used by the code, e.g. 'twilio', 'stripe'.")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=[(k.value, k.value.replace("_", " ")) for k in RecipientKind])
    active = models.BooleanField(default=True)
    agreement = models.CharField(max_length=200, blank=True, help_text="BAA / data-processing agreement reference.")
    notes = models.TextField(blank=True)

    def __str__(self):
        return f"{self.name} ({self.kind})"


class Disclosure(models.Model):
    """Accounting of disclosures (HIPAA §164.528): one row per flow of patient data out of the
    clinic, written by `privacy.gate.disclose` before anything leaves. Append-only; kept ≥ 6 years."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="disclosures")
    categories = ArrayField(models.CharField(max_length=16, choices=[(c.value, c.value) for c in Category]))
    purpose = models.CharField(max_length=24, choices=[(p.value, p.value) for p in Purpose])
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    description = models.CharField(max_length=300)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    legal_basis = models.CharField(max_length=32, blank=True, choices=list(LEGAL_BASES.items()))
    legal_reference = models.CharField(max_length=200, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["patient", "-at"], name="disclosure_patient_at")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"Disclosure #{self.pk} to {self.recipient_id} ({self.purpose})"


def no_truncate_trigger() -> pgtrigger.Trigger:
    """Row triggers never see TRUNCATE; this statement trigger refuses it on audit tables.

    The one exception is the test suite's flush between transactional tests, which sets
    `cinrella.allow_truncate` for its own transaction only (tests/conftest.py); nothing in the
    application sets it."""
    return pgtrigger.Trigger(
        name="no_truncate",
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        func=(
            "IF current_setting('cinrella.allow_truncate', true) = 'on' THEN RETURN NULL; END IF; "
            "RAISE EXCEPTION 'append-only audit table %: TRUNCATE refused', TG_TABLE_NAME; RETURN NULL;"
        ),
    )


class AccessLog(models.Model):
    """One row per access to a patient's data that the policy wants on record (§6, §7): every read
    of health data, every export, every admin view of a patient, and refused attempts.

    Append-only at the database level: UPDATE and DELETE fail even for the app's own connection.
    The patient reference has no database constraint on purpose: the log must outlive the record
    it describes (retention keeps audit rows ≥ 6 years)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="patient_accesses"
    )
    # Snapshot of who it was, readable even if the account is renamed later.
    username = models.CharField(max_length=150, blank=True)
    roles = models.CharField(max_length=100, blank=True)
    is_superuser = models.BooleanField(default=False)
    # Set when the person reading is the patient (portal), so "own access history" can be shown.
    via_portal = models.BooleanField(default=False)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="access_log",
    )
    category = models.CharField(max_length=20)
    action = models.CharField(max_length=20)
    allowed = models.BooleanField(default=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # Path only, never the query string (it may carry what someone typed).
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-at"], name="accesslog_patient_at"),
            models.Index(fields=["user", "-at"], name="accesslog_user_at"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            no_truncate_trigger(),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.category} patient #{self.patient_id}"

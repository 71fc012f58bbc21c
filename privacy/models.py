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


from privacy.models_rights import *  # noqa: E402, F403  (privacy models beyond the disclosure log)

"""Consent records. This module starts with the SMS consent ledger (policy §4, DESIGN.md §5)."""

import pgtrigger
from django.conf import settings
from django.db import models

from cinrella.crypto import EncryptedCharField


class SmsPurpose(models.TextChoices):
    TRANSACTIONAL = "transactional", "Transactional (reminders, confirmations, care instructions)"
    MARKETING = "marketing", "Marketing"


class SmsConsentEvent(models.Model):
    """One event in the append-only SMS consent ledger, per (E.164 phone, purpose).

    The current state of a phone for a purpose is its latest opt_in/opt_out event. Rows are never
    edited or deleted (database trigger); the retention job may not touch them before 5 years.
    The phone is encrypted; `phone_bidx` (blind index) finds a phone's events without plaintext."""

    class Action(models.TextChoices):
        OPT_IN = "opt_in", "Opted in"
        OPT_OUT = "opt_out", "Opted out"
        HELP = "help", "Asked for help"

    class Source(models.TextChoices):
        PORTAL_FORM = "portal_form", "Portal booking form"
        PORTAL_PREFERENCES = "portal_preferences", "Patient's preferences page"
        STAFF_VERBAL = "staff_verbal", "Recorded by staff (verbal)"
        KEYWORD = "keyword", "Keyword reply"
        CARRIER_ERROR = "carrier_error", "Carrier opt-out error"
        FREE_TEXT = "free_text", "Free-text revocation"

    phone = EncryptedCharField(max_length=20)
    phone_bidx = models.CharField(max_length=64, editable=False)
    purpose = models.CharField(max_length=16, choices=SmsPurpose.choices)
    action = models.CharField(max_length=8, choices=Action.choices)
    source = models.CharField(max_length=24, choices=Source.choices)
    disclosure_text = models.TextField(blank=True, help_text="The exact words the person agreed to or replied.")
    disclosure_version = models.CharField(max_length=32, blank=True)
    occurred_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    page_url = models.CharField(max_length=300, blank=True)
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    note = models.TextField(blank=True)
    inbound_message_sid = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="sms_consent_events"
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # "Current state" = latest event for (phone, purpose): one index range scan, no ledger scan.
            models.Index(fields=["phone_bidx", "purpose", "-occurred_at", "-id"], name="sms_consent_latest"),
        ]
        constraints = [
            # One ledger event per inbound message, purpose and action: webhook retries stay single.
            models.UniqueConstraint(
                fields=["inbound_message_sid", "purpose", "action"],
                condition=~models.Q(inbound_message_sid=""),
                name="one_event_per_inbound_message",
            )
        ]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"SMS consent event #{self.pk} ({self.purpose} {self.action})"

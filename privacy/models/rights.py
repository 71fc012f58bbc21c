"""Privacy records beyond the disclosure log: portal sign-in codes, patient-rights requests, the
privacy audit trail, retention schedule and runs, legal holds, policy versions and acceptances,
guardians of minors. The behaviour around them lives in the compliance app (rights, retention, the
portal account); the tables stay in this app so the privacy records keep one migration history."""

import datetime as dt

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cinrella.crypto import EncryptedCharField, EncryptedEmailField

APPEND_ONLY = pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


# --- portal sign-in ----------------------------------------------------------------------------
class PortalSignInCode(models.Model):
    """A one-time code sent to a patient's verified email (or phone). Only its salted HMAC is kept."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=128)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Replaced by a newer code or locked.")

    class Meta:
        indexes = [models.Index(fields=["patient", "-created_at"], name="portal_code_patient")]

    def __str__(self):
        return f"Sign-in code #{self.pk}"


class PortalSignInAttempt(models.Model):
    """One sign-in form submission or code try from an IP: the per-IP rate limit counts these.
    Technical data (§2D): purged after 90 days by `enforce_retention`."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    kind = models.CharField(max_length=8, choices=[("lookup", "lookup"), ("code", "code")])

    class Meta:
        indexes = [models.Index(fields=["ip_address", "-at"], name="portal_attempt_ip")]

    def __str__(self):
        return f"Sign-in attempt #{self.pk}"


def _changed(*columns):
    condition = pgtrigger.Q()
    for column in columns:
        condition |= pgtrigger.Q(**{f"new__{column}__df": pgtrigger.F(f"old__{column}")})
    return condition


# --- audit trail of privacy actions ------------------------------------------------------------
class PrivacyEvent(models.Model):
    """Append-only trail of every privacy step: sign-ins, exports, requests and their handling,
    opt-outs, holds, retention runs, policy acceptances. `detail` never holds PHI values.
    IP and user agent are technical data: the retention job may null them after 90 days, the
    trigger allows exactly that change and nothing else."""

    class Kind(models.TextChoices):
        CODE_SENT = "code_sent", "Sign-in code sent"
        CODE_NOT_SENT = "code_not_sent", "Sign-in code could not be sent"
        SIGNED_IN = "signed_in", "Patient signed in"
        CODE_FAILED = "code_failed", "Wrong sign-in code"
        CODE_LOCKED = "code_locked", "Sign-in code locked after too many tries"
        SIGNED_OUT = "signed_out", "Patient signed out"
        RECORDS_EXPORTED = "records_exported", "Records downloaded by the patient"
        REQUEST_CREATED = "request_created", "Rights request created"
        REQUEST_ASSIGNED = "request_assigned", "Rights request assigned"
        REQUEST_STATUS = "request_status", "Rights request status changed"
        REQUEST_FULFILLED = "request_fulfilled", "Rights request fulfilled"
        DEIDENTIFIED = "deidentified", "Data de-identified"
        MARKETING_OPT_OUT = "marketing_opt_out", "Marketing opt-out"
        HOLD_PLACED = "hold_placed", "Legal hold placed"
        HOLD_LIFTED = "hold_lifted", "Legal hold lifted"
        RETENTION_RULE_CHANGED = "retention_rule", "Retention rule changed"
        DISCLOSURES_EXPORTED = "disclosures_exported", "Accounting of disclosures exported by staff"
        POLICY_ACCEPTED = "policy_accepted", "Privacy policy accepted"
        GUARDIAN_CONSENT = "guardian_consent", "Guardian consent recorded"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="privacy_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request = models.ForeignKey(
        "privacy.RightsRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    detail = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "-at"], name="privacy_event_patient")]
        triggers = [
            pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="only_technical_data_may_be_cleared",
                operation=pgtrigger.Update,
                condition=_changed("id", "at", "kind", "patient_id", "user_id", "request_id", "detail")
                | pgtrigger.Q(new__ip_address__isnull=False, new__ip_address__df=pgtrigger.F("old__ip_address"))
                | (~pgtrigger.Q(new__user_agent="") & pgtrigger.Q(new__user_agent__df=pgtrigger.F("old__user_agent"))),
            ),
        ]

    def __str__(self):
        return f"Privacy event #{self.pk} ({self.kind})"


# --- patient-rights requests (§7, §10) ---------------------------------------------------------
RESPONSE_DAYS = 30


class RightsRequest(models.Model):
    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction of a field"
        DELETION = "deletion", "Deletion"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        FULFILLED = "fulfilled", "Fulfilled"
        PARTIALLY_FULFILLED = "partial", "Partially fulfilled"
        DENIED = "denied", "Denied"

    CLOSED = (Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.DENIED)

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="rights_requests")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(help_text="Legal response deadline: 30 days after the request.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    field_name = models.CharField(max_length=64, blank=True, help_text="Correction: which field.")
    requested_value = EncryptedCharField(max_length=300, blank=True, help_text="Correction: the value asked for.")
    patient_note = EncryptedCharField(max_length=1000, blank=True)
    resolution = models.TextField(blank=True, help_text="What was done, what was kept and why.")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="rights_request_queue")]

    def __str__(self):
        return f"Request #{self.pk} ({self.kind})"

    def save(self, *args, **kwargs):
        if self.due_at is None:
            self.due_at = (self.created_at or timezone.now()) + dt.timedelta(days=RESPONSE_DAYS)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()


# --- retention (§9) ----------------------------------------------------------------------------
class RecordType(models.TextChoices):
    MEDICAL_RECORDS = "medical_records", "Medical records (identity, history, chart, photos, consents)"
    SMS_CONSENT_PROOF = "sms_consent_proof", "SMS consent proof (opt-in/opt-out ledger)"
    DISCLOSURES = "disclosures", "Accounting of disclosures"
    AUDIT = "audit", "Audit trail (privacy events, access log, history)"
    TECHNICAL_DATA = "technical_data", "Technical data (IP address, user agent)"
    ABANDONED_LEADS = "abandoned_leads", "Abandoned booking leads (never visited)"


# Minimum days the law or the policy requires; a manager may lengthen, never shorten.
RETENTION_MINIMUM_DAYS = {
    RecordType.MEDICAL_RECORDS: 7 * 365,
    RecordType.SMS_CONSENT_PROOF: 5 * 365,
    RecordType.DISCLOSURES: 6 * 365,
    RecordType.AUDIT: 6 * 365,
    RecordType.TECHNICAL_DATA: 0,
    RecordType.ABANDONED_LEADS: 0,
}


class RetentionRule(models.Model):
    class Action(models.TextChoices):
        DEIDENTIFY = "deidentify", "De-identify"
        PURGE = "purge", "Delete"

    record_type = models.CharField(max_length=24, choices=RecordType.choices, unique=True)
    keep_days = models.PositiveIntegerField()
    counted_from = models.CharField(max_length=120, help_text="The event the period starts at.")
    action = models.CharField(max_length=12, choices=Action.choices)
    basis = models.CharField(max_length=300, help_text="Why this long (law or policy section).")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["record_type"]

    def __str__(self):
        return self.get_record_type_display()

    @property
    def minimum_days(self) -> int:
        return RETENTION_MINIMUM_DAYS[RecordType(self.record_type)]

    def clean(self):
        if self.keep_days is not None and self.keep_days < self.minimum_days:
            raise ValidationError(
                {"keep_days": f"The law and the policy require at least {self.minimum_days} days for this record type."}
            )


class RetentionRun(models.Model):
    """One run of `enforce_retention`: what it did (or, for a dry run, would do)."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField()
    report = models.JSONField(default=dict, help_text="record type → counts and what was skipped and why.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Retention run #{self.pk}{' (dry run)' if self.dry_run else ''}"


class LegalHold(models.Model):
    """While a hold is active nothing of this patient is purged or de-identified."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="legal_holds")
    reason = models.CharField(max_length=300)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(lifted_at__isnull=True), name="one_active_hold"
            )
        ]
        triggers = [pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Legal hold #{self.pk}"


# --- policy versions (§12) ---------------------------------------------------------------------
class PolicyVersion(models.Model):
    number = models.PositiveIntegerField(unique=True)
    effective_at = models.DateTimeField(help_text="From this moment this version is the one in force.")
    text = models.TextField()
    summary_of_changes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_at", "-number"]

    def __str__(self):
        return f"Privacy policy v{self.number}"


class PolicyAcceptance(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="policy_acceptances")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)
    context = models.CharField(max_length=32, help_text="booking, sign_up, portal …")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    page_url = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-accepted_at"]
        triggers = [APPEND_ONLY]

    def __str__(self):
        return f"Acceptance #{self.pk} of v{self.version_id}"


# --- minors (§11) ------------------------------------------------------------------------------
class Guardian(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="guardians")
    full_name = EncryptedCharField(max_length=200)
    relationship = models.CharField(max_length=40, help_text="parent, legal guardian …")
    email = EncryptedEmailField(max_length=254, blank=True)
    mobile_phone = EncryptedCharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Guardian #{self.pk}"


class GuardianConsent(models.Model):
    """A guardian's consent to the clinic collecting a minor's information and treating them."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="guardian_consents")
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="consents")
    consented_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=24, choices=[("in_person", "Signed in person"), ("written", "Written form")])
    consent_text = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-consented_at"]
        triggers = [pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Guardian consent #{self.pk}"

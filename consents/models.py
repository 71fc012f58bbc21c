"""Consent records: the SMS consent ledger (policy §4, DESIGN.md §5) and signed treatment, photo
and policy consents on versioned templates (§2B)."""

import pgtrigger
from django.conf import settings
from django.db import models

from cinrella.crypto import EncryptedCharField, EncryptedTextField


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
        # A web form named a number nobody has proven to own: one "Reply YES" request is texted and
        # nothing else until the number itself answers (issue 17). Not a consent: sends nothing.
        PENDING = "pending", "Opt-in requested (waiting for YES from the number)"

    class Source(models.TextChoices):
        PORTAL_FORM = "portal_form", "Portal booking form"
        PORTAL_PREFERENCES = "portal_preferences", "Patient's preferences page"
        STAFF_VERBAL = "staff_verbal", "Recorded by staff (verbal)"
        KEYWORD = "keyword", "Keyword reply"
        CARRIER_ERROR = "carrier_error", "Carrier opt-out error"
        FREE_TEXT = "free_text", "Free-text revocation"
        PORTAL_CODE = "portal_code", "Code texted to the number, entered on the portal"

    class AssertedBy(models.TextChoices):
        """Who said it: the ledger shows whose word each event rests on."""

        NUMBER = "number", "The number itself (a text from it)"
        PATIENT = "patient", "The patient (portal, own record)"
        WEB_VISITOR = "web_visitor", "A web visitor (not yet shown to own the number)"
        STAFF = "staff", "Staff, for the patient at the desk"
        CARRIER = "carrier", "The carrier"

    class Verification(models.TextChoices):
        """How we know the person who asserted it owns the number."""

        INBOUND_TEXT = "inbound_text", "Text received from the number"
        SMS_CODE = "sms_code", "One-time code texted to the number and entered on the portal"
        VERIFIED_RECORD = "verified_record", "Patient whose record holds this number, already verified"
        SIGNED_LINK = "signed_link", "Patient's own signed link (the number is not proven)"
        IN_PERSON = "in_person", "Patient at the desk, in person (transactional only)"
        CARRIER_REPORT = "carrier_report", "Carrier error 21610 (STOP sent to the carrier)"
        UNVERIFIED = "unverified", "Not verified: waiting for a YES reply"

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
    # Empty on events recorded before ownership was checked (issue 17).
    asserted_by = models.CharField(max_length=16, choices=AssertedBy.choices, blank=True)
    verification = models.CharField(max_length=20, choices=Verification.choices, blank=True)

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


class PhoneVerification(models.Model):
    """Proof that the person behind a patient record holds a phone number: they entered a code we
    texted to it, or the number itself answered YES to an opt-in request made for that record.
    Append-only. A web form from a patient whose record holds a verified number may change that
    number's consent directly; any other web form only makes a pending opt-in (issue 17)."""

    class Method(models.TextChoices):
        SMS_CODE = "sms_code", "Code texted to the number, entered on the portal"
        REPLY_YES = "reply_yes", "YES replied from the number to an opt-in request"

    phone = EncryptedCharField(max_length=20)
    phone_bidx = models.CharField(max_length=64, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="phone_verifications")
    method = models.CharField(max_length=12, choices=Method.choices)
    verified_at = models.DateTimeField()
    inbound_message_sid = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone_bidx", "patient"], name="phone_verification_lookup")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"Phone verification #{self.pk}"


class PhoneVerificationCode(models.Model):
    """A one-time code texted to a patient's number from the portal. Only a salted hash is kept;
    it expires, works once and locks after a few wrong tries."""

    phone_bidx = models.CharField(max_length=64)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone_bidx", "-created_at"], name="phone_code_recent")]

    def __str__(self):
        return f"Phone code #{self.pk}"


# --- treatment, photo and policy consents ---------------------------------------------------------


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Treatment consent"
    PHOTO_CLINICAL = "photo_clinical", "Photography — clinical record only"
    PHOTO_MARKETING = "photo_marketing", "Photography — marketing use"
    HIPAA_NOTICE = "hipaa_notice", "HIPAA notice acknowledgement"
    FINANCIAL_POLICY = "financial_policy", "Financial and cancellation policy"


class ConsentTemplate(models.Model):
    """A consent form (e.g. "Neuromodulator treatment consent"). Its words live in immutable
    `ConsentTemplateVersion` rows: changing the text means publishing a new version, so every
    signature keeps pointing at exactly what the patient read."""

    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=160)
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    validity_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="A signature expires this many days after signing; empty = never."
    )
    required_for_services = models.ManyToManyField(
        "appointments.Service",
        blank=True,
        related_name="required_consent_templates",
        help_text="Appointments for these services cannot be completed until this consent is signed and valid.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def current_version(self):
        return self.versions.order_by("-number").first()


class ConsentTemplateVersion(models.Model):
    """One published text of a consent template. Never updated or deleted (database trigger)."""

    template = models.ForeignKey(ConsentTemplate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="one_number_per_template_version")]
        triggers = [pgtrigger.Protect(name="published_text_immutable", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"{self.template} v{self.number}"


class ConsentSignature(models.Model):
    """A patient's signature on one exact template version. Append-only: a revocation is a
    `ConsentRevocation` row, never an edit. The typed name and the drawn signature are PHI
    (signed treatment consents are health information, §2B) and are encrypted."""

    class Channel(models.TextChoices):
        PORTAL = "portal", "Patient portal (signed link)"
        FRONT_DESK = "front_desk", "Front-desk tablet"

    template_version = models.ForeignKey(ConsentTemplateVersion, on_delete=models.PROTECT, related_name="signatures")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consent_signatures")
    appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    typed_name = EncryptedCharField(max_length=200)
    # base64 PNG drawn on the signing canvas, Fernet-encrypted like every PHI field.
    signature_png_b64 = EncryptedTextField()
    rendered_text_sha256 = models.CharField(max_length=64)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff member who handed over the tablet (front-desk signing).",
    )

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["patient", "-signed_at"], name="consent_signature_patient")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"Consent signature #{self.pk}"


class ConsentRevocation(models.Model):
    """The patient withdrew a signed consent. Takes effect at `revoked_at` (immediately)."""

    signature = models.OneToOneField(ConsentSignature, on_delete=models.PROTECT, related_name="revocation")
    revoked_at = models.DateTimeField()
    reason = EncryptedTextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"Revocation of consent signature #{self.signature_id}"


class SmsConsentProofExport(models.Model):
    """Audit of every SMS consent proof export (who, which phone digest, to whom, when).
    Exports sent outside the clinic also have a privacy Disclosure row."""

    class Destination(models.TextChoices):
        IN_CLINIC = "in_clinic", "In-clinic download"
        OUTSIDE = "outside", "Sent outside the clinic"

    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    phone_bidx = models.CharField(max_length=64)
    file_format = models.CharField(max_length=4)
    destination = models.CharField(max_length=12, choices=Destination.choices)
    recipient = models.ForeignKey(
        "privacy.Recipient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_count = models.PositiveIntegerField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"SMS consent proof export #{self.pk}"

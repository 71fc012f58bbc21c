"""SMS messaging: the outbox, inbound messages, conversations, templates and campaigns (DESIGN.md §5).

Every outbound message is an `OutboundMessage` row first, written in the same transaction as its
cause (a booking, a keyword reply, a campaign), then sent by the worker (`messaging.dispatch`).
Phones and bodies are encrypted at rest; `*_bidx` blind indexes find a phone's rows."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from cinrella.crypto import EncryptedCharField, EncryptedTextField


class Purpose(models.TextChoices):
    # Same values as consents.models.SmsPurpose: the consent a message needs at send time.
    TRANSACTIONAL = "transactional", "Transactional"
    MARKETING = "marketing", "Marketing"


class Kind(models.TextChoices):
    BOOKING_CONFIRMATION = "booking_confirmation", "Booking confirmation"
    RESCHEDULE_NOTICE = "reschedule_notice", "Reschedule notice"
    CANCEL_NOTICE = "cancel_notice", "Cancellation notice"
    REMINDER = "reminder", "Appointment reminder"
    PRE_CARE = "pre_care", "Pre-care instructions"
    POST_CARE = "post_care", "Post-care instructions"
    CONSENT_LINK = "consent_link", "Consent-signing link"
    DOUBLE_OPT_IN = "double_opt_in", "Double opt-in confirmation"
    HELP_REPLY = "help_reply", "HELP reply"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation", "Opt-out confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation", "Opt-in (START) confirmation"
    APPOINTMENT_CONFIRMED = "appointment_confirmed", "Appointment confirmed (C reply)"
    STAFF_REPLY = "staff_reply", "Staff reply"
    CAMPAIGN = "campaign", "Marketing campaign"
    PAY_LINK = "pay_link", "Payment link"
    SIGN_IN_CODE = "sign_in_code", "Portal sign-in code"
    OPT_IN_REQUEST = "opt_in_request", "Opt-in request (Reply YES)"
    MARKETING_CONFIRMATION = "marketing_confirmation", "Marketing opt-in confirmation"
    CANCEL_REQUEST_RECEIVED = "cancel_request_received", "Cancel request received (CANCEL reply)"
    PHONE_CODE = "phone_code", "Phone verification code"


# Replies the carrier rules require even to a number that just opted out (CTIA): the STOP
# confirmation and the HELP answer. They skip the consent check, never the privacy gate.
CONSENT_EXEMPT_KINDS = frozenset({Kind.HELP_REPLY, Kind.OPT_OUT_CONFIRMATION, Kind.OPT_IN_CONFIRMATION})
# Texts a number may get before it has consented: the one "Reply YES" request after a web form
# named it, and a verification code the person asked for on the portal. Both have fixed wording
# (no free text), and neither goes to a number that opted out (issue 17).
PENDING_CONSENT_KINDS = frozenset({Kind.OPT_IN_REQUEST, Kind.PHONE_CODE})
# Immediate answers to a message the person just sent: not held by quiet hours.
QUIET_HOURS_EXEMPT_KINDS = CONSENT_EXEMPT_KINDS | {
    Kind.APPOINTMENT_CONFIRMED,
    Kind.DOUBLE_OPT_IN,
    Kind.SIGN_IN_CODE,
    Kind.MARKETING_CONFIRMATION,
    Kind.CANCEL_REQUEST_RECEIVED,
    Kind.PHONE_CODE,
}


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    CANCELLED = "cancelled", "Cancelled"
    UNKNOWN = "unknown", "Unknown — needs review"
    QUARANTINED = "quarantined", "Set aside — needs attention"


# Delivery progress only moves forward: a late "sent" never overwrites "delivered".
STATUS_RANK = {
    Status.PENDING: 0,
    Status.SENDING: 1,
    Status.UNKNOWN: 1,
    Status.QUARANTINED: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.FAILED: 3,
    Status.SUPPRESSED: 3,
    Status.CANCELLED: 3,
}
FINAL_STATUSES = frozenset({Status.DELIVERED, Status.FAILED, Status.SUPPRESSED, Status.CANCELLED})


class OutboundMessage(models.Model):
    """One SMS in the outbox. `idempotency_key` (e.g. "appt:42:reminder:24h") makes a cause
    produce its message once, however often the cause is replayed."""

    idempotency_key = models.CharField(max_length=120, unique=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    to_phone = EncryptedCharField(max_length=20)
    to_bidx = models.CharField(max_length=64, db_index=True, editable=False)
    body = EncryptedTextField()
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="sms_messages"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="sms_messages"
    )
    campaign = models.ForeignKey(
        "messaging.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    provider_sid = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    error_reason = models.CharField(max_length=300, blank=True)
    held_reason = models.CharField(max_length=200, blank=True, help_text="Why the send waits (quiet hours).")
    # Reliability (messaging/reconcile.py, docs/messaging.md "On call"): when the first send attempt
    # began (transient failures are retried for SMS_RETRY_WINDOW_SECONDS from then), and when the
    # attempt whose fate at the provider is not known yet began (a read timeout, a crash): the
    # message is looked for at the provider from that moment before anything is sent again.
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    unresolved_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker's claim query: pending rows in due order.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_due"),
            models.Index(fields=["status", "claimed_at"], name="outbox_status_claimed"),
            models.Index(fields=["patient", "-created_at"], name="outbox_patient"),
            models.Index(fields=["appointment"], name="outbox_appointment"),
            models.Index(fields=["campaign", "status"], name="outbox_campaign"),
            # Numbers with a message in flight (claimed, or a send whose fate is not known yet).
            models.Index(
                fields=["to_bidx"],
                condition=Q(status="sending") | Q(status="pending", unresolved_since__isnull=False),
                name="outbox_in_flight",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_sid"], condition=~Q(provider_sid=""), name="outbox_unique_provider_sid"
            ),
        ]

    def __str__(self):
        return f"SMS #{self.pk} ({self.kind}, {self.status})"


class Conversation(models.Model):
    """The two-way thread with one phone number (a patient's, or an unknown number)."""

    phone = EncryptedCharField(max_length=20)
    phone_bidx = models.CharField(max_length=64, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="sms_conversations"
    )
    unread_count = models.PositiveIntegerField(default=0)
    needs_review = models.BooleanField(default=False)
    review_reason = models.CharField(max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-needs_review", "-last_message_at"]

    def __str__(self):
        return f"Conversation #{self.pk}"


class InboundMessage(models.Model):
    """One SMS received through the Twilio webhook. Unique on MessageSid: retries are no-ops."""

    class Handling(models.TextChoices):
        OPT_OUT = "opt_out", "Opt-out keyword"
        OPT_IN = "opt_in", "Opt-in keyword"
        HELP = "help", "HELP keyword"
        CONFIRM = "confirm", "Appointment confirmation"
        REVOCATION = "revocation", "Free-text revocation (flagged)"
        INBOX = "inbox", "Staff inbox"
        FLAGGED = "flagged", "Possible opt-out (consent kept, flagged)"
        CANCEL_REQUEST = "cancel_request", "Asked to cancel a visit (flagged)"
        CONFIRM_PENDING = "confirm_pending", "YES to the opt-in request"
        JOIN = "join", "JOIN keyword (marketing opt-in)"
        MARKETING_OUT = "marketing_out", "Declined offers (marketing opt-out)"

    message_sid = models.CharField(max_length=64, unique=True)
    from_phone = EncryptedCharField(max_length=20)
    from_bidx = models.CharField(max_length=64, db_index=True, editable=False)
    to_phone = models.CharField(max_length=32, blank=True)
    body = EncryptedTextField(blank=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="inbound")
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="sms_inbound"
    )
    handling = models.CharField(max_length=16, choices=Handling.choices)
    # MMS: how many pictures came with the text (Twilio's NumMedia). The media are not fetched.
    media_count = models.PositiveSmallIntegerField(default=0, db_default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["conversation", "-received_at"], name="inbound_conversation")]

    def __str__(self):
        return f"Inbound SMS #{self.pk} ({self.handling})"


@pghistory.track()
class MessageTemplate(models.Model):
    """A manager's wording for one kind of message; kinds without a row use the built-in default."""

    kind = models.CharField(max_length=32, choices=Kind.choices, unique=True)
    body = models.TextField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Template for {self.kind}"


@pghistory.track()
class Campaign(models.Model):
    """A marketing SMS to patients with a current marketing opt-in (policy §3, §4)."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=120)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    # Audience filters, as the form gave them (no PHI): {"visited_within_days": 90, "service_id": 3, …}
    filters = models.JSONField(default=dict, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    rate_per_minute = models.PositiveIntegerField(default=60)
    audience_size = models.PositiveIntegerField(default=0)
    excluded_count = models.PositiveIntegerField(default=0, help_text="Selected ids refused: no marketing opt-in.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

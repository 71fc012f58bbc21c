"""Scheduling: locations, services, providers, rooms, working hours, appointments.

No double booking is enforced by PostgreSQL exclusion constraints on `blocked_range`
(the appointment plus its service's buffers, `[)` so back-to-back is fine), per provider and per
room, ignoring cancelled appointments."""

from zoneinfo import available_timezones

import pghistory
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import Q

from cinrella.crypto import EncryptedCharField
from patients.models import Patient

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TIME_ZONE_CHOICES = sorted((tz, tz) for tz in available_timezones())


class Location(models.Model):
    """A clinic location. Everything a person reads about it is shown in its own time zone."""

    name = models.CharField(max_length=120, unique=True)
    address = models.CharField(max_length=300)
    phone = models.CharField(max_length=32)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="America/Los_Angeles")
    # Cancellation policy: free until this many hours before the start.
    free_cancellation_hours = models.PositiveIntegerField(default=24)
    late_cancellation_fee_cents = models.PositiveIntegerField(default=0)
    no_show_fee_cents = models.PositiveIntegerField(default=0)
    card_on_file_required = models.BooleanField(default=False)
    # Reminder offsets before the start, in hours (messaging sends one per entry).
    reminder_hours = ArrayField(models.PositiveIntegerField(), default=list, blank=True)

    def __str__(self):
        return self.name


class OpeningHours(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]

    def __str__(self):
        return f"{self.get_weekday_display_name()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def get_weekday_display_name(self):
        return WEEKDAYS[self.weekday]


class Closure(models.Model):
    """A holiday or closure day for a location (local date)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "date"], name="one_closure_per_day")]

    def __str__(self):
        return f"Closed {self.date}"


class RoomType(models.Model):
    name = models.CharField(max_length=80, unique=True)

    def __str__(self):
        return self.name


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=80)
    room_type = models.ForeignKey(RoomType, on_delete=models.PROTECT, related_name="rooms")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="room_name_per_location")]

    def __str__(self):
        return self.name


class Service(models.Model):
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=80, blank=True)
    duration_minutes = models.PositiveIntegerField()
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    price_cents = models.PositiveIntegerField(default=0)
    deposit_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    room_types = models.ManyToManyField(RoomType, blank=True, related_name="services")
    online_bookable = models.BooleanField(default=True)
    pre_care_instructions = models.TextField(blank=True)
    pre_care_days_before = models.PositiveIntegerField(default=1)
    post_care_instructions = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    def __str__(self):
        return self.name


class Provider(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider")
    display_name = models.CharField(max_length=120)
    services = models.ManyToManyField(Service, blank=True, related_name="providers")
    active = models.BooleanField(default=True)

    def __str__(self):
        return self.display_name


class WorkingHours(models.Model):
    """A provider's weekly hours at a location, in the location's local time."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["weekday", "starts"]

    def __str__(self):
        return f"{WEEKDAYS[self.weekday]} {self.starts:%H:%M}–{self.ends:%H:%M}"


class TimeOff(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)

    def __str__(self):
        return f"Time off #{self.pk}"


@pghistory.track()  # audit: every insert and update of an appointment leaves an event row (trigger-based)
class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    class Source(models.TextChoices):
        PORTAL = "portal", "Patient portal"
        STAFF = "staff", "Staff"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Time the provider and room are held: the visit plus the service's buffers, `[)`.
    blocked_range = DateTimeRangeField(editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.STAFF)
    notes = models.TextField(blank=True, help_text="Scheduling notes only — no health information.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["starts_at"]), models.Index(fields=["patient", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after_start"),
            ExclusionConstraint(
                name="no_provider_double_booking",
                expressions=[("blocked_range", RangeOperators.OVERLAPS), ("provider", RangeOperators.EQUAL)],
                condition=~Q(status="cancelled"),
            ),
            ExclusionConstraint(
                name="no_room_double_booking",
                expressions=[("blocked_range", RangeOperators.OVERLAPS), ("room", RangeOperators.EQUAL)],
                condition=~Q(status="cancelled") & Q(room__isnull=False),
            ),
        ]

    def __str__(self):
        return f"Appointment #{self.pk}"

    def save(self, *args, **kwargs):
        self.blocked_range = self.compute_blocked_range()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"blocked_range"}
        super().save(*args, **kwargs)

    def compute_blocked_range(self):
        from datetime import timedelta

        from django.db.backends.postgresql.psycopg_any import DateTimeTZRange

        before = timedelta(minutes=self.service.buffer_before_minutes)
        after = timedelta(minutes=self.service.buffer_after_minutes)
        return DateTimeTZRange(self.starts_at - before, self.ends_at + after, "[)")


class BookingRequest(models.Model):
    """What a patient chose on the portal when booking: the raw consent choices and the policy
    version acknowledged, with the request's technical data (IP, user agent — §8, 90-day retention).

    The consents and privacy apps turn these into ledger entries (see
    `appointments.portal_consents.record_portal_consents`); this row is the proof kept until then."""

    class Identity(models.TextChoices):
        NEW_PATIENT = "new_patient", "New patient record"
        UNPROVEN_MATCH = "unproven_match", "Matched an existing record (identity not proven)"

    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="booking_request")
    # A booking whose details matched an existing patient changes nothing on her record (contact
    # data, texts consent, policy acceptance) without proof; staff confirm who it is (issue 17).
    identity = models.CharField(max_length=16, choices=Identity.choices, default=Identity.NEW_PATIENT)
    identity_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identity_confirmed_at = models.DateTimeField(null=True, blank=True)
    sms_transactional = models.BooleanField()
    sms_marketing = models.BooleanField()
    # Contact data (§2A): encrypted at rest like the patient record.
    sms_phone = EncryptedCharField(max_length=20, blank=True, help_text="E.164 phone the SMS choices apply to.")
    transactional_disclosure = models.TextField(blank=True)
    marketing_disclosure = models.TextField(blank=True)
    disclosure_version = models.CharField(max_length=32)
    privacy_policy_version = models.CharField(max_length=32)
    privacy_policy_acknowledged = models.BooleanField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    page_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Booking request #{self.pk}"

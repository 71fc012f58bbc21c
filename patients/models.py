from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from cinrella import crypto
from cinrella.crypto import EncryptedCharField, EncryptedDateField, EncryptedEmailField

BLIND_INDEX_FIELDS = ("phone_bidx", "email_bidx", "dob_bidx", "name_bidx")


class Patient(models.Model):
    """A patient. Identity and contact (policy §2A) are encrypted at rest; the *_bidx columns are
    keyed blind indexes (HMAC) that let staff find a patient without plaintext in the database."""

    first_name = EncryptedCharField(max_length=100)
    last_name = EncryptedCharField(max_length=100)
    email = EncryptedEmailField(max_length=254, blank=True)
    mobile_phone = EncryptedCharField(max_length=20, blank=True, help_text="E.164, e.g. +18582560289")
    date_of_birth = EncryptedDateField()
    address_line1 = EncryptedCharField(max_length=200, blank=True)
    address_line2 = EncryptedCharField(max_length=200, blank=True)
    city = EncryptedCharField(max_length=100, blank=True)
    state = EncryptedCharField(max_length=50, blank=True)
    postal_code = EncryptedCharField(max_length=20, blank=True)
    emergency_contact_name = EncryptedCharField(max_length=200, blank=True)
    emergency_contact_phone = EncryptedCharField(max_length=20, blank=True)
    emergency_contact_relationship = EncryptedCharField(max_length=100, blank=True)
    preferred_language = models.CharField(max_length=16, default="en")

    phone_bidx = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    email_bidx = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    dob_bidx = models.CharField(max_length=64, db_index=True, editable=False)
    name_bidx = ArrayField(models.CharField(max_length=64), default=list, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [GinIndex(fields=["name_bidx"], name="patient_name_bidx_gin")]

    def __str__(self):
        # Only the id: str() ends up in logs and admin messages.
        return f"Patient #{self.pk}"

    def save(self, *args, **kwargs):
        self.refresh_blind_indexes()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | set(BLIND_INDEX_FIELDS)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def refresh_blind_indexes(self) -> None:
        phone = crypto.normalise_phone(self.mobile_phone) if self.mobile_phone else None
        self.phone_bidx = crypto.blind_index("phone", phone) if phone else ""
        self.email_bidx = crypto.blind_index("email", crypto.normalise_email(self.email)) if self.email else ""
        self.dob_bidx = crypto.blind_index("dob", self.date_of_birth.isoformat()) if self.date_of_birth else ""
        self.name_bidx = crypto.name_prefix_digests(self.first_name, self.last_name)

import uuid

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from cinrella import crypto
from cinrella.crypto import EncryptedCharField, EncryptedDateField, EncryptedEmailField, EncryptedTextField
from privacy.models import no_truncate_trigger

BLIND_INDEX_FIELDS = ("phone_bidx", "email_bidx", "dob_bidx", "name_bidx")


def tracked():
    """Write history (§6, §7): PostgreSQL triggers copy every inserted, updated and deleted row into
    an event table, so bulk `.update()` and raw SQL are captured too. The acting user and the
    request path come from pghistory's context (HistoryMiddleware). Event tables are append-only:
    UPDATE and DELETE on them fail in the database itself."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        append_only=True,
        # Row triggers do not see TRUNCATE: refuse it with a statement trigger.
        meta={"triggers": [no_truncate_trigger()]},
    )


@tracked()
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
        triggers = [
            # Keeps PatientNameDigest equal to name_bidx, whatever wrote the row (ORM, bulk, raw SQL).
            pgtrigger.Trigger(
                name="sync_name_digests",
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("name_bidx") | pgtrigger.Delete,
                when=pgtrigger.After,
                func="""
                    IF TG_OP IN ('UPDATE', 'DELETE') THEN
                        DELETE FROM patients_patientnamedigest WHERE patient_id = OLD.id;
                    END IF;
                    IF TG_OP IN ('INSERT', 'UPDATE') THEN
                        INSERT INTO patients_patientnamedigest (patient_id, digest)
                            SELECT NEW.id, d FROM unnest(NEW.name_bidx) AS d GROUP BY d;
                    END IF;
                    RETURN NULL;
                """,
            ),
        ]

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


class PatientNameDigest(models.Model):
    """One row per (name digest, patient): a narrow copy of Patient.name_bidx maintained by a
    trigger on Patient. A name search reads only this table's (digest, patient) b-tree (index-only
    scan) instead of filtering wide encrypted patient rows, which keeps a 3-letter prefix search
    fast at 100k patients. Digests are HMACs: nothing readable is stored here either."""

    patient = models.ForeignKey(Patient, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest", "patient"], name="patient_name_digest_unique")]

    def __str__(self):
        return f"name digest of patient #{self.patient_id}"


# --- health (§2B): encrypted at rest, readable only through privacy.access -----------------------


@tracked()
class IntakeVersion(models.Model):
    """One submitted version of a patient's intake / medical history. Never edited in place: an
    edit is a new version with the next number, so every earlier answer stays readable."""

    class Source(models.TextChoices):
        STAFF = "staff", "Entered by staff"
        PORTAL = "portal", "Submitted by the patient"

    class Pregnancy(models.TextChoices):
        NOT_APPLICABLE = "not_applicable", "Not applicable"
        NO = "no", "Not pregnant or breastfeeding"
        PREGNANT = "pregnant", "Pregnant"
        BREASTFEEDING = "breastfeeding", "Breastfeeding"
        UNSURE = "unsure", "Unsure / prefers not to say"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intake_versions")
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    allergies = EncryptedTextField(blank=True)
    medications = EncryptedTextField(blank=True)
    conditions = EncryptedTextField(blank=True)
    pregnancy_status = EncryptedCharField(max_length=20, choices=Pregnancy.choices, default=Pregnancy.UNSURE)
    prior_aesthetic_treatments = EncryptedTextField(blank=True)
    notes = EncryptedTextField(blank=True)

    CONTENT_FIELDS = (
        "allergies",
        "medications",
        "conditions",
        "pregnancy_status",
        "prior_aesthetic_treatments",
        "notes",
    )

    class Meta:
        ordering = ["patient", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="intake_version_unique"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="intake_version_positive"),
        ]

    def __str__(self):
        return f"Intake v{self.version} of patient #{self.patient_id}"


@tracked()
class TreatmentPreferences(models.Model):
    """What the patient wants and how (areas, goals, comfort). One row per patient; every change is
    kept by the write history."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="treatment_preferences")
    goals = EncryptedTextField(blank=True)
    areas_of_interest = EncryptedTextField(blank=True)
    comfort_notes = EncryptedTextField(blank=True, help_text="Numbing, pain, anxiety, scheduling preferences")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Treatment preferences of patient #{self.patient_id}"


@tracked()
class ChartNote(models.Model):
    """A clinical note written by a provider."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="chart_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    body = EncryptedTextField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Chart note #{self.pk} of patient #{self.patient_id}"


@tracked()
class PatientPhoto(models.Model):
    """A before/after photo. The image itself is re-encoded (no EXIF), Fernet-encrypted and kept
    under PRIVATE_MEDIA_ROOT; it is served only by an access-checked, logged view."""

    class Kind(models.TextChoices):
        BEFORE = "before", "Before"
        AFTER = "after", "After"
        PROGRESS = "progress", "Progress"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="photos")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BEFORE)
    caption = EncryptedCharField(max_length=200, blank=True)
    storage_name = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Photo #{self.pk} of patient #{self.patient_id}"

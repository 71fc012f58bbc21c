import pgtrigger
from django.conf import settings
from django.db import models


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
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.category} patient #{self.patient_id}"

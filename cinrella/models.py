import pgtrigger
from django.conf import settings
from django.db import models


class SecurityEvent(models.Model):
    """Security log: sign-ins, failures, lockouts, sign-outs, second-factor steps, timeouts.

    Holds no passwords and no PHI: the username typed (staff usernames are not PHI), the IP and
    the user agent. Append-only at the database level."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Signed in (password)"
        LOGIN_FAILED = "login_failed", "Sign-in failed"
        LOCKED_OUT = "locked_out", "Locked out"
        OTP_VERIFIED = "otp_verified", "Second factor verified"
        OTP_FAILED = "otp_failed", "Second factor failed"
        OTP_ENROLLED = "otp_enrolled", "Authenticator enrolled"
        LOGOUT = "logout", "Signed out"
        IDLE_TIMEOUT = "idle_timeout", "Signed out after inactivity"
        ABSOLUTE_TIMEOUT = "absolute_timeout", "Signed out at session limit"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    username = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"


class Heartbeat(models.Model):
    """A background process saying it is alive: the task worker and the periodic-jobs process each
    write their row every HEARTBEAT_INTERVAL_SECONDS (cinrella.heartbeats). `/readyz` fails when no
    process of a kind has reported recently, and a task whose worker stopped reporting is taken
    back (cinrella.worker). No PHI: host names, process ids and times only."""

    class Process(models.TextChoices):
        WORKER = "worker", "Task worker (db_worker)"
        PERIODIC = "periodic", "Periodic jobs (run_periodic)"

    process = models.CharField(max_length=16, choices=Process.choices)
    instance = models.CharField(max_length=64, unique=True, help_text="Worker id, or host:pid.")
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["process", "-last_seen_at"]
        indexes = [models.Index(fields=["process", "-last_seen_at"], name="heartbeat_latest")]

    def __str__(self):
        return f"{self.get_process_display()} {self.instance}"


class PeriodicJob(models.Model):
    """One row per periodic job (`run_periodic`): when it last started and how it ended, on any host.
    Two run_periodic processes take turns through this row (locked FOR UPDATE SKIP LOCKED while one
    decides) and a PostgreSQL advisory lock held while the job runs, so a job never runs twice at
    once nor more often than its interval, however many hosts run the periodic process."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200, unique=True, help_text="The management command and its arguments.")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    last_error = models.CharField(max_length=300, blank=True, help_text="Exception class only: never PHI.")
    last_host = models.CharField(max_length=255, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class KeyCanary(models.Model):
    """Proof, stored beside the data, of which keys wrote it (cinrella.keycheck).

    Never a key: for each master key (FIELD_ENCRYPTION_KEYS) its fingerprint and a fixed value it
    encrypted; for BLIND_INDEX_KEY its fingerprint (an HMAC of a fixed string). Every process checks
    its configured keys against these rows before it reads or writes anything."""

    class Kind(models.TextChoices):
        MASTER = "master", "Master key (FIELD_ENCRYPTION_KEYS)"
        BLIND_INDEX = "blind_index", "Blind-index key (BLIND_INDEX_KEY)"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    key_id = models.CharField(max_length=64, help_text="Fingerprint of the key (an HMAC under it), never the key.")
    token = models.TextField(blank=True, help_text="Master keys: a fixed value encrypted under the key.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key_id"], name="one_canary_per_key"),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(kind="blind_index"), name="one_blind_index_canary"
            ),
        ]

    def __str__(self):
        return f"{self.kind} key {self.key_id[:12]}"

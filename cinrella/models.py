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

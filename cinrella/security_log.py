"""Writes the security log from Django's and axes' sign-in signals."""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from cinrella.models import SecurityEvent
from cinrella.request_meta import client_ip, user_agent

logger = logging.getLogger("cinrella.security")


def record(kind: str, request=None, *, user=None, username: str = "") -> SecurityEvent:
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
    )
    # Log line carries the event id and kind only: the row holds the detail.
    logger.info("security event %s id=%s", kind, event.pk)
    return event


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    record(SecurityEvent.Kind.LOGIN, request, user=user)


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(SecurityEvent.Kind.LOGOUT, request, user=user)


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    # `credentials` has the password cleansed by Django; we keep only the username.
    record(SecurityEvent.Kind.LOGIN_FAILED, request, username=str(credentials.get("username", "")))


@receiver(user_locked_out)
def _on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    record(SecurityEvent.Kind.LOCKED_OUT, request, username=username or "")

"""Session time limits and the mandatory second factor for staff."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from cinrella import security_log
from cinrella.models import SecurityEvent

LAST_SEEN_KEY = "cinrella_last_seen"
STARTED_KEY = "cinrella_started"


class SessionTimeoutMiddleware:
    """Automatic logoff: 15 minutes idle, 12 hours absolute (HIPAA §164.312(a)(2)(iii)).

    Server-side sessions, so `logout()` deletes the row and the old cookie is worthless."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            expired = self._expired_kind(request)
            if expired:
                user = request.user
                logout(request)
                security_log.record(expired, request, user=user)
                messages.info(request, "You were signed out for your security. Please sign in again.")
                # Only the path: a query string may carry what was typed into a search box.
                return redirect(f"{reverse('staff-login')}?{urlencode({'next': request.path})}")
            request.session[LAST_SEEN_KEY] = int(time.time())
        return self.get_response(request)

    @staticmethod
    def _expired_kind(request):
        now = time.time()
        session = request.session
        started = session.setdefault(STARTED_KEY, int(now))
        last_seen = session.get(LAST_SEEN_KEY, now)
        if now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
            return SecurityEvent.Kind.ABSOLUTE_TIMEOUT
        if now - last_seen > settings.SESSION_IDLE_TIMEOUT:
            return SecurityEvent.Kind.IDLE_TIMEOUT
        return None


# Paths a signed-in but not yet verified user may reach.
_OTP_EXEMPT_NAMES = ("staff-otp", "staff-logout", "staff-login")


class StaffSecondFactorMiddleware:
    """Every staff and admin page needs a verified TOTP device in this session.

    The admin site also checks `is_verified()` itself (OTPAdminSite), so a misconfigured URL
    cannot open a hole; this middleware is what sends people to enrol or verify."""

    PROTECTED_PREFIXES = ("/staff/", "/admin/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._needs_second_factor(request):
            return redirect(f"{reverse('staff-otp')}?{urlencode({'next': request.path})}")
        return self.get_response(request)

    def _needs_second_factor(self, request) -> bool:
        if not request.path.startswith(self.PROTECTED_PREFIXES):
            return False
        if not request.user.is_authenticated or request.user.is_verified():
            return False
        exempt = {reverse(name) for name in _OTP_EXEMPT_NAMES}
        return request.path not in exempt

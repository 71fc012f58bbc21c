"""Per-IP rate limits for the public portal, counted in Django's cache (fixed windows)."""

from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from cinrella.request_meta import client_ip

# name → (requests allowed, window in seconds); override with APPOINTMENTS_RATE_LIMITS in settings.
DEFAULT_LIMITS = {
    "booking": (30, 600),  # booking-step POSTs
    "manage": (60, 600),  # manage-link requests (GET and POST)
}


def limit_for(name: str) -> tuple[int, int]:
    return {**DEFAULT_LIMITS, **getattr(settings, "APPOINTMENTS_RATE_LIMITS", {})}[name]


def hit(name: str, ip: str | None) -> bool:
    """Count one request; True while the IP is within its allowance."""
    allowed, window = limit_for(name)
    bucket = int(time.time() // window)
    key = f"appointments-rl:{name}:{ip or 'unknown'}:{bucket}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    return count <= allowed


def rate_limited(name: str, methods: tuple[str, ...] = ("POST",)):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and not hit(name, client_ip(request)):
                return render(request, "appointments/portal/too_many.html", status=429)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

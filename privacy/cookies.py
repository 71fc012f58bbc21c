"""Cookie choice (§8): essential cookies only unless the visitor accepts analytics.

The choice lives in one essential cookie. Declining changes nothing anywhere else: only
`analytics_allowed(request)` reads it, and only analytics code is conditional on it."""

from django.conf import settings

COOKIE_NAME = "cinrella_cookie_choice"
ACCEPT, DECLINE = "analytics", "essential"
MAX_AGE = 365 * 24 * 60 * 60


def choice(request) -> str | None:
    value = request.COOKIES.get(COOKIE_NAME)
    return value if value in (ACCEPT, DECLINE) else None


def analytics_allowed(request) -> bool:
    return choice(request) == ACCEPT


def remember(response, value: str):
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=MAX_AGE,
        samesite="Lax",
        secure=not settings.DEBUG,
        httponly=True,
    )
    return response


def analytics_script() -> str:
    """Static path of the analytics script (setting PRIVACY_ANALYTICS_SCRIPT); '' when none is used."""
    return getattr(settings, "PRIVACY_ANALYTICS_SCRIPT", "")

"""The clinic's own time zone: every time a person reads is shown in it (DESIGN.md §8)."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def clinic_time_zone():
    """Context manager: render what follows in the clinic's time zone."""
    return timezone.override(clinic_zone())

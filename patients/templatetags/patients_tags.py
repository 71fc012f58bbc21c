"""Display helpers for patient pages."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils import dateformat, timezone

from patients.forms import LANGUAGE_CHOICES
from patients.selectors import formatted_phone

register = template.Library()


@register.filter
def clinic_time(value, fmt="M j, Y H:i"):
    """A stored (UTC) time as people at the clinic read it: in CLINIC_TIME_ZONE, with its zone."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value, ZoneInfo(settings.CLINIC_TIME_ZONE))
    return dateformat.format(value, fmt)


@register.filter
def phone(value):
    return formatted_phone(value or "")


@register.filter
def language(code):
    return dict(LANGUAGE_CHOICES).get(code, code)

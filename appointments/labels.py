"""Labels for times and dates that pages show many of, formatted in Python: Django's `time` and
`date` filters and `{% url %}` cost tens of microseconds each, which added up to most of the
rendering time of the staff day view (hundreds of cards) and the portal's time picker. English,
as the rest of the site."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.urls import reverse


def clock(local: dt.datetime) -> str:
    """ "9:05 AM", "12:30 PM": what the templates write as `|time:"g:i A"`."""
    return f"{local:%-I:%M %p}"


def url_for_each(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[pk])` for many pks with one reverse: the pattern's only argument is
    the pk, so the URL of pk 0 with its `/0/` segment swapped gives every other one."""
    sample = reverse(name, args=[0])
    head, _, tail = sample.rpartition("/0/")
    return lambda pk: f"{head}/{pk}/{tail}"

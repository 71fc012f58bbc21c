"""Absolute links to this site, for texts and callbacks (a link in an SMS cannot be relative)."""

from django.conf import settings

# What `make run` serves: development links work on the machine that runs it.
DEVELOPMENT_ORIGIN = "http://localhost:8000"


def public_origin() -> str:
    return (settings.PUBLIC_BASE_URL or DEVELOPMENT_ORIGIN).rstrip("/")


def absolute_url(path: str) -> str:
    return public_origin() + path

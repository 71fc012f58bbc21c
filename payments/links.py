"""Signed, expiring links for the portal payment pages. The token carries only a row id and a
purpose (no PHI); Django's signer makes it unforgeable and `max_age` makes it expire."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from cinrella.public_urls import absolute_url

SALTS = {
    "deposit": "payments.deposit-link",
    "pay": "payments.pay-link",
    "card": "payments.card-link",
}


class BadLink(Exception):
    """Forged, expired or for another purpose."""


def make_token(purpose: str, pk: int) -> str:
    return signing.TimestampSigner(salt=SALTS[purpose]).sign(str(pk))


def read_token(purpose: str, token: str) -> int:
    max_age = settings.PAYMENTS_LINK_MAX_AGE_HOURS * 3600
    try:
        return int(signing.TimestampSigner(salt=SALTS[purpose]).unsign(token, max_age=max_age))
    except (signing.BadSignature, ValueError) as exc:
        raise BadLink from exc


def deposit_path(appointment) -> str:
    return reverse("payments-deposit", args=[make_token("deposit", appointment.pk)])


def pay_path(payment) -> str:
    return reverse("payments-pay", args=[make_token("pay", payment.pk)])


def card_path(patient) -> str:
    return reverse("payments-card", args=[make_token("card", patient.pk)])


def absolute(path: str) -> str:
    return absolute_url(path)

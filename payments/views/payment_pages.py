"""What the staff and portal payment pages share: the Stripe page CSP, the Payment Element's
context, the quiet refresh from Stripe, the appointment lookup."""

import logging

import stripe
from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

from appointments.models import Appointment
from payments import services
from payments import stripe_gateway as gateway

log = logging.getLogger(__name__)


STRIPE_JS_URL = "https://js.stripe.com/v3/"


def stripe_csp() -> dict:
    """The site CSP plus Stripe.js — the one third-party script, allowed on payment pages only."""
    config = {key: list(value) for key, value in settings.SECURE_CSP.items()}
    config["script-src"] = [CSP.SELF, "https://js.stripe.com"]
    config["frame-src"] = ["https://js.stripe.com", "https://hooks.stripe.com"]
    config["connect-src"] = [CSP.SELF, "https://api.stripe.com"]
    # The Payment Element injects its own styles into its iframe, not into our page.
    return config


stripe_page = csp_override(stripe_csp())


def appointment_or_404(appointment_id) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related("patient", "service", "location", "provider"), pk=appointment_id
    )


def element_context(*, payment, secret, return_url, **extra) -> dict:
    return {
        "payment": payment,
        "client_secret": secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "return_url": return_url,
        "stripe_js_url": STRIPE_JS_URL,
        **extra,
    }


def refresh_quietly(payment, user=None):
    try:
        return services.refresh_from_stripe(payment=payment, user=user)
    except (stripe.StripeError, gateway.StripeNotConfigured):
        log.warning("payment %s: could not refresh from Stripe", payment.pk)
        return payment

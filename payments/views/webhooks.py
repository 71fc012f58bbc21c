"""The Stripe webhook: verified on the raw body, then applied by payments.stripe_events."""

import logging

import stripe
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import stripe_events
from payments import stripe_gateway as gateway

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Verified on the raw body; a forged or stale signature changes nothing and answers 400."""
    try:
        event = gateway.construct_event(request.body, request.headers.get("Stripe-Signature", ""))
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("invalid signature")
    try:
        stripe_events.process_event(event)
    except stripe.StripeError:
        # Could not re-read the object from Stripe: nothing was recorded; Stripe retries later.
        log.warning("stripe event %s: Stripe unreachable while applying, will be retried", event["id"])
        return HttpResponse("retry later", status=503)
    return HttpResponse("ok")

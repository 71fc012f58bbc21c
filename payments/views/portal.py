"""The portal's payment pages, reached by signed, expiring links (no PHI in the URL): the deposit
step of a booking, a pay link, a card on file (Stripe Payment Element; cards never touch our server)."""

import logging
from zoneinfo import ZoneInfo

import stripe
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from appointments.models import Appointment, Location
from cinrella.request_meta import client_ip, user_agent
from patients.models import Patient
from payments import cancellation_policy, forms, links, services
from payments import stripe_gateway as gateway
from payments.models import Payment
from payments.views.payment_pages import appointment_or_404, element_context, refresh_quietly, stripe_page

log = logging.getLogger(__name__)


def _deposit_appointment(token) -> Appointment:
    try:
        appointment_id = links.read_token("deposit", token)
    except links.BadLink as exc:
        raise Http404 from exc
    return appointment_or_404(appointment_id)


def _policy_context(appointment):
    service = appointment.service
    return {
        "appointment": appointment,
        "starts_local": timezone.localtime(appointment.starts_at, ZoneInfo(appointment.location.time_zone)),
        "policy_text": cancellation_policy.text_for(appointment.location, service.deposit_cents, service.currency),
        "policy_version": cancellation_policy.VERSION,
        "deposit": cancellation_policy.money(service.deposit_cents, service.currency),
    }


@stripe_page
@require_http_methods(["GET", "POST"])
def deposit(request, token):
    """Portal payment step: agree to the cancellation policy, then pay the deposit (card saved)."""
    appointment = _deposit_appointment(token)
    context = _policy_context(appointment)
    existing = Payment.objects.filter(idempotency_key=f"deposit:{appointment.pk}").first()
    if existing and existing.status == Payment.Status.SUCCEEDED:
        return render(request, "payments/portal_done.html", {**context, "payment": existing})
    form = forms.PolicyAgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not gateway.is_configured():
            messages.error(request, "Online payment is not available; please call the clinic.")
            return render(request, "payments/deposit.html", {**context, "form": form}, status=503)
        try:
            services.record_policy_agreement(
                patient=appointment.patient,
                location=appointment.location,
                appointment=appointment,
                deposit_cents=appointment.service.deposit_cents,
                currency=appointment.service.currency,
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
            payment, secret = services.start_deposit(appointment=appointment)
        except services.PaymentError as exc:
            messages.error(request, str(exc))
            return render(request, "payments/deposit.html", {**context, "form": form}, status=409)
        if secret is None:
            return render(request, "payments/portal_done.html", {**context, "payment": payment})
        return_url = request.build_absolute_uri(reverse("payments-deposit-done", args=[token]))
        element = element_context(payment=payment, secret=secret, return_url=return_url)
        return render(request, "payments/pay.html", {**context, **element})
    status = 400 if request.method == "POST" else 200
    return render(request, "payments/deposit.html", {**context, "form": form}, status=status)


@require_GET
def deposit_done(request, token):
    """Stripe.js returns here; the PaymentIntent is re-read from Stripe (the query is not trusted)."""
    appointment = _deposit_appointment(token)
    payment = Payment.objects.filter(idempotency_key=f"deposit:{appointment.pk}").first()
    if payment is None:
        raise Http404
    payment = refresh_quietly(payment)
    from appointments.views.portal import manage_token  # the booking's own confirmation page

    booking_url = reverse("appointments-portal-done", kwargs={"token": manage_token(appointment)})
    context = {**_policy_context(appointment), "payment": payment, "booking_url": booking_url}
    return render(request, "payments/portal_done.html", context)


def _pay_link_payment(token) -> Payment:
    try:
        payment_id = links.read_token("pay", token)
    except links.BadLink as exc:
        raise Http404 from exc
    return get_object_or_404(Payment.objects.select_related("appointment__location", "patient"), pk=payment_id)


@stripe_page
@require_GET
def pay(request, token):
    """The page a pay link opens: the patient confirms (3-D Secure) or enters another card."""
    payment = _pay_link_payment(token)
    if payment.status == Payment.Status.SUCCEEDED:
        return render(request, "payments/portal_done.html", {"payment": payment})
    try:
        payment, secret = services.start_on_session_payment(payment=payment, save_card=False)
    except (services.PaymentError, gateway.StripeNotConfigured):
        messages.error(request, "Online payment is not available right now; please call the clinic.")
        return render(request, "payments/portal_done.html", {"payment": payment}, status=503)
    if secret is None:
        return render(request, "payments/portal_done.html", {"payment": payment})
    return_url = request.build_absolute_uri(reverse("payments-pay-done", args=[token]))
    return render(request, "payments/pay.html", element_context(payment=payment, secret=secret, return_url=return_url))


@require_GET
def pay_done(request, token):
    payment = refresh_quietly(_pay_link_payment(token))
    return render(request, "payments/portal_done.html", {"payment": payment})


def _card_patient(token) -> Patient:
    try:
        patient_id = links.read_token("card", token)
    except links.BadLink as exc:
        raise Http404 from exc
    return get_object_or_404(Patient, pk=patient_id)


@stripe_page
@require_http_methods(["GET", "POST"])
def card(request, token):
    """Card on file without a deposit: agree to the policy, then save a card (SetupIntent)."""
    patient = _card_patient(token)
    location = Location.objects.order_by("pk").first()
    if location is None:
        raise Http404
    text = cancellation_policy.text_for(location)
    form = forms.PolicyAgreementForm(request.POST or None)
    context = {"policy_text": text, "policy_version": cancellation_policy.VERSION, "form": form}
    if request.method == "POST" and form.is_valid():
        if not gateway.is_configured():
            messages.error(request, "Saving a card online is not available right now; please call the clinic.")
            return render(request, "payments/card.html", context, status=503)
        try:
            services.record_policy_agreement(
                patient=patient, location=location, ip=client_ip(request), user_agent=user_agent(request)
            )
            secret = services.start_card_setup(patient=patient)
        except (services.PaymentError, gateway.StripeNotConfigured):
            messages.error(request, "Saving a card online is not available right now; please call the clinic.")
            return render(request, "payments/card.html", context, status=503)
        return_url = request.build_absolute_uri(reverse("payments-card-done", args=[token]))
        return render(
            request,
            "payments/pay.html",
            {**element_context(payment=None, secret=secret, return_url=return_url), "setup_mode": True},
        )
    return render(request, "payments/card.html", context, status=400 if request.method == "POST" else 200)


@require_GET
def card_done(request, token):
    patient = _card_patient(token)
    setup_intent_id = request.GET.get("setup_intent", "")
    saved = None
    if setup_intent_id.startswith("seti_"):
        try:
            saved = services.finish_card_setup(patient=patient, setup_intent_id=setup_intent_id)
        except (stripe.StripeError, gateway.StripeNotConfigured):
            saved = None
    return render(request, "payments/card_done.html", {"saved": saved})

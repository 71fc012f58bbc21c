"""Payment pages: the portal's deposit / pay-link / card pages (Stripe Payment Element), the staff
payments panel, the patient's payments, the day's takings, and the Stripe webhook.

Access (DESIGN.md §3): billing reads and writes, manager reads, front desk sees statuses and can
take a deposit or balance, provider sees nothing (404)."""

import datetime as dt
import logging
import uuid
from zoneinfo import ZoneInfo

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.models import Appointment, Location
from cinrella.request_meta import client_ip, user_agent
from cinrella.roles import Role, roles_of
from patients.models import Patient
from payments import cancellation_policy, forms, links, services, stripe_events
from payments import selectors as sel
from payments import stripe_gateway as gateway
from payments.models import Payment

log = logging.getLogger(__name__)

STRIPE_JS_URL = "https://js.stripe.com/v3/"


def _stripe_csp() -> dict:
    """The site CSP plus Stripe.js — the one third-party script, allowed on payment pages only."""
    config = {key: list(value) for key, value in settings.SECURE_CSP.items()}
    config["script-src"] = [CSP.SELF, "https://js.stripe.com"]
    config["frame-src"] = ["https://js.stripe.com", "https://hooks.stripe.com"]
    config["connect-src"] = [CSP.SELF, "https://api.stripe.com"]
    # The Payment Element injects its own styles into its iframe, not into our page.
    return config


stripe_page = csp_override(_stripe_csp())


# --- access ----------------------------------------------------------------------------------------

FULL, READ, DESK = "full", "read", "desk"


def payments_access(user) -> str | None:
    roles = roles_of(user)
    if Role.BILLING in roles:
        return FULL
    if Role.MANAGER in roles:
        return READ
    if Role.FRONT_DESK in roles:
        return DESK
    return None


def _require_access(request, *allowed) -> str:
    access = payments_access(request.user)
    if access not in allowed:
        raise Http404
    return access


def _appointment(appointment_id) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related("patient", "service", "location", "provider"), pk=appointment_id
    )


# --- staff: appointment panel ------------------------------------------------------------------------


def _card_label(card, index, access) -> str:
    if access == DESK:
        return f"Card on file {index}"  # front desk: status only, not card details
    return card.label


def _panel_context(request, appointment, access, balance_form=None, refund_form=None):
    cards = list(sel.usable_cards(appointment.patient))
    labelled = [(card.pk, _card_label(card, i + 1, access)) for i, card in enumerate(cards)]
    due = sel.balance_due_cents(appointment)
    if balance_form is None:
        balance_form = forms.BalanceForm(
            initial={
                "amount": f"{due / 100:.2f}",
                "nonce": uuid.uuid4().hex,
                "method": forms.BalanceForm.SAVED if cards else forms.BalanceForm.NEW,
            },
        )
    balance_form.fields["card"].choices = [("", "—")] + labelled
    payments = list(sel.payments_of_appointment(appointment))
    for payment in payments:
        payment.refundable = sel.refundable_cents(payment) if access == FULL else 0
    local_tz = ZoneInfo(appointment.location.time_zone)
    return {
        "appointment": appointment,
        "starts_local": timezone.localtime(appointment.starts_at, local_tz),
        "access": access,
        "payments": payments,
        "cards": labelled,
        "balance_due": due,
        "balance_form": balance_form,
        "refund_form": refund_form or forms.RefundForm(),
        "fees": [(kind, Payment.Kind(kind).label, sel.fee_due_cents(appointment, kind)) for kind in Payment.FEE_KINDS],
        "deposit_link": links.deposit_path(appointment) if appointment.service.deposit_cents else "",
        "stripe_ready": gateway.is_configured(),
    }


@login_required
@require_GET
def appointment_payments(request, appointment_id):
    access = _require_access(request, FULL, READ, DESK)
    appointment = _appointment(appointment_id)
    return render(request, "payments/appointment.html", _panel_context(request, appointment, access))


def _payment_message(request, payment):
    status = Payment.Status
    if payment.status == status.SUCCEEDED:
        messages.success(request, f"{payment.get_kind_display()} paid.")
    elif payment.status == status.REQUIRES_ACTION:
        messages.warning(request, "The bank wants the patient to confirm. A pay link was prepared for the patient.")
    elif payment.status == status.FAILED:
        messages.error(request, "The card was declined. Send the patient a pay link or take another card.")
    elif payment.failure_reason == "stripe_unreachable":
        messages.error(request, services.UNREACHABLE)
    else:
        messages.info(request, f"{payment.get_kind_display()}: {payment.get_status_display()}.")


@login_required
@require_POST
def take_balance(request, appointment_id):
    access = _require_access(request, FULL, DESK)
    appointment = _appointment(appointment_id)
    form = forms.BalanceForm(request.POST, cards=sel.usable_cards(appointment.patient))
    if not form.is_valid():
        context = _panel_context(request, appointment, access, balance_form=form)
        return render(request, "payments/appointment.html", context, status=400)
    data = form.cleaned_data
    try:
        if data["method"] == forms.BalanceForm.NEW:
            payment, _secret = services.start_balance_with_new_card(
                appointment=appointment, amount_cents=data["amount"], nonce=data["nonce"], user=request.user
            )
            return redirect("payments-collect", payment_id=payment.pk)
        payment = services.take_balance_with_saved_card(
            appointment=appointment,
            amount_cents=data["amount"],
            card_id=data["card"],
            nonce=data["nonce"],
            user=request.user,
        )
    except (services.PaymentError, gateway.StripeNotConfigured) as exc:
        messages.error(request, str(exc))
    else:
        _payment_message(request, payment)
    return redirect("payments-appointment", appointment_id=appointment.pk)


@login_required
@require_POST
def charge_fee(request, appointment_id):
    _require_access(request, FULL)
    appointment = _appointment(appointment_id)
    form = forms.FeeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose which fee to charge.")
        return redirect("payments-appointment", appointment_id=appointment.pk)
    try:
        payment = services.charge_fee(appointment=appointment, kind=form.cleaned_data["kind"], user=request.user)
    except (services.PaymentError, gateway.StripeNotConfigured) as exc:
        messages.error(request, str(exc))
    else:
        _payment_message(request, payment)
    return redirect("payments-appointment", appointment_id=appointment.pk)


@login_required
@require_POST
def refund(request, appointment_id):
    access = _require_access(request, FULL)
    appointment = _appointment(appointment_id)
    form = forms.RefundForm(request.POST)
    if not form.is_valid():
        context = _panel_context(request, appointment, access, refund_form=form)
        return render(request, "payments/appointment.html", context, status=400)
    payment = get_object_or_404(Payment, pk=form.cleaned_data["payment"], appointment=appointment)
    try:
        result = services.refund_payment(
            payment=payment,
            amount_cents=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
    except (services.PaymentError, gateway.StripeNotConfigured) as exc:
        messages.error(request, str(exc))
    else:
        if result.status == result.Status.SUCCEEDED:
            messages.success(request, "Refund sent.")
        elif result.status == result.Status.FAILED:
            messages.error(request, "Stripe refused the refund.")
        else:
            messages.info(request, "Refund recorded; it will be sent to Stripe shortly.")
    return redirect("payments-appointment", appointment_id=appointment.pk)


@login_required
@require_POST
def send_pay_link(request, payment_id):
    _require_access(request, FULL)
    payment = get_object_or_404(Payment, pk=payment_id)
    try:
        services.resend_pay_link(payment=payment)
    except services.PaymentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Pay link prepared for the patient.")
    return redirect("payments-appointment", appointment_id=payment.appointment_id)


@stripe_page
@login_required
@require_GET
def collect(request, payment_id):
    """The desk takes a new card for a balance in the Payment Element (the card goes to Stripe)."""
    _require_access(request, FULL, DESK)
    payment = get_object_or_404(Payment.objects.select_related("appointment"), pk=payment_id, kind=Payment.Kind.BALANCE)
    try:
        payment, secret = services.start_on_session_payment(payment=payment, save_card=False, user=request.user)
    except (services.PaymentError, gateway.StripeNotConfigured) as exc:
        messages.error(request, str(exc))
        return redirect("payments-appointment", appointment_id=payment.appointment_id)
    return render(
        request,
        "payments/collect.html",
        _element_context(
            payment=payment,
            secret=secret,
            return_url=request.build_absolute_uri(reverse("payments-collect-done", args=[payment.pk])),
        ),
    )


@login_required
@require_GET
def collect_done(request, payment_id):
    _require_access(request, FULL, DESK)
    payment = get_object_or_404(Payment, pk=payment_id, kind=Payment.Kind.BALANCE)
    _refresh_quietly(payment, user=request.user)
    payment.refresh_from_db()
    _payment_message(request, payment)
    return redirect("payments-appointment", appointment_id=payment.appointment_id)


def _refresh_quietly(payment, user=None):
    try:
        return services.refresh_from_stripe(payment=payment, user=user)
    except (stripe.StripeError, gateway.StripeNotConfigured):
        log.warning("payment %s: could not refresh from Stripe", payment.pk)
        return payment


# --- staff: patient's payments, takings ---------------------------------------------------------------


@login_required
@require_GET
def patient_payments(request, patient_id):
    access = _require_access(request, FULL, READ)
    patient = get_object_or_404(Patient, pk=patient_id)
    return render(
        request,
        "payments/patient.html",
        {
            "patient": patient,
            "access": access,
            "payments": sel.payments_of_patient(patient),
            "cards": sel.usable_cards(patient),
        },
    )


@login_required
@require_GET
def takings(request):
    _require_access(request, FULL, READ)
    form = forms.TakingsForm(request.GET or None)
    locations = list(Location.objects.order_by("name"))
    default_tz = ZoneInfo(locations[0].time_zone if locations else settings.CLINIC_TIME_ZONE)
    day = timezone.localtime(timezone.now(), default_tz).date()
    if form.is_bound and form.is_valid() and form.cleaned_data["date"]:
        day = form.cleaned_data["date"]
    elif form.is_bound and not form.is_valid():
        messages.error(request, "Enter the date as YYYY-MM-DD.")
    return render(
        request,
        "payments/takings.html",
        {
            "day": day,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "report": sel.takings_for_day(day, locations),
        },
    )


# --- portal: deposit, pay link, card on file ----------------------------------------------------------


def _element_context(*, payment, secret, return_url, **extra) -> dict:
    return {
        "payment": payment,
        "client_secret": secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "return_url": return_url,
        "stripe_js_url": STRIPE_JS_URL,
        **extra,
    }


def _deposit_appointment(token) -> Appointment:
    try:
        appointment_id = links.read_token("deposit", token)
    except links.BadLink as exc:
        raise Http404 from exc
    return _appointment(appointment_id)


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
        element = _element_context(payment=payment, secret=secret, return_url=return_url)
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
    payment = _refresh_quietly(payment)
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
    return render(request, "payments/pay.html", _element_context(payment=payment, secret=secret, return_url=return_url))


@require_GET
def pay_done(request, token):
    payment = _refresh_quietly(_pay_link_payment(token))
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
            {**_element_context(payment=None, secret=secret, return_url=return_url), "setup_mode": True},
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


# --- webhook -----------------------------------------------------------------------------------------


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

"""Staff payment pages: the appointment's payments panel (balance, fees, refunds, pay links, the
desk's card collection), the patient's payments, the day's takings. The portal's pages are in
portal.py, the Stripe webhook in webhooks.py.

Access (DESIGN.md §3): billing reads and writes, manager reads, front desk sees statuses and can
take a deposit or balance, provider sees nothing (404)."""

import datetime as dt
import logging
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from appointments.models import Location
from cinrella import app_hooks
from cinrella.roles import Role, roles_of
from patients.models import Patient
from payments import forms, links, services
from payments import selectors as sel
from payments import stripe_gateway as gateway
from payments.models import Payment
from payments.views.payment_pages import (
    appointment_or_404,
    element_context,
    refresh_quietly,
    stripe_page,
)

log = logging.getLogger(__name__)


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
    appointment = appointment_or_404(appointment_id)
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
    appointment = appointment_or_404(appointment_id)
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
    appointment = appointment_or_404(appointment_id)
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
    appointment = appointment_or_404(appointment_id)
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
        element_context(
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
    refresh_quietly(payment, user=request.user)
    payment.refresh_from_db()
    _payment_message(request, payment)
    return redirect("payments-appointment", appointment_id=payment.appointment_id)


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
            # Other apps' money of the day (checkout: cash, cards and credit at the desk, tips, tax).
            "sections": [section(day, locations) for section in app_hooks.collect("takings", "TAKINGS_SECTIONS")],
        },
    )

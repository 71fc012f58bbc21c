"""Checkout pages for the desk: the day's sales, a sale (items, discounts, tips, payment, receipt,
refunds), the card page (Stripe's Payment Element) and the printable receipt.

Thin views: scoped look-up → form → service → redirect with a message. Access is asked of
privacy.access (Capability.CHECKOUT to change a sale, SALES_READ to see it, SALE_REFUND to give
money back); anything else answers 404."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.models import Appointment, Location, Provider, Service
from checkout import forms, receipts, services
from checkout import selectors as sel
from checkout.models import AddOn, Sale, SaleDiscount, SaleLine, Tender
from cinrella.money import format_cents
from inventory import selectors as inventory
from inventory.models import Product
from patients.models import Patient
from payments import selectors as payment_selectors
from payments import stripe_gateway
from payments.views.payment_pages import STRIPE_JS_URL, stripe_page
from prepaid import selectors as prepaid_selectors
from prepaid import services as prepaid
from prepaid.models import PackagePlan
from privacy.access import Capability, may, require_capability

ERRORS = (services.CheckoutError, prepaid.PrepaidError, stripe_gateway.StripeNotConfigured)


def _location(request) -> Location:
    raw = request.GET.get("location") or request.POST.get("location") or ""
    if str(raw).isdigit():
        return get_object_or_404(Location, pk=int(raw))
    location = Location.objects.order_by("pk").first()
    if location is None:
        raise Http404("No location is set up yet.")
    return location


def _sale(request, pk, capability=Capability.SALES_READ) -> Sale:
    require_capability(request.user, capability)
    return get_object_or_404(Sale, pk=pk)


def _back(sale: Sale, anchor: str = ""):
    return redirect(reverse("checkout-sale", args=[sale.pk]) + (f"#{anchor}" if anchor else ""))


def _nonce() -> str:
    return uuid.uuid4().hex


# --- lists and opening a sale ----------------------------------------------------------------------------


@login_required
@require_GET
def sales_list(request):
    require_capability(request.user, Capability.SALES_READ)
    location = _location(request)
    tz = ZoneInfo(location.time_zone)
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localtime(timezone.now(), tz).date()
    with timezone.override(tz):
        return render(
            request,
            "checkout/sales.html",
            {
                "location": location,
                "locations": Location.objects.order_by("name"),
                "day": day,
                "previous_day": day - dt.timedelta(days=1),
                "next_day": day + dt.timedelta(days=1),
                "sales": list(sel.sales_of_day(location, day)),
                "sheet": sel.day_sheet(day, [location])[0],
                "can_checkout": may(request.user, Capability.CHECKOUT),
            },
        )


@login_required
@require_POST
def new_walk_in(request):
    require_capability(request.user, Capability.CHECKOUT)
    form = forms.WalkInForm(request.POST)
    location = _location(request)
    patient = None
    if form.is_valid() and form.cleaned_data.get("patient"):
        patient = get_object_or_404(Patient, pk=form.cleaned_data["patient"])
    sale = services.open_walk_in_sale(location=location, patient=patient, user=request.user)
    return _back(sale)


@login_required
@require_POST
def appointment_checkout(request, appointment_id):
    """ "Check out" on the day list: the visit's sale (opened with its service), in one tap."""
    require_capability(request.user, Capability.CHECKOUT)
    appointment = get_object_or_404(
        Appointment.objects.select_related("location", "patient", "service", "provider"), pk=appointment_id
    )
    try:
        sale = services.open_sale_for_appointment(appointment=appointment, user=request.user)
    except ERRORS as exc:
        messages.error(request, str(exc))
        return redirect("staff-home")
    return _back(sale)


# --- the sale page ---------------------------------------------------------------------------------------


def _page_context(request, sale: Sale) -> dict:
    sale = sel.sale_for_page(sale.pk)
    can_edit = may(request.user, Capability.CHECKOUT) and sale.is_open
    lines = list(sale.lines.all())
    providers_on_sale = {line.provider for line in lines if line.provider_id}
    providers = list(Provider.objects.filter(active=True).order_by("display_name"))
    terms = prepaid_selectors.member_terms(sale.patient)
    balances = prepaid_selectors.patient_balances(sale.patient) if sale.patient_id else None
    context = {
        "sale": sale,
        "lines": lines,
        "tenders": list(sale.tenders.all()),
        "tips": list(sale.tips.all()),
        "discounts": list(sale.discounts.all()),
        "returns": list(sale.returns.all()),
        "can_edit": can_edit,
        "can_pay": may(request.user, Capability.CHECKOUT) and sale.is_open,
        "can_refund": may(request.user, Capability.SALE_REFUND) and sale.status == Sale.Status.PAID,
        "terms": terms,
        "balances": balances,
        "due_cents": services.due_cents(sale),
        "taken_cents": services.taken_cents(sale),
        "nonce": _nonce(),
        "stripe_ready": stripe_gateway.is_configured(),
        "local_tz": sale.location.time_zone,
    }
    if context["can_pay"] or context["can_edit"]:
        tip_providers = sorted(providers_on_sale | {t.provider for t in context["tips"]}, key=lambda p: p.display_name)
        tip_values = {t.provider_id: t.amount_cents for t in context["tips"]}
        suggestions = sel.tip_suggestions(sale)
        for provider in tip_providers:
            provider.tip_cents = tip_values.get(provider.pk)
            provider.suggestions = suggestions.get(provider.pk, [])
        context.update(
            {
                "providers": providers,
                "tip_providers": tip_providers,
                "services": Service.objects.filter(active=True).order_by("category", "name"),
                "addons": AddOn.objects.filter(active=True),
                "products": list(inventory.products_with_stock(sale.location)),
                "package_plans": PackagePlan.objects.filter(active=True).select_related("service"),
                "cards": list(payment_selectors.usable_cards(sale.patient)) if sale.patient_id else [],
                "package_options": _package_options(sale, lines, balances),
                "discount_limit": services.discount_limit_percent(request.user),
                "discount_kinds": SaleDiscount.Kind.choices,
                "reasons": settings.CHECKOUT_DISCOUNT_REASONS,
            }
        )
    if context["can_refund"]:
        returned = sel.returned_quantities(sale)
        for line in lines:
            line.returned_qty = returned.get(line.pk, 0)
    return context


def _package_options(sale, lines, balances):
    """For each service line not yet paid by a package: the patient's packages for that service."""
    if balances is None:
        return []
    covered = {t.package_line_id for t in sale.tenders.all() if t.kind == Tender.Kind.PACKAGE}
    options = []
    for line in lines:
        if line.kind != SaleLine.Kind.SERVICE or line.pk in covered or line.quantity != 1:
            continue
        for package in balances.packages:
            if package.service_id == line.service_id:
                options.append((line, package))
    return options


@login_required
@require_GET
def sale_page(request, pk):
    sale = _sale(request, pk)
    with timezone.override(ZoneInfo(sale.location.time_zone)):
        return render(request, "checkout/sale.html", _page_context(request, sale))


# --- changing a sale -----------------------------------------------------------------------------------------


def _line(sale, request) -> SaleLine:
    raw = request.POST.get("line", "")
    if not raw.isdigit():
        raise services.CheckoutError("Choose a line.")
    return get_object_or_404(SaleLine, pk=int(raw), sale=sale)


def _form_error(form) -> str:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields and form.fields[name].label else ""
        return f"{label + ': ' if label and name != '__all__' else ''}{errors[0]}"
    return "Check what was entered."


def _add_product(request, sale):
    form = forms.ProductForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    data = form.cleaned_data
    product = (
        inventory.find_product(data["code"])
        if data.get("code")
        else Product.objects.filter(pk=data["product"], active=True).first()
    )
    if product is None:
        raise services.CheckoutError("No product has that SKU.")
    services.add_product_line(sale=sale, product=product, quantity=data["quantity"], user=request.user)
    return f"Added {product.name}."


def _add_service(request, sale):
    form = forms.ServiceLineForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    service = get_object_or_404(Service, pk=form.cleaned_data["service"], active=True)
    provider = Provider.objects.filter(pk=form.cleaned_data.get("provider") or 0).first()
    services.add_service_line(
        sale=sale, service=service, provider=provider, quantity=form.cleaned_data.get("quantity"), user=request.user
    )
    return f"Added {service.name}."


def _add_addon(request, sale):
    form = forms.AddOnForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError("Choose an add-on.")
    addon = get_object_or_404(AddOn, pk=form.cleaned_data["addon"], active=True)
    services.add_addon_line(sale=sale, addon=addon, user=request.user)
    return f"Added {addon.name}."


def _add_package(request, sale):
    form = forms.PackageForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError("Choose a package.")
    plan = get_object_or_404(PackagePlan, pk=form.cleaned_data["plan"])
    services.add_package_line(sale=sale, plan=plan, user=request.user)
    return f"Added {plan.name}."


def _add_gift_card(request, sale):
    form = forms.GiftCardLineForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    services.add_gift_card_line(sale=sale, amount_cents=form.cleaned_data["amount"], user=request.user)
    return "Added a gift card."


def _quantity(request, sale):
    form = forms.QuantityForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError("Enter a quantity from 1 to 1000.")
    line = services.change_quantity(
        line=_line(sale, request), quantity=form.cleaned_data["quantity"], user=request.user
    )
    return f"{line.description}: {line.quantity}{' ' + line.unit_label if line.unit_label else ''}."


def _line_provider(request, sale):
    provider = get_object_or_404(Provider, pk=request.POST.get("provider") or 0)
    services.change_line_provider(line=_line(sale, request), provider=provider, user=request.user)
    return "Provider changed."


def _remove_line(request, sale):
    line = _line(sale, request)
    services.remove_line(line=line, user=request.user)
    return f"Removed {line.description}."


def _discount(request, sale):
    form = forms.DiscountForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    data = form.cleaned_data
    line = get_object_or_404(SaleLine, pk=data["line"], sale=sale) if data.get("line") else None
    discount = services.add_discount(
        sale=sale, kind=data["kind"], value=data["value"], reason=data["reason"], line=line, user=request.user
    )
    return f"Discount of {format_cents(discount.amount_cents)} applied."


def _remove_discount(request, sale):
    discount = get_object_or_404(SaleDiscount, pk=request.POST.get("discount") or 0, sale=sale)
    services.remove_discount(discount=discount, user=request.user)
    return "Discount removed."


def _tips(request, sale):
    providers = Provider.objects.filter(
        pk__in=[k[4:] for k in request.POST if k.startswith("tip_") and k[4:].isdigit()]
    )
    form = forms.TipsForm(request.POST, providers=providers)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    services.set_tips(sale=sale, tips=form.tips(), user=request.user)
    return "Tips saved."


def _tip_percent(request, sale):
    """One tap: a provider's tip at N% of their services."""
    provider = get_object_or_404(Provider, pk=request.POST.get("provider") or 0)
    percent = int(request.POST.get("percent") or 0)
    suggestions = dict(sel.tip_suggestions(sel.sale_for_page(sale.pk)).get(provider.pk, []))
    if percent not in suggestions:
        raise services.CheckoutError("Choose one of the suggested tips.")
    services.set_tips(sale=sale, tips={provider: suggestions[percent]}, user=request.user)
    return f"Tip for {provider.display_name}: {format_cents(suggestions[percent])}."


def _customer(request, sale):
    patient = get_object_or_404(Patient, pk=request.POST.get("patient") or 0)
    services.set_customer(sale=sale, patient=patient, user=request.user)
    return "Customer set."


def _email_receipt(request, sale):
    delivery = services.request_receipt_email(sale=sale, user=request.user)
    return "The receipt will be emailed." if delivery else "The receipt will be emailed when the sale is paid."


# --- payment -------------------------------------------------------------------------------------------------


def _cash(request, sale):
    form = forms.CashForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    data = form.cleaned_data
    tender = services.take_cash(
        sale=sale,
        amount_cents=data["amount"],
        received_cents=data.get("received"),
        nonce=data["nonce"],
        user=request.user,
    )
    change = f" Change due: {format_cents(tender.change_cents)}." if tender.change_cents else ""
    return f"Cash {format_cents(tender.amount_cents)} taken.{change}"


def _card_on_file(request, sale):
    form = forms.CardOnFileForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    data = form.cleaned_data
    tender = services.charge_card_on_file(
        sale=sale, card_id=data["card"], amount_cents=data["amount"], nonce=data["nonce"], user=request.user
    )
    if tender.status == Tender.Status.SUCCEEDED:
        return f"Card charged {format_cents(tender.amount_cents)}."
    if tender.status == Tender.Status.PENDING:
        return "The card payment is still processing; this page will show it when Stripe answers."
    raise services.CheckoutError(tender.failure_message or "The card was not charged.")


def _gift_card(request, sale):
    form = forms.GiftCardTenderForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    data = form.cleaned_data
    tender = services.take_gift_card(
        sale=sale, code=data["code"], amount_cents=data.get("amount"), nonce=data["nonce"], user=request.user
    )
    left = prepaid.gift_card_balance(tender.gift_card)
    return f"Gift card {format_cents(tender.amount_cents)} taken; {format_cents(left)} left on the card."


def _credit(request, sale):
    form = forms.CreditForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError(_form_error(form))
    tender = services.take_membership_credit(
        sale=sale, amount_cents=form.cleaned_data.get("amount"), nonce=form.cleaned_data["nonce"], user=request.user
    )
    return f"Membership credit {format_cents(tender.amount_cents)} used."


def _package(request, sale):
    form = forms.PackageTenderForm(request.POST)
    if not form.is_valid():
        raise services.CheckoutError("Choose the package and the visit it pays for.")
    from prepaid.models import PatientPackage

    line = get_object_or_404(SaleLine, pk=form.cleaned_data["line"], sale=sale)
    package = get_object_or_404(PatientPackage, pk=form.cleaned_data["package"], patient_id=sale.patient_id)
    services.take_package_session(
        sale=sale, line=line, package=package, nonce=form.cleaned_data["nonce"], user=request.user
    )
    return f"One session of {package.plan.name} used."


def _cancel(request, sale):
    form = forms.CancelForm(request.POST)
    form.is_valid()
    services.cancel_sale(sale=sale, reason=form.cleaned_data.get("reason", ""), user=request.user)
    return f"Sale {sale.number} cancelled; anything taken was given back."


EDIT_ACTIONS = {
    "add-product": _add_product,
    "add-service": _add_service,
    "add-addon": _add_addon,
    "add-package": _add_package,
    "add-gift-card": _add_gift_card,
    "quantity": _quantity,
    "line-provider": _line_provider,
    "remove-line": _remove_line,
    "discount": _discount,
    "remove-discount": _remove_discount,
    "tips": _tips,
    "tip-percent": _tip_percent,
    "customer": _customer,
    "email-receipt": _email_receipt,
    "cash": _cash,
    "card-on-file": _card_on_file,
    "gift-card": _gift_card,
    "credit": _credit,
    "package": _package,
    "cancel": _cancel,
}
ANCHORS = {"cash": "pay", "card-on-file": "pay", "gift-card": "pay", "credit": "pay", "package": "pay", "tips": "tips"}


@login_required
@require_POST
def sale_action(request, pk, action):
    handler = EDIT_ACTIONS.get(action)
    if handler is None:
        raise Http404
    capability = Capability.SALES_READ if action == "email-receipt" else Capability.CHECKOUT
    if action == "email-receipt" and not (
        may(request.user, Capability.CHECKOUT) or may(request.user, Capability.SALE_REFUND)
    ):
        raise Http404
    sale = _sale(request, pk, capability)
    try:
        text = handler(request, sale)
    except ERRORS as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, text)
    sale.refresh_from_db()
    if sale.status == Sale.Status.PAID and action in ANCHORS and ANCHORS[action] == "pay":
        messages.success(request, f"Sale {sale.number} is paid.")
    return _back(sale, ANCHORS.get(action, ""))


@login_required
@require_POST
def start_card(request, pk):
    sale = _sale(request, pk, Capability.CHECKOUT)
    form = forms.CardForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _back(sale, "pay")
    try:
        tender, _secret = services.start_card(
            sale=sale, amount_cents=form.cleaned_data["amount"], nonce=form.cleaned_data["nonce"], user=request.user
        )
    except ERRORS as exc:
        messages.error(request, str(exc))
        return _back(sale, "pay")
    return redirect("checkout-card", pk=sale.pk, tender_id=tender.pk)


@stripe_page
@login_required
@require_GET
def card_page(request, pk, tender_id):
    """The card is typed into Stripe's Payment Element; it never reaches Cinrella."""
    sale = _sale(request, pk, Capability.CHECKOUT)
    tender = get_object_or_404(Tender, pk=tender_id, sale=sale, kind=Tender.Kind.CARD)
    if tender.status != Tender.Status.PENDING:
        return _back(sale, "pay")
    try:
        secret = services.card_client_secret(tender=tender, user=request.user)
    except ERRORS as exc:
        messages.error(request, str(exc))
        return _back(sale, "pay")
    if secret is None:
        return _back(sale, "pay")
    return render(
        request,
        "checkout/card.html",
        {
            "sale": sale,
            "tender": tender,
            "client_secret": secret,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": STRIPE_JS_URL,
            "return_url": request.build_absolute_uri(reverse("checkout-card-done", args=[sale.pk, tender.pk])),
        },
    )


@login_required
@require_GET
def card_done(request, pk, tender_id):
    """Stripe.js comes back here; the PaymentIntent is re-read from Stripe (the query is not trusted)."""
    sale = _sale(request, pk, Capability.CHECKOUT)
    tender = get_object_or_404(Tender, pk=tender_id, sale=sale)
    try:
        tender = services.refresh_card(tender=tender, user=request.user)
    except (stripe.StripeError, *ERRORS):
        messages.warning(request, "Stripe could not be reached to confirm the card; the sale updates when it answers.")
        return _back(sale, "pay")
    if tender.status == Tender.Status.SUCCEEDED:
        messages.success(request, f"Card charged {format_cents(tender.amount_cents)}.")
    elif tender.status == Tender.Status.FAILED:
        messages.error(request, tender.failure_message)
    else:
        messages.info(request, "The card payment is still processing.")
    return _back(sale, "pay")


@login_required
@require_POST
def cancel_card(request, pk, tender_id):
    sale = _sale(request, pk, Capability.CHECKOUT)
    tender = get_object_or_404(Tender, pk=tender_id, sale=sale)
    try:
        tender = services.cancel_card(tender=tender, user=request.user)
    except (stripe.StripeError, *ERRORS):
        messages.error(request, "Stripe could not be reached; try again in a moment.")
        return _back(sale, "pay")
    if tender.status == Tender.Status.SUCCEEDED:
        messages.warning(request, "That card payment had already gone through; it counts towards the sale.")
    else:
        messages.info(request, "Card payment cancelled.")
    return _back(sale, "pay")


# --- refunds ---------------------------------------------------------------------------------------------------


@login_required
@require_POST
def sale_return(request, pk, kind):
    sale = _sale(request, pk, Capability.SALE_REFUND)
    form = forms.ReturnForm(request.POST, sale=sale)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _back(sale, "refund")
    try:
        if kind == "void":
            result = services.void_sale(sale=sale, reason=form.cleaned_data["reason"], user=request.user)
        else:
            result = services.refund_sale(
                sale=sale,
                line_quantities=form.line_quantities(),
                tip_ids=form.tip_ids(),
                reason=form.cleaned_data["reason"],
                restock=form.cleaned_data["restock"],
                user=request.user,
            )
    except ERRORS as exc:
        messages.error(request, str(exc))
        return _back(sale, "refund")
    messages.success(request, f"{result.get_kind_display()} of {format_cents(result.total_cents)} recorded.")
    return _back(sale, "returns")


# --- receipt -----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def receipt_pdf(request, pk):
    """The itemised receipt to print and hand to the patient (in the clinic; see checkout.receipts)."""
    sale = _sale(request, pk)
    if sale.status == Sale.Status.OPEN:
        raise Http404
    rendered = receipts.render_receipt(sale, receipts.PRINT)
    response = HttpResponse(rendered.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{rendered.filename}"'
    return response


@login_required
@require_http_methods(["POST"])
def customer_search(request, pk):
    """Find the patient of a walk-in sale (POST: what is typed never lands in a URL)."""
    sale = _sale(request, pk, Capability.CHECKOUT)
    from patients.selectors import search_results

    form = forms.CustomerForm(request.POST)
    rows = []
    if form.is_valid() and len(form.cleaned_data["q"].strip()) >= 3:
        _kind, rows, _more = search_results(form.cleaned_data["q"], limit=8)
    return render(request, "checkout/partials/customer_results.html", {"sale": sale, "rows": rows})

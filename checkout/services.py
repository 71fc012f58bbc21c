"""Writes to sales (issue 22). Keyword-only functions; each runs in one transaction with the sale
row locked, so two tabs on the same sale take turns. Audit: Sale is tracked by pghistory, lines,
discounts, tips and tenders freeze when taken (database triggers), returns are append-only.

Stripe is never called while a lock of ours is held: a card tender is *recorded* (tender + Payment
rows, committed), then the card is charged through `payments.services` (which passes the privacy
gate and Stripe's idempotency key), then the *result* is applied in a new transaction
(`apply_payment_result`). The same function applies a result that arrives by webhook, so a closed
tab or a lost answer still completes the sale.

Every amount comes from `checkout.pricing.price_sale` (one rounding rule, cinrella.money)."""

from __future__ import annotations

import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from checkout import pricing
from checkout.models import (
    AddOn,
    CheckoutSettings,
    ReceiptDelivery,
    ReturnTender,
    Sale,
    SaleDiscount,
    SaleLine,
    SaleReturn,
    SaleReturnLine,
    SaleReturnTip,
    SaleTip,
    ServicePricing,
    Tender,
)
from cinrella.roles import roles_of
from inventory import services as stock
from inventory.models import StockMove
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.models import Payment
from prepaid import selectors as prepaid_selectors
from prepaid import services as prepaid
from prepaid.models import GiftCard
from privacy.access import Capability, may

log = logging.getLogger(__name__)


class CheckoutError(Exception):
    """Something a person can act on; the message is safe to show (no PHI, no Stripe internals)."""


# --- helpers -----------------------------------------------------------------------------------------


def settings_for(location) -> CheckoutSettings:
    row, _ = CheckoutSettings.objects.get_or_create(location=location)
    return row


def _locked(sale: Sale) -> Sale:
    return Sale.objects.select_for_update(of=("self",)).select_related("location", "patient").get(pk=sale.pk)


def _editable(sale: Sale) -> Sale:
    sale = _locked(sale)
    if sale.status != Sale.Status.OPEN:
        raise CheckoutError(f"Sale {sale.number} is {sale.get_status_display().lower()}; it can no longer change.")
    if sale.locked_at:
        raise CheckoutError(
            "Payment has started on this sale, so its items are fixed. Cancel the sale to give the money back "
            "and start again."
        )
    return sale


def _local_date(location, moment):
    return timezone.localtime(moment, ZoneInfo(location.time_zone)).date()


def discount_limit_percent(user) -> Decimal:
    """The biggest manual discount a user may give on a sale, in % of what is discountable."""
    limits = settings.CHECKOUT_DISCOUNT_LIMITS
    roles = set(roles_of(user))
    found = [Decimal(str(limits[r.value])) for r in roles if r.value in limits]
    if user.is_superuser:
        found.append(Decimal(str(limits.get("manager", 0))))
    return max(found, default=Decimal(0))


# --- opening a sale ------------------------------------------------------------------------------------


def _service_line_values(service, *, terms, quantity=None) -> dict:
    pricing_row = ServicePricing.objects.filter(service=service).first()
    if pricing_row:
        unit_label = pricing_row.unit_label
        list_price = pricing_row.unit_price_cents
        quantity = quantity or pricing_row.default_units
    else:
        unit_label = ""
        list_price = service.price_cents
        quantity = quantity or 1
    return {
        "kind": SaleLine.Kind.SERVICE,
        "description": service.name,
        "category": service.category or "Services",
        "service": service,
        "quantity": quantity,
        "unit_label": unit_label,
        "list_unit_price_cents": list_price,
        "unit_price_cents": terms.service_prices.get(service.pk, list_price),
    }


@transaction.atomic
def open_sale_for_appointment(*, appointment, user) -> Sale:
    """The appointment's open sale, or a new one with the service performed as its first line.
    A second click (or a second desk) finds the same sale."""
    existing = Sale.objects.filter(appointment=appointment, status=Sale.Status.OPEN).first()
    if existing:
        return existing
    if appointment.status in (appointment.Status.CANCELLED, appointment.Status.NO_SHOW):
        raise CheckoutError("This visit did not happen; start a walk-in sale for anything bought.")
    try:
        with transaction.atomic():
            sale = Sale.objects.create(
                location=appointment.location, patient=appointment.patient, appointment=appointment, created_by=user
            )
    except IntegrityError:
        return Sale.objects.get(appointment=appointment, status=Sale.Status.OPEN)
    terms = prepaid_selectors.member_terms(sale.patient)
    SaleLine.objects.create(
        sale=sale, provider=appointment.provider, **_service_line_values(appointment.service, terms=terms)
    )
    reprice(sale=sale)
    return sale


@transaction.atomic
def open_walk_in_sale(*, location, user, patient=None) -> Sale:
    sale = Sale.objects.create(location=location, patient=patient, created_by=user)
    return sale


@transaction.atomic
def set_customer(*, sale: Sale, patient, user) -> Sale:
    """Name the customer of a walk-in sale (member prices and balances then apply)."""
    sale = _editable(sale)
    if sale.appointment_id:
        raise CheckoutError("A visit's sale belongs to the visit's patient.")
    sale.patient = patient
    sale.save(update_fields=["patient", "updated_at"])
    for line in sale.lines.all():
        _refresh_member_price(line, prepaid_selectors.member_terms(patient))
    return reprice(sale=sale)


def _refresh_member_price(line: SaleLine, terms) -> None:
    if line.kind == SaleLine.Kind.SERVICE:
        line.unit_price_cents = terms.service_prices.get(line.service_id, line.list_unit_price_cents)
    elif line.kind == SaleLine.Kind.PRODUCT:
        line.unit_price_cents = terms.product_prices.get(line.product_id, line.list_unit_price_cents)
    else:
        return
    line.save(update_fields=["unit_price_cents"])


# --- lines -----------------------------------------------------------------------------------------------


def _positive(quantity) -> int:
    try:
        quantity = int(quantity)
    except (TypeError, ValueError) as exc:
        raise CheckoutError("Enter a whole number.") from exc
    if quantity <= 0 or quantity > 1000:
        raise CheckoutError("Enter a quantity from 1 to 1000.")
    return quantity


@transaction.atomic
def add_service_line(*, sale: Sale, service, provider, quantity=None, user=None) -> SaleLine:
    sale = _editable(sale)
    terms = prepaid_selectors.member_terms(sale.patient)
    values = _service_line_values(service, terms=terms, quantity=_positive(quantity) if quantity else None)
    line = SaleLine.objects.create(sale=sale, provider=provider, **values)
    reprice(sale=sale)
    return line


@transaction.atomic
def add_addon_line(*, sale: Sale, addon: AddOn, provider=None, user=None) -> SaleLine:
    sale = _editable(sale)
    line = SaleLine.objects.create(
        sale=sale,
        kind=SaleLine.Kind.ADDON,
        description=addon.name,
        category=addon.category,
        addon=addon,
        provider=provider or _main_provider(sale),
        quantity=1,
        list_unit_price_cents=addon.price_cents,
        unit_price_cents=addon.price_cents,
    )
    reprice(sale=sale)
    return line


def _main_provider(sale):
    first = sale.lines.filter(provider__isnull=False).order_by("id").first()
    return first.provider if first else None


@transaction.atomic
def add_product_line(*, sale: Sale, product, quantity=1, user=None) -> SaleLine:
    """A retail product; the same product again adds to its line's quantity."""
    sale = _editable(sale)
    quantity = _positive(quantity)
    if not product.active:
        raise CheckoutError("This product is no longer sold.")
    line = sale.lines.filter(kind=SaleLine.Kind.PRODUCT, product=product).first()
    if line:
        line.quantity += quantity
        line.save(update_fields=["quantity"])
    else:
        terms = prepaid_selectors.member_terms(sale.patient)
        line = SaleLine.objects.create(
            sale=sale,
            kind=SaleLine.Kind.PRODUCT,
            description=product.name,
            category=product.category or "Retail",
            product=product,
            quantity=quantity,
            list_unit_price_cents=product.price_cents,
            unit_price_cents=terms.product_prices.get(product.pk, product.price_cents),
            taxable=product.taxable,
        )
    reprice(sale=sale)
    return line


@transaction.atomic
def add_package_line(*, sale: Sale, plan, user=None) -> SaleLine:
    sale = _editable(sale)
    if sale.patient_id is None:
        raise CheckoutError("Choose the patient first: a package belongs to a patient.")
    if not plan.active:
        raise CheckoutError("This package is no longer sold.")
    line = SaleLine.objects.create(
        sale=sale,
        kind=SaleLine.Kind.PACKAGE,
        description=plan.name,
        category="Packages",
        package_plan=plan,
        service=plan.service,
        quantity=1,
        list_unit_price_cents=plan.price_cents,
        unit_price_cents=plan.price_cents,
    )
    reprice(sale=sale)
    return line


@transaction.atomic
def add_gift_card_line(*, sale: Sale, amount_cents: int, user=None) -> SaleLine:
    sale = _editable(sale)
    low, high = settings.GIFT_CARD_MIN_CENTS, settings.GIFT_CARD_MAX_CENTS
    if not low <= amount_cents <= high:
        raise CheckoutError(f"A gift card is from ${low / 100:,.0f} to ${high / 100:,.0f}.")
    line = SaleLine.objects.create(
        sale=sale,
        kind=SaleLine.Kind.GIFT_CARD,
        description="Gift card",
        category="Gift cards",
        quantity=1,
        list_unit_price_cents=amount_cents,
        unit_price_cents=amount_cents,
    )
    reprice(sale=sale)
    return line


@transaction.atomic
def change_quantity(*, line: SaleLine, quantity, user=None) -> SaleLine:
    sale = _editable(line.sale)
    line = sale.lines.get(pk=line.pk)
    if line.kind in (SaleLine.Kind.PACKAGE, SaleLine.Kind.GIFT_CARD):
        raise CheckoutError("Remove it and add it again instead.")
    line.quantity = _positive(quantity)
    line.save(update_fields=["quantity"])
    reprice(sale=sale)
    return line


@transaction.atomic
def change_line_provider(*, line: SaleLine, provider, user=None) -> SaleLine:
    sale = _editable(line.sale)
    line = sale.lines.get(pk=line.pk)
    line.provider = provider
    line.save(update_fields=["provider"])
    return line


@transaction.atomic
def remove_line(*, line: SaleLine, user=None) -> Sale:
    sale = _editable(line.sale)
    line = sale.lines.get(pk=line.pk)
    line.discounts.all().delete()
    line.delete()
    return reprice(sale=sale)


# --- discounts and tips ---------------------------------------------------------------------------------


@transaction.atomic
def add_discount(*, sale: Sale, kind: str, value, reason: str, user, line: SaleLine | None = None) -> SaleDiscount:
    """A manual discount (amount in cents, or a percent) with a reason, within the user's limit."""
    sale = _editable(sale)
    reason = (reason or "").strip()
    if not reason:
        raise CheckoutError("Give a reason for the discount.")
    if kind not in (SaleDiscount.Kind.AMOUNT, SaleDiscount.Kind.PERCENT):
        raise CheckoutError("Choose an amount or a percentage.")
    if line is not None:
        line = sale.lines.get(pk=line.pk)
    discount = SaleDiscount.objects.create(
        sale=sale,
        line=line,
        kind=kind,
        percent=value if kind == SaleDiscount.Kind.PERCENT else None,
        amount_cents=int(value) if kind == SaleDiscount.Kind.AMOUNT else 0,
        reason=reason[:200],
        created_by=user,
    )
    totals = reprice(sale=sale, totals_only=True)
    limit = discount_limit_percent(user)
    gift_card_lines = set(sale.lines.filter(kind=SaleLine.Kind.GIFT_CARD).values_list("pk", flat=True))
    discountable = sum(
        out.gross_cents - out.member_discount_cents for key, out in totals.lines.items() if key not in gift_card_lines
    )
    if discountable and Decimal(totals.discount_cents) * 100 > limit * discountable:
        raise CheckoutError(f"That is more than your discount limit ({limit.normalize():f}% of the sale). Ask billing.")
    reprice(sale=sale)
    discount.refresh_from_db()
    return discount


@transaction.atomic
def remove_discount(*, discount: SaleDiscount, user=None) -> Sale:
    sale = _editable(discount.sale)
    sale.discounts.filter(pk=discount.pk).delete()
    return reprice(sale=sale)


@transaction.atomic
def set_tips(*, sale: Sale, tips: dict, user=None) -> Sale:
    """Tips per provider ({provider: cents}); zero removes a provider's tip."""
    sale = _editable(sale)
    for provider, cents in tips.items():
        if cents < 0:
            raise CheckoutError("A tip cannot be negative.")
        if cents == 0:
            sale.tips.filter(provider=provider).delete()
        else:
            SaleTip.objects.update_or_create(sale=sale, provider=provider, defaults={"amount_cents": cents})
    return reprice(sale=sale)


# --- pricing -------------------------------------------------------------------------------------------------


def _pricing_inputs(sale: Sale):
    terms = prepaid_selectors.member_terms(sale.patient)
    lines = list(sale.lines.all())
    line_inputs = []
    for line in lines:
        percent = Decimal(0)
        if terms.membership:
            if line.kind in (SaleLine.Kind.SERVICE, SaleLine.Kind.ADDON) and terms.services:
                has_member_price = line.kind == SaleLine.Kind.SERVICE and line.service_id in terms.service_prices
                percent = Decimal(0) if has_member_price else terms.percent
            elif line.kind == SaleLine.Kind.PRODUCT and terms.retail:
                percent = Decimal(0) if line.product_id in terms.product_prices else terms.percent
        line_inputs.append(
            pricing.LineIn(
                key=line.pk,
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                taxable=line.taxable,
                discountable=line.kind != SaleLine.Kind.GIFT_CARD,
                member_percent=percent,
            )
        )
    discounts = [
        pricing.DiscountIn(
            key=d.pk,
            kind=d.kind,
            value=d.percent if d.kind == SaleDiscount.Kind.PERCENT else d.amount_cents,
            line_key=d.line_id,
        )
        for d in sale.discounts.all()
    ]
    tips = list(sale.tips.values_list("amount_cents", flat=True))
    return lines, line_inputs, discounts, tips


def reprice(*, sale: Sale, totals_only: bool = False):
    """Recompute every amount of an open sale and store it (call inside the caller's transaction)."""
    tax_percent = settings_for(sale.location).sales_tax_percent
    lines, line_inputs, discounts, tips = _pricing_inputs(sale)
    totals = pricing.price_sale(line_inputs, discounts, tax_percent, tips)
    if totals_only:
        return totals
    for line in lines:
        out = totals.lines[line.pk]
        line.gross_cents = out.gross_cents
        line.member_discount_cents = out.member_discount_cents
        line.discount_cents = out.discount_cents
        line.net_cents = out.net_cents
        line.tax_cents = out.tax_cents
    SaleLine.objects.bulk_update(
        lines, ["gross_cents", "member_discount_cents", "discount_cents", "net_cents", "tax_cents"]
    )
    for discount in sale.discounts.all():
        taken = totals.discounts.get(discount.pk, 0)
        if discount.amount_cents != taken:
            discount.amount_cents = taken
            discount.save(update_fields=["amount_cents"])
    sale.tax_percent = tax_percent
    sale.subtotal_cents = totals.subtotal_cents
    sale.member_discount_cents = totals.member_discount_cents
    sale.discount_cents = totals.discount_cents
    sale.taxable_cents = totals.taxable_cents
    sale.tax_cents = totals.tax_cents
    sale.tip_cents = totals.tip_cents
    sale.total_cents = totals.total_cents
    sale.save()
    return sale


# --- tenders -------------------------------------------------------------------------------------------------


def taken_cents(sale: Sale) -> int:
    return sale.tenders.filter(status=Tender.Status.SUCCEEDED).aggregate(s=Sum("amount_cents"))["s"] or 0


def reserved_cents(sale: Sale) -> int:
    """Taken plus card payments still in progress (a Payment Element open at the desk)."""
    statuses = (Tender.Status.SUCCEEDED, Tender.Status.PENDING)
    return sale.tenders.filter(status__in=statuses).aggregate(s=Sum("amount_cents"))["s"] or 0


def due_cents(sale: Sale) -> int:
    return max(sale.total_cents - reserved_cents(sale), 0)


def _payable(sale: Sale, amount_cents: int) -> Sale:
    sale = _locked(sale)
    if sale.status != Sale.Status.OPEN:
        raise CheckoutError(f"Sale {sale.number} is {sale.get_status_display().lower()}.")
    if not sale.lines.exists():
        raise CheckoutError("Add what is being bought first.")
    if amount_cents <= 0:
        raise CheckoutError("Enter an amount greater than zero.")
    if amount_cents > due_cents(sale):
        raise CheckoutError(f"That is more than the {_money(due_cents(sale))} left to pay.")
    return sale


def _money(cents: int) -> str:
    from cinrella.money import format_cents

    return format_cents(cents)


def _new_tender(*, sale: Sale, kind: str, amount_cents: int, user, key: str, **fields) -> Tender:
    return Tender.objects.create(
        sale=sale, kind=kind, amount_cents=amount_cents, idempotency_key=key, created_by=user, **fields
    )


def _take(tender: Tender) -> Tender:
    """Mark a tender taken (and freeze it); lock the sale's lines; settle when fully paid."""
    now = timezone.now()
    tender.status = Tender.Status.SUCCEEDED
    tender.settled_at = now
    tender.business_date = _local_date(tender.sale.location, now)
    tender.locked = True
    tender.save()
    sale = tender.sale
    if sale.locked_at is None:
        sale.locked_at = now
        sale.save(update_fields=["locked_at", "updated_at"])
    settle_if_paid(sale=sale)
    return tender


def _existing(key: str) -> Tender | None:
    return Tender.objects.filter(idempotency_key=key).first()


@transaction.atomic
def take_cash(*, sale: Sale, amount_cents: int, received_cents: int | None, nonce: str, user) -> Tender:
    key = f"sale:{sale.pk}:cash:{nonce}"
    if existing := _existing(key):
        return existing
    sale = _payable(sale, amount_cents)
    received = received_cents if received_cents is not None else amount_cents
    if received < amount_cents:
        raise CheckoutError("The cash received is less than the amount.")
    tender = _new_tender(
        sale=sale, kind=Tender.Kind.CASH, amount_cents=amount_cents, user=user, key=key, cash_received_cents=received
    )
    return _take(tender)


@transaction.atomic
def take_gift_card(*, sale: Sale, code: str, amount_cents: int | None, nonce: str, user) -> Tender:
    key = f"sale:{sale.pk}:gift:{nonce}"
    if existing := _existing(key):
        return existing
    card = prepaid.find_gift_card(code)
    if card is None or card.status != GiftCard.Status.ACTIVE:
        raise CheckoutError("No active gift card has that code. Check the code and try again.")
    if sale.lines.filter(kind=SaleLine.Kind.GIFT_CARD).exists():
        raise CheckoutError("A gift card cannot pay for another gift card.")
    balance = prepaid.gift_card_balance(card)
    locked_sale = _locked(sale)
    amount_cents = amount_cents or min(balance, due_cents(locked_sale))
    sale = _payable(sale, amount_cents)
    tender = _new_tender(
        sale=sale, kind=Tender.Kind.GIFT_CARD, amount_cents=amount_cents, user=user, key=key, gift_card=card
    )
    try:
        prepaid.redeem_gift_card(
            gift_card=card, amount_cents=amount_cents, source="tender", source_id=tender.pk, user=user
        )
    except prepaid.PrepaidError as exc:
        raise CheckoutError(str(exc)) from exc
    return _take(tender)


@transaction.atomic
def take_membership_credit(*, sale: Sale, amount_cents: int | None, nonce: str, user) -> Tender:
    key = f"sale:{sale.pk}:credit:{nonce}"
    if existing := _existing(key):
        return existing
    membership = prepaid_selectors.benefit_membership(sale.patient)
    if membership is None:
        raise CheckoutError("This patient has no active membership.")
    balance = prepaid.credit_balance(membership)
    amount_cents = amount_cents or min(balance, due_cents(_locked(sale)))
    sale = _payable(sale, amount_cents)
    tender = _new_tender(
        sale=sale,
        kind=Tender.Kind.MEMBERSHIP_CREDIT,
        amount_cents=amount_cents,
        user=user,
        key=key,
        membership=membership,
    )
    try:
        prepaid.redeem_credit(membership=membership, amount_cents=amount_cents, source="tender", source_id=tender.pk)
    except prepaid.PrepaidError as exc:
        raise CheckoutError(str(exc)) from exc
    return _take(tender)


@transaction.atomic
def take_package_session(*, sale: Sale, line: SaleLine, package, nonce: str, user) -> Tender:
    """One session of a package pays for one service line (its whole amount)."""
    key = f"sale:{sale.pk}:package:{line.pk}"
    if existing := Tender.objects.filter(idempotency_key=key, status=Tender.Status.SUCCEEDED).first():
        return existing
    locked_sale = _locked(sale)
    line = locked_sale.lines.get(pk=line.pk)
    if line.kind != SaleLine.Kind.SERVICE or package.patient_id != locked_sale.patient_id:
        raise CheckoutError("A package session pays for a service of the package's owner.")
    if line.service_id != package.service_id:
        raise CheckoutError(f"This package is for {package.service.name}.")
    if line.quantity != 1 or line.net_cents == 0:
        raise CheckoutError("A package session pays for one visit of the service.")
    sale = _payable(sale, line.net_cents)
    tender = _new_tender(
        sale=sale,
        kind=Tender.Kind.PACKAGE,
        amount_cents=line.net_cents,
        user=user,
        key=key,
        package=package,
        package_line=line,
    )
    try:
        prepaid.redeem_session(package=package, source="tender", source_id=tender.pk, user=user)
    except prepaid.PrepaidError as exc:
        raise CheckoutError(str(exc)) from exc
    return _take(tender)


def _card_payment(*, sale: Sale, kind: str, amount_cents: int, nonce: str, user) -> Tender:
    """Record the intent: a pending tender and its Payment row (committed before Stripe is called)."""
    key = f"sale:{sale.pk}:{kind}:{nonce}"
    with transaction.atomic():
        if existing := _existing(key):
            return existing
        sale = _payable(sale, amount_cents)
        try:
            payment = payment_services.sale_payment(
                idempotency_key=key,
                patient=sale.patient,
                amount_cents=amount_cents,
                currency=sale.currency,
                kind=Payment.Kind.SALE,
                user=user,
            )
        except payment_services.PaymentError as exc:
            raise CheckoutError(str(exc)) from exc
        return _new_tender(sale=sale, kind=kind, amount_cents=amount_cents, user=user, key=key, payment=payment)


def charge_card_on_file(*, sale: Sale, card_id: int, amount_cents: int, nonce: str, user) -> Tender:
    """Charge one of the patient's saved cards. Not atomic on purpose: see the module docstring."""
    if sale.patient_id is None:
        raise CheckoutError("Only a patient's sale can use a card on file.")
    card = payment_selectors.usable_cards(sale.patient).filter(pk=card_id).first()
    if card is None:
        raise CheckoutError("Choose one of the patient's saved cards.")
    tender = _card_payment(sale=sale, kind=Tender.Kind.CARD_ON_FILE, amount_cents=amount_cents, nonce=nonce, user=user)
    if tender.status != Tender.Status.PENDING:
        return tender
    try:
        payment = payment_services.charge_saved_card(payment=tender.payment, card=card, user=user)
    except payment_services.PaymentError as exc:
        _fail(tender, str(exc))
        raise CheckoutError(str(exc)) from exc
    return apply_payment_result(payment=payment)


def start_card(*, sale: Sale, amount_cents: int, nonce: str, user) -> tuple[Tender, str | None]:
    """A card entered in Stripe's Payment Element at the desk: returns the client secret."""
    tender = _card_payment(sale=sale, kind=Tender.Kind.CARD, amount_cents=amount_cents, nonce=nonce, user=user)
    secret = card_client_secret(tender=tender, user=user)
    return Tender.objects.select_related("payment").get(pk=tender.pk), secret


def card_client_secret(*, tender: Tender, user=None) -> str | None:
    """The Payment Element's client secret for a pending card tender (None once it is settled)."""
    if tender.status != Tender.Status.PENDING:
        return None
    try:
        payment, secret = payment_services.start_on_session_payment(payment=tender.payment, save_card=False, user=user)
    except payment_services.PaymentError as exc:
        raise CheckoutError(str(exc)) from exc
    tender = apply_payment_result(payment=payment)
    return secret if tender.status == Tender.Status.PENDING else None


def refresh_card(*, tender: Tender, user=None) -> Tender:
    """Re-read the PaymentIntent from Stripe (the return page; the query string is not trusted)."""
    payment = payment_services.refresh_from_stripe(payment=tender.payment, user=user)
    return apply_payment_result(payment=payment)


@transaction.atomic
def apply_payment_result(*, payment: Payment) -> Tender:
    """Bring a card tender to its Payment's state (desk, return page or webhook: same function)."""
    tender = Tender.objects.select_for_update().select_related("sale__location").get(payment=payment)
    if tender.status != Tender.Status.PENDING:
        return tender
    payment.refresh_from_db(fields=["status", "failure_reason"])
    if payment.status == Payment.Status.SUCCEEDED:
        Sale.objects.select_for_update().get(pk=tender.sale_id)
        return _take(tender)
    if payment.status == Payment.Status.FAILED:
        return _fail(tender, "The card was declined. Try another card or another way to pay.")
    if payment.status == Payment.Status.REQUIRES_ACTION and tender.kind == Tender.Kind.CARD_ON_FILE:
        return _fail(tender, "The bank wants the cardholder to confirm: enter the card instead.")
    if payment.status == Payment.Status.CANCELED:
        return _fail(tender, "The card payment was cancelled.")
    return tender


def _fail(tender: Tender, message: str) -> Tender:
    tender.status = Tender.Status.FAILED
    tender.failure_message = message[:200]
    tender.save(update_fields=["status", "failure_message"])
    return tender


def cancel_card(*, tender: Tender, user=None) -> Tender:
    """Give up on a card entry that was not completed: the PaymentIntent is cancelled at Stripe
    (after commit of nothing of ours: payments does it under its own row lock)."""
    if tender.status != Tender.Status.PENDING or tender.payment_id is None:
        return tender
    payment = payment_services.cancel_open_payment(payment_id=tender.payment_id, user=user)
    tender = apply_payment_result(payment=payment)
    if tender.status == Tender.Status.PENDING:  # no PaymentIntent yet
        with transaction.atomic():
            tender = _fail(Tender.objects.select_for_update().get(pk=tender.pk), "Cancelled at the desk.")
    return tender


# --- settling -------------------------------------------------------------------------------------------------


def settle_if_paid(*, sale: Sale) -> Sale:
    """When the tenders cover the total: freeze everything, copy report fields, move stock, issue
    packages and gift cards, queue the receipt email (inside the caller's transaction)."""
    sale = _locked(sale)
    if sale.status != Sale.Status.OPEN or taken_cents(sale) < sale.total_cents:
        return sale
    if sale.total_cents == 0 and not sale.lines.exists():
        return sale
    now = timezone.now()
    day = _local_date(sale.location, now)
    sale.status = Sale.Status.PAID
    sale.paid_at = now
    sale.business_date = day
    sale.locked_at = sale.locked_at or now
    sale.save()
    sale.lines.update(location=sale.location, business_date=day, locked=True)
    sale.discounts.update(locked=True)
    sale.tips.update(business_date=day, locked=True)
    for line in sale.lines.select_related("product", "package_plan"):
        _fulfil(sale, line)
    if sale.receipt_email_requested:
        queue_receipt_email(sale=sale)
    return sale


def _fulfil(sale: Sale, line: SaleLine) -> None:
    if line.kind == SaleLine.Kind.PRODUCT:
        stock.move_stock(
            product=line.product,
            location=sale.location,
            quantity=-line.quantity,
            reason=StockMove.Reason.SALE,
            user=sale.created_by,
            source="sale_line",
            source_id=line.pk,
        )
    elif line.kind == SaleLine.Kind.PACKAGE:
        prepaid.issue_package(patient=sale.patient, plan=line.package_plan, source="sale_line", source_id=line.pk)
    elif line.kind == SaleLine.Kind.GIFT_CARD:
        card = prepaid.create_gift_card(
            amount_cents=line.net_cents,
            channel=GiftCard.Channel.CHECKOUT,
            purchaser=sale.patient,
            source="sale_line",
            source_id=line.pk,
        )
        prepaid.activate_gift_card(gift_card=card, user=sale.created_by)


def gift_cards_of(sale: Sale) -> list[GiftCard]:
    line_ids = list(sale.lines.filter(kind=SaleLine.Kind.GIFT_CARD).values_list("pk", flat=True))
    return list(GiftCard.objects.filter(source="sale_line", source_id__in=line_ids).order_by("pk"))


# --- receipts ---------------------------------------------------------------------------------------------------


@transaction.atomic
def request_receipt_email(*, sale: Sale, user=None) -> ReceiptDelivery | None:
    """Email the receipt now (paid sale) or when the sale is paid (open sale)."""
    sale = _locked(sale)
    if sale.patient_id is None or not sale.patient.email:
        raise CheckoutError("There is no email address for this customer.")
    if sale.status == Sale.Status.OPEN:
        sale.receipt_email_requested = True
        sale.save(update_fields=["receipt_email_requested", "updated_at"])
        return None
    return queue_receipt_email(sale=sale, user=user)


def queue_receipt_email(*, sale: Sale, user=None) -> ReceiptDelivery:
    """A delivery row now; the email is sent by a task after commit (never inside the request)."""
    from checkout.tasks import send_receipt_task

    delivery = ReceiptDelivery.objects.create(sale=sale, requested_by=user if user and user.is_authenticated else None)
    transaction.on_commit(lambda: send_receipt_task.enqueue(delivery.pk))
    return delivery


# --- cancel, refund, void ----------------------------------------------------------------------------------------


def _returned_share(line: SaleLine, quantity: int) -> tuple[int, int]:
    """Net and tax given back for `quantity` of a line: proportional, rounded by the one rule; the
    last units returned take exactly what is left, so a line never returns more than it took."""
    from cinrella.money import round_cents

    done = line.returned.aggregate(q=Sum("quantity"), n=Sum("net_cents"), t=Sum("tax_cents"))
    left = line.quantity - (done["q"] or 0)
    if quantity <= 0 or quantity > left:
        raise CheckoutError(f"“{line.description}”: at most {left} can be returned.")
    if quantity == left:
        return line.net_cents - (done["n"] or 0), line.tax_cents - (done["t"] or 0)
    return (
        round_cents(Decimal(line.net_cents) * quantity / line.quantity),
        round_cents(Decimal(line.tax_cents) * quantity / line.quantity),
    )


def _record_return(
    *, sale: Sale, kind: str, reason: str, restock: bool, user, line_quantities: dict, tip_ids
) -> SaleReturn:
    """The return row with its totals (it is append-only: computed first, written once)."""
    shares = {line: (quantity, *_returned_share(line, quantity)) for line, quantity in line_quantities.items()}
    tips = [tip for tip in sale.tips.filter(pk__in=tip_ids) if not tip.returned.exists()]
    net = sum(n for _, n, _ in shares.values())
    tax = sum(t for _, _, t in shares.values())
    tip_total = sum(tip.amount_cents for tip in tips)
    day = _local_date(sale.location, timezone.now())
    sale_return = SaleReturn.objects.create(
        sale=sale,
        kind=kind,
        reason=reason[:300],
        restock=restock,
        location=sale.location,
        business_date=day,
        created_by=user,
        net_cents=net,
        tax_cents=tax,
        tip_cents=tip_total,
        total_cents=net + tax + tip_total,
    )
    for line, (quantity, line_net, line_tax) in shares.items():
        SaleReturnLine.objects.create(
            sale_return=sale_return,
            line=line,
            quantity=quantity,
            net_cents=line_net,
            tax_cents=line_tax,
            kind=line.kind,
            category=line.category,
            provider=line.provider,
            location=sale.location,
            business_date=day,
        )
        _unfulfil(sale_return, line, quantity, restock=restock, user=user)
    SaleReturnTip.objects.bulk_create(
        SaleReturnTip(sale_return=sale_return, tip=tip, amount_cents=tip.amount_cents) for tip in tips
    )
    return sale_return


def _unfulfil(sale_return, line: SaleLine, quantity: int, *, restock: bool, user) -> None:
    if line.kind == SaleLine.Kind.PRODUCT and restock:
        stock.move_stock(
            product=line.product,
            location=sale_return.location,
            quantity=quantity,
            reason=StockMove.Reason.REFUND,
            user=user,
            source="sale_return",
            source_id=sale_return.pk,
        )
    elif line.kind == SaleLine.Kind.GIFT_CARD:
        for card in GiftCard.objects.filter(source="sale_line", source_id=line.pk):
            if prepaid.gift_card_balance(card) < card.initial_cents:
                raise CheckoutError(
                    "This gift card was partly used: close it from the gift card page (its remaining balance) "
                    "instead of refunding the sale line."
                )
            prepaid.close_gift_card(
                gift_card=card,
                kind="cash_out",
                note="Refunded with its sale",
                user=user,
                source="sale_return",
                source_id=sale_return.pk,
            )
    elif line.kind == SaleLine.Kind.PACKAGE:
        from prepaid.models import PatientPackage

        for package in PatientPackage.objects.filter(source="sale_line", source_id=line.pk):
            try:
                prepaid.void_package(package=package, source="sale_return", source_id=sale_return.pk, user=user)
            except prepaid.PrepaidError as exc:
                raise CheckoutError(str(exc)) from exc


def _allocate_to_tenders(sale_return: SaleReturn, amount_cents: int, line_ids) -> list[ReturnTender]:
    """Money back to where it came from: a returned line paid by a package session gets its
    session back; the rest goes back to the other tenders, latest first, each up to what is left
    on it."""
    rows = []
    remaining = amount_cents
    for tender in sale_return.sale.tenders.filter(status=Tender.Status.SUCCEEDED, kind=Tender.Kind.PACKAGE):
        if tender.package_line_id in line_ids and not tender.returned.exists():
            rows.append(ReturnTender(sale_return=sale_return, tender=tender, amount_cents=tender.amount_cents))
            remaining -= tender.amount_cents
    others = sale_return.sale.tenders.filter(status=Tender.Status.SUCCEEDED).exclude(kind=Tender.Kind.PACKAGE)
    for tender in others.order_by("-id"):
        if remaining <= 0:
            break
        given_back = tender.returned.aggregate(s=Sum("amount_cents"))["s"] or 0
        share = min(tender.amount_cents - given_back, remaining)
        if share > 0:
            rows.append(ReturnTender(sale_return=sale_return, tender=tender, amount_cents=share))
            remaining -= share
    if remaining > 0:
        raise CheckoutError("The refund is more than what is left to give back on this sale.")
    return ReturnTender.objects.bulk_create(rows)


def _give_back(return_tender: ReturnTender, user) -> None:
    """Inside the return's transaction: everything but cards (those go to Stripe after commit)."""
    tender = return_tender.tender
    source = ("return_tender", return_tender.pk)
    if tender.kind == Tender.Kind.GIFT_CARD:
        prepaid.restore_gift_card(
            gift_card=tender.gift_card,
            amount_cents=return_tender.amount_cents,
            source=source[0],
            source_id=source[1],
            user=user,
        )
    elif tender.kind == Tender.Kind.MEMBERSHIP_CREDIT:
        prepaid.restore_credit(
            membership=tender.membership, amount_cents=return_tender.amount_cents, source=source[0], source_id=source[1]
        )
    elif tender.kind == Tender.Kind.PACKAGE:
        prepaid.restore_session(package=tender.package, source=source[0], source_id=source[1], user=user)
    elif tender.kind in (Tender.Kind.CARD, Tender.Kind.CARD_ON_FILE):
        try:
            refund = payment_services.request_refund(
                payment=tender.payment,
                amount_cents=return_tender.amount_cents,
                reason=return_tender.sale_return.reason,
                user=user,
            )
        except payment_services.PaymentError as exc:
            raise CheckoutError(str(exc)) from exc
        return_tender.refund = refund
        return_tender.save(update_fields=["refund"])
        return  # stays pending until Stripe answers (send_return_refunds)
    return_tender.status = ReturnTender.Status.SUCCEEDED
    return_tender.save(update_fields=["status"])


def refund_sale(
    *, sale: Sale, line_quantities: dict, tip_ids=(), reason: str, restock: bool = True, user
) -> SaleReturn:
    """Give back some lines (and tips) of a paid sale: a SaleReturn with the money sent back to the
    tenders. Card refunds go to Stripe after the commit (`send_return_refunds`)."""
    return _return(
        sale=sale,
        kind=SaleReturn.Kind.REFUND,
        line_quantities=line_quantities,
        tip_ids=tip_ids,
        reason=reason,
        restock=restock,
        user=user,
    )


def void_sale(*, sale: Sale, reason: str, user) -> SaleReturn:
    """Everything back (lines not yet returned, tips, tax)."""
    lines = {}
    for line in sale.lines.all():
        left = line.quantity - (line.returned.aggregate(q=Sum("quantity"))["q"] or 0)
        if left:
            lines[line.pk] = left
    tips = list(sale.tips.filter(returned__isnull=True).values_list("pk", flat=True))
    return _return(
        sale=sale,
        kind=SaleReturn.Kind.VOID,
        line_quantities=lines,
        tip_ids=tips,
        reason=reason,
        restock=True,
        user=user,
    )


def _return(*, sale, kind, line_quantities: dict, tip_ids, reason: str, restock: bool, user) -> SaleReturn:
    reason = (reason or "").strip()
    if not reason:
        raise CheckoutError("Give a reason.")
    if not may(user, Capability.SALE_REFUND):
        raise CheckoutError("Only billing can refund or void a sale.")
    with transaction.atomic():
        sale = _locked(sale)
        if sale.status != Sale.Status.PAID:
            raise CheckoutError("Only a paid sale can be refunded or voided.")
        lines = {
            line: q for line in sale.lines.filter(pk__in=line_quantities) for q in [int(line_quantities[line.pk])] if q
        }
        if not lines and not tip_ids:
            raise CheckoutError("Choose what to give back.")
        sale_return = _record_return(
            sale=sale, kind=kind, reason=reason, restock=restock, user=user, line_quantities=lines, tip_ids=tip_ids
        )
        for row in _allocate_to_tenders(sale_return, sale_return.total_cents, {line.pk for line in lines}):
            _give_back(row, user)
    send_return_refunds(sale_return=sale_return, user=user)
    return sale_return


def send_return_refunds(*, sale_return: SaleReturn, user=None) -> None:
    """Send the card refunds of a return to Stripe (outside any lock of ours); a refund Stripe could
    not take stays pending and `payments_submit_pending` retries it."""
    for row in sale_return.tenders.filter(refund__isnull=False, status=ReturnTender.Status.PENDING):
        refund = payment_services.submit_refund(refund_id=row.refund_id, user=user)
        apply_refund_result(refund=refund)


@transaction.atomic
def apply_refund_result(*, refund) -> None:
    row = ReturnTender.objects.select_for_update().filter(refund=refund).first()
    if row is None or row.status != ReturnTender.Status.PENDING:
        return
    if refund.status == refund.Status.SUCCEEDED:
        row.status = ReturnTender.Status.SUCCEEDED
    elif refund.status in (refund.Status.FAILED, refund.Status.CANCELED):
        row.status = ReturnTender.Status.FAILED
    else:
        return
    row.save(update_fields=["status"])


def cancel_sale(*, sale: Sale, reason: str, user) -> Sale:
    """Abandon an open sale. Anything already taken is given back (a void record of its own)."""
    with transaction.atomic():
        sale = _locked(sale)
        if sale.status != Sale.Status.OPEN:
            raise CheckoutError("Only an open sale can be cancelled; refund or void a paid one.")
        pending = sale.tenders.filter(status=Tender.Status.PENDING)
        if pending.exists():
            raise CheckoutError("A card payment is in progress: finish or cancel it first.")
        taken = taken_cents(sale)
        sale_return = None
        if taken:
            sale_return = SaleReturn.objects.create(
                sale=sale,
                kind=SaleReturn.Kind.VOID,
                reason=(reason or "Sale cancelled before it was fully paid")[:300],
                restock=False,
                location=sale.location,
                business_date=_local_date(sale.location, timezone.now()),
                created_by=user,
                total_cents=taken,
            )
            every_line = set(sale.lines.values_list("pk", flat=True))
            for row in _allocate_to_tenders(sale_return, taken, every_line):
                _give_back(row, user)
        sale.status = Sale.Status.CANCELLED
        sale.save(update_fields=["status", "updated_at"])
    if sale_return is not None:
        send_return_refunds(sale_return=sale_return, user=user)
    return sale


def deliver_receipt(*, delivery_id: int) -> ReceiptDelivery:
    """Send one queued receipt email (the task). The privacy gate first: the email provider gets the
    patient's name and address and the amounts (never a service name, see checkout.receipts); if
    the mail server refuses, the disclosure row rolls back with the attempt."""
    from smtplib import SMTPException

    from checkout.receipts import receipt_email
    from privacy.gate import PolicyViolation, disclose
    from privacy.policy import Category, Purpose

    try:
        with transaction.atomic():
            delivery = (
                ReceiptDelivery.objects.select_for_update(of=("self",))
                .select_related("sale__patient")
                .get(pk=delivery_id)
            )
            if delivery.status != ReceiptDelivery.Status.QUEUED:
                return delivery
            sale = delivery.sale
            if sale.patient_id is None or not sale.patient.email:
                return _delivery_outcome(delivery, ReceiptDelivery.Status.FAILED, "No email address")
            try:
                disclose(
                    recipient="email",
                    categories={Category.IDENTITY, Category.CONTACT, Category.PAYMENT},
                    purpose=Purpose.PAYMENT,
                    patient=sale.patient,
                    description=f"Receipt {sale.number} by email (amounts, no service names)",
                    user=delivery.requested_by,
                )
            except PolicyViolation as exc:
                return _delivery_outcome(delivery, ReceiptDelivery.Status.REFUSED, exc.clause)
            receipt_email(sale).send()
            return _delivery_outcome(delivery, ReceiptDelivery.Status.SENT, "")
    except (SMTPException, OSError) as exc:
        log.warning("receipt email %s failed: %s", delivery_id, type(exc).__name__)
        delivery = ReceiptDelivery.objects.get(pk=delivery_id)
        return _delivery_outcome(delivery, ReceiptDelivery.Status.FAILED, f"Mail server: {type(exc).__name__}")


def _delivery_outcome(delivery: ReceiptDelivery, status: str, error: str) -> ReceiptDelivery:
    delivery.status = status
    delivery.error = error[:200]
    delivery.sent_at = timezone.now() if status == ReceiptDelivery.Status.SENT else None
    delivery.save(update_fields=["status", "error", "sent_at"])
    return delivery

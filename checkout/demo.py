"""Demo checkout for `seed_demo` (idempotent): the location's tax rate, injectables priced by the
unit, add-ons, and 13 weeks of past visits with their paid sales (services, retail, tips, cash and
card), no-shows and late cancellations — so the day sheet, a receipt and the dashboard show a
realistic clinic on a fresh clone. History rows are written in bulk, exactly as the services would
leave them (paid, frozen lines with their report fields); today's visits stay for the desk to
check out."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.utils import timezone

from appointments.models import Appointment, Location, Provider, Service
from checkout.models import AddOn, CheckoutSettings, Sale, SaleLine, SaleTip, ServicePricing, Tender
from cinrella.demo import DEMO_LOCATION
from cinrella.money import allocate, percent_of
from inventory.models import Product
from payments.models import Payment

ADDONS = [("Numbing cream", 2500), ("LED light therapy", 4500), ("Dermaplaning", 6500)]
WEEKS = 13
DEMO_PEOPLE = [
    ("Grace", "Kim"), ("Sofia", "Alvarez"), ("Emma", "Nguyen"), ("Chloe", "Patel"), ("Isabella", "Rossi"),
    ("Mia", "Johnson"), ("Hannah", "Lee"), ("Zoe", "Martinez"), ("Lily", "Brown"), ("Nora", "Garcia"),
    ("Avery", "Wilson"), ("Ella", "Davis"), ("Camila", "Lopez"), ("Harper", "Clark"), ("Layla", "Lewis"),
    ("Aria", "Walker"), ("Riley", "Hall"), ("Nova", "Young"), ("Luna", "King"), ("Stella", "Wright"),
]  # fmt: skip


def load(stdout) -> None:
    location = Location.objects.filter(name=DEMO_LOCATION["name"]).first() or Location.objects.order_by("pk").first()
    if location is None:
        return
    CheckoutSettings.objects.get_or_create(location=location, defaults={"sales_tax_percent": Decimal("7.75")})
    tox = Service.objects.filter(name="Neuromodulator").first()
    if tox:
        ServicePricing.objects.get_or_create(
            service=tox, defaults={"unit_label": "units", "unit_price_cents": 1400, "default_units": 20}
        )
    for name, price in ADDONS:
        AddOn.objects.get_or_create(name=name, defaults={"price_cents": price})
    made = _history(location)
    stdout.write(f"checkout: tax 7.75%, {len(ADDONS)} add-ons, {made} past sales\n")


def _history(location) -> int:
    tz = ZoneInfo(location.time_zone)
    today = timezone.localtime(timezone.now(), tz).date()
    if Sale.objects.filter(location=location, business_date__lt=today).exists():
        return 0
    providers = list(Provider.objects.filter(active=True).order_by("pk")[:2])
    services = {s.name: s for s in Service.objects.filter(active=True)}
    desk = User.objects.filter(username="frontdesk").first()
    if not providers or not services or desk is None:
        return 0
    patients = _demo_patients()
    products = list(Product.objects.filter(active=True))
    addons = list(AddOn.objects.all())
    pricing = {p.service_id: p for p in ServicePricing.objects.all()}
    rng = random.Random(22)  # noqa: S311 (demo data, not secrets: the same demo on every machine)
    menu = [
        n
        for n in ("Neuromodulator", "Dermal filler", "Chemical peel", "Laser hair removal", "Consultation")
        if n in services
    ]
    weights = [34, 14, 22, 22, 8][: len(menu)]

    visits = []
    start = today - dt.timedelta(weeks=WEEKS)
    for offset in range((today - start).days):
        day = start + dt.timedelta(days=offset)
        if day.weekday() == 6:
            continue
        for provider in providers:
            # 90-minute slots from 9:00: the longest visit with its buffers (75 minutes) fits.
            slots = sorted(rng.sample(range(6), rng.randint(3, 6)))
            for slot in slots:
                service = services[rng.choices(menu, weights)[0]]
                wall = dt.datetime.combine(day, dt.time(9), tzinfo=tz) + dt.timedelta(minutes=90 * slot)
                starts = wall.astimezone(dt.UTC)
                roll = rng.random()
                status = "completed" if roll < 0.86 else "no_show" if roll < 0.92 else "cancelled"
                visits.append((day, provider, service, starts, status, rng.choice(patients)))
    appointments = Appointment.objects.bulk_create(
        [
            _appointment(location, provider, service, patient, starts, status, rng)
            for day, provider, service, starts, status, patient in visits
        ],
        batch_size=500,
    )
    # created_at is set on insert; bookings were made days before their visits.
    for appointment, (_day, _p, _s, starts, _st, _pt) in zip(appointments, visits, strict=True):
        appointment.created_at = starts - dt.timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 8))
    Appointment.objects.bulk_update(appointments, ["created_at"], batch_size=500)
    made = 0
    for appointment in appointments:
        if appointment.status != "completed":
            continue
        _paid_sale(appointment, location, desk, pricing, products, addons, rng, tz)
        made += 1
    return made


def _demo_patients():
    from patients.models import Patient
    from patients.services import create_patient

    existing = list(Patient.objects.order_by("pk")[:8])
    for index, (first, last) in enumerate(DEMO_PEOPLE):
        existing.append(
            create_patient(
                first_name=first,
                last_name=last,
                date_of_birth=dt.date(1975 + index, 1 + index % 12, 3 + index),
                email=f"{first.lower()}.{last.lower()}@example.invalid",
            )
        )
    return existing


def _appointment(location, provider, service, patient, starts, status, rng) -> Appointment:
    ends = starts + dt.timedelta(minutes=service.duration_minutes)
    cancelled_at = None
    if status == "cancelled":
        cancelled_at = starts - dt.timedelta(hours=rng.choice([2, 6, 30, 72]))
    appointment = Appointment(
        patient=patient,
        location=location,
        service=service,
        provider=provider,
        starts_at=starts,
        ends_at=ends,
        status=status,
        cancelled_at=cancelled_at,
    )
    appointment.blocked_range = appointment.compute_blocked_range()
    return appointment


def _paid_sale(appointment, location, desk, pricing, products, addons, rng, tz) -> None:
    """One paid sale as checkout.services would leave it (10% off for the demo members is left out:
    history is priced at list)."""
    paid_at = appointment.ends_at + dt.timedelta(minutes=5)
    day = timezone.localtime(paid_at, tz).date()
    sale = Sale.objects.create(
        location=location,
        patient=appointment.patient,
        appointment=appointment,
        created_by=desk,
        tax_percent=Decimal("7.75"),
    )
    service = appointment.service
    unit = pricing.get(service.pk)
    quantity = rng.choice([16, 20, 24, 28, 32, 40]) if unit else 1
    price = unit.unit_price_cents if unit else service.price_cents
    lines = [
        SaleLine(
            sale=sale,
            kind="service",
            description=service.name,
            category=service.category or "Services",
            service=service,
            provider=appointment.provider,
            quantity=quantity,
            unit_label=unit.unit_label if unit else "",
            list_unit_price_cents=price,
            unit_price_cents=price,
            gross_cents=quantity * price,
            net_cents=quantity * price,
        )
    ]
    if addons and rng.random() < 0.15:
        addon = rng.choice(addons)
        lines.append(
            SaleLine(
                sale=sale,
                kind="addon",
                description=addon.name,
                category=addon.category,
                addon=addon,
                provider=appointment.provider,
                list_unit_price_cents=addon.price_cents,
                unit_price_cents=addon.price_cents,
                gross_cents=addon.price_cents,
                net_cents=addon.price_cents,
            )
        )
    if products and rng.random() < 0.35:
        product = rng.choice(products)
        lines.append(
            SaleLine(
                sale=sale,
                kind="product",
                description=product.name,
                category=product.category,
                product=product,
                list_unit_price_cents=product.price_cents,
                unit_price_cents=product.price_cents,
                gross_cents=product.price_cents,
                net_cents=product.price_cents,
                taxable=product.taxable,
            )
        )
    taxed = [line for line in lines if line.taxable]
    tax = percent_of(sum(line.net_cents for line in taxed), Decimal("7.75"))
    for line, share in zip(taxed, allocate(tax, [line.net_cents for line in taxed]) if taxed else [], strict=True):
        line.tax_cents = share
    services_net = sum(line.net_cents for line in lines if line.kind != "product")
    tip = percent_of(services_net, rng.choice([15, 18, 20])) if rng.random() < 0.6 and services_net else 0
    net = sum(line.net_cents for line in lines)
    total = net + tax + tip
    for line in lines:
        line.location, line.business_date, line.locked = location, day, True
    SaleLine.objects.bulk_create(lines)
    if tip:
        SaleTip.objects.create(
            sale=sale, provider=appointment.provider, amount_cents=tip, business_date=day, locked=True
        )
    kind = "cash" if rng.random() < 0.2 else "card_on_file"
    payment = None
    if kind != "cash" and total:
        payment = Payment.objects.create(
            patient=appointment.patient,
            kind=Payment.Kind.SALE,
            amount_cents=total,
            status=Payment.Status.SUCCEEDED,
            idempotency_key=f"demo-sale:{sale.pk}",
            succeeded_at=paid_at,
        )
    if total:
        Tender.objects.create(
            sale=sale,
            kind=kind,
            amount_cents=total,
            status="succeeded",
            payment=payment,
            idempotency_key=f"demo-sale:{sale.pk}:tender",
            business_date=day,
            created_by=desk,
            settled_at=paid_at,
            locked=True,
        )
    Sale.objects.filter(pk=sale.pk).update(
        status="paid",
        subtotal_cents=net,
        taxable_cents=sum(line.net_cents for line in taxed),
        tax_cents=tax,
        tip_cents=tip,
        total_cents=total,
        locked_at=paid_at,
        paid_at=paid_at,
        business_date=day,
        created_at=appointment.ends_at,
    )

"""Demo packages, memberships and gift cards for `seed_demo` (idempotent).

The demo memberships are local only (no Stripe subscription): without Stripe keys a new user still
sees a member's discount and credit at checkout. With Stripe test keys, new memberships made on
the patient page are real test-mode subscriptions."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from appointments.models import Location, Service
from cinrella.demo import DEMO_LOCATION
from patients.models import Patient
from prepaid import services
from prepaid.models import GiftCard, Membership, MembershipPlan, PackagePlan, PatientPackage

PLANS = [
    # name, fee, monthly credit, % off
    ("Glow membership", 9900, 5000, Decimal(10)),
    ("Radiance membership", 19900, 15000, Decimal(15)),
]
PACKAGES = [
    # name, service, sessions, price, valid days
    ("Laser hair removal — 6 sessions", "Laser hair removal", 6, 120000, 540),
    ("Chemical peel series — 3 sessions", "Chemical peel", 3, 45000, 365),
]


def load(stdout) -> None:
    location = Location.objects.filter(name=DEMO_LOCATION["name"]).first() or Location.objects.order_by("pk").first()
    if location is None:
        return
    plans = [
        MembershipPlan.objects.get_or_create(
            name=name, defaults={"monthly_fee_cents": fee, "monthly_credit_cents": credit, "discount_percent": percent}
        )[0]
        for name, fee, credit, percent in PLANS
    ]
    for name, service_name, sessions, price, days in PACKAGES:
        service = Service.objects.filter(name=service_name).first()
        if service:
            PackagePlan.objects.get_or_create(
                name=name, defaults={"service": service, "sessions": sessions, "price_cents": price, "valid_days": days}
            )
    patients = list(Patient.objects.order_by("pk")[:4])
    if len(patients) >= 2:
        _member(patients[0], plans[0], location)
        _package(patients[1])
    _gift_card()
    stdout.write(f"prepaid: {len(plans)} membership plans, {PackagePlan.objects.count()} package plans\n")


def _member(patient, plan, location) -> None:
    if Membership.objects.filter(patient=patient).exists():
        return
    now = timezone.now()
    membership = Membership.objects.create(
        patient=patient,
        plan=plan,
        location=location,
        status=Membership.Status.ACTIVE,
        monthly_fee_cents=plan.monthly_fee_cents,
        idempotency_key=f"demo-membership:{patient.pk}",
        started_at=now - dt.timedelta(days=75),
        current_period_end=now + dt.timedelta(days=15),
    )
    for month in (2, 1):
        services.grant_monthly_credit(membership=membership, stripe_invoice_id=f"demo_in_{membership.pk}_{month}")


def _package(patient) -> None:
    plan = PackagePlan.objects.filter(service__name="Laser hair removal").first()
    if plan is None or PatientPackage.objects.filter(patient=patient).exists():
        return
    package = services.issue_package(
        patient=patient, plan=plan, source="demo", source_id=patient.pk, now=timezone.now() - dt.timedelta(days=60)
    )
    for number in (1, 2):
        services.redeem_session(package=package, source="demo", source_id=number)


def _gift_card() -> None:
    if GiftCard.objects.filter(source="demo").exists():
        return
    card = services.create_gift_card(amount_cents=15000, channel=GiftCard.Channel.CHECKOUT, source="demo", source_id=1)
    services.activate_gift_card(gift_card=card)
    services.redeem_gift_card(gift_card=card, amount_cents=4400, source="demo", source_id=1)

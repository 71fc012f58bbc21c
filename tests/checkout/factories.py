"""Checkout, retail and prepaid set-up shared by the checkout, prepaid and reports tests."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from checkout.models import AddOn, CheckoutSettings, ServicePricing
from inventory.models import Product
from prepaid.models import Membership, MembershipCredit, MembershipPlan, PackagePlan, PatientPackage
from tests.factories import LocationFactory, PatientFactory, ServiceFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Serum {n}")
    brand = "Skinbetter"
    category = "Skincare"
    price_cents = 4800
    cost_cents = 2100


class CheckoutSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckoutSettings
        django_get_or_create = ("location",)

    location = factory.SubFactory(LocationFactory)
    sales_tax_percent = Decimal("7.75")


class ServicePricingFactory(factory.django.DjangoModelFactory):
    """Injectables by the unit: $14 a unit, 20 units suggested."""

    class Meta:
        model = ServicePricing

    service = factory.SubFactory(ServiceFactory, name="Neuromodulator", category="Injectables")
    unit_label = "units"
    unit_price_cents = 1400
    default_units = 20


class AddOnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AddOn

    name = factory.Sequence(lambda n: f"Numbing cream {n}")
    price_cents = 2500


class MembershipPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MembershipPlan

    name = factory.Sequence(lambda n: f"Glow club {n}")
    monthly_fee_cents = 9900
    monthly_credit_cents = 5000
    discount_percent = Decimal(10)


class MembershipFactory(factory.django.DjangoModelFactory):
    """An active membership (as after its first paid invoice), without Stripe."""

    class Meta:
        model = Membership

    patient = factory.SubFactory(PatientFactory)
    plan = factory.SubFactory(MembershipPlanFactory)
    location = factory.SubFactory(LocationFactory)
    status = Membership.Status.ACTIVE
    monthly_fee_cents = factory.LazyAttribute(lambda o: o.plan.monthly_fee_cents)
    idempotency_key = factory.Sequence(lambda n: f"membership:test:{n}")
    started_at = factory.LazyFunction(timezone.now)


class MembershipCreditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MembershipCredit

    membership = factory.SubFactory(MembershipFactory)
    amount_cents = 5000
    kind = "grant"
    stripe_invoice_id = factory.Sequence(lambda n: f"in_test_{n}")


class PackagePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PackagePlan

    name = factory.Sequence(lambda n: f"Laser 6-pack {n}")
    service = factory.SubFactory(ServiceFactory, name="Laser hair removal", category="Laser", price_cents=25000)
    sessions = 6
    price_cents = 120000


class PatientPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientPackage

    patient = factory.SubFactory(PatientFactory)
    plan = factory.SubFactory(PackagePlanFactory)
    service = factory.LazyAttribute(lambda o: o.plan.service)
    sessions_total = factory.LazyAttribute(lambda o: o.plan.sessions)
    price_cents = factory.LazyAttribute(lambda o: o.plan.price_cents)
    purchased_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=365))

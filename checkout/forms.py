"""Parsing and normalising what the desk types at checkout. Money is typed in dollars and kept in
integer cents (cinrella.money.parse_amount); nothing here decides anything (services do)."""

from django import forms

from checkout.models import SaleDiscount
from cinrella.money import parse_amount, parse_percent


class MoneyField(forms.CharField):
    def __init__(self, *args, allow_zero=False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("max_length", 14)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in ("", None):
            return None
        try:
            cents = parse_amount(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if cents == 0 and not self.allow_zero:
            raise forms.ValidationError("Enter an amount greater than zero.")
        return cents


class NonceForm(forms.Form):
    """Every form that takes money carries a one-time nonce: a double submit takes it once."""

    nonce = forms.CharField(widget=forms.HiddenInput, max_length=40, min_length=8)


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=1000)


class ProductForm(forms.Form):
    code = forms.CharField(max_length=60, required=False, label="SKU or scan")
    product = forms.IntegerField(required=False)
    quantity = forms.IntegerField(min_value=1, max_value=1000, initial=1)

    def clean(self):
        data = super().clean()
        if not data.get("code") and not data.get("product"):
            raise forms.ValidationError("Scan or type a SKU, or choose a product.")
        return data


class ServiceLineForm(forms.Form):
    service = forms.IntegerField()
    provider = forms.IntegerField(required=False)
    quantity = forms.IntegerField(min_value=1, max_value=1000, required=False, label="Units")


class AddOnForm(forms.Form):
    addon = forms.IntegerField()


class PackageForm(forms.Form):
    plan = forms.IntegerField()


class GiftCardLineForm(forms.Form):
    amount = MoneyField(label="Gift card amount")


class DiscountForm(forms.Form):
    kind = forms.ChoiceField(choices=SaleDiscount.Kind.choices, initial=SaleDiscount.Kind.PERCENT)
    value = forms.CharField(max_length=12, label="Discount")
    reason = forms.CharField(max_length=200)
    line = forms.IntegerField(required=False)

    def clean(self):
        data = super().clean()
        raw = data.get("value", "")
        try:
            if data.get("kind") == SaleDiscount.Kind.PERCENT:
                data["value"] = parse_percent(raw)
            elif data.get("kind") == SaleDiscount.Kind.AMOUNT:
                data["value"] = parse_amount(raw)
                if data["value"] == 0:
                    raise ValueError("Enter an amount greater than zero.")
        except ValueError as exc:
            self.add_error("value", str(exc))
        return data


class TipsForm(forms.Form):
    """One field per provider: tip_<provider id>, in dollars (blank or 0 = no tip)."""

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.providers = list(providers)
        for provider in self.providers:
            self.fields[f"tip_{provider.pk}"] = MoneyField(label=provider.display_name, required=False, allow_zero=True)

    def tips(self) -> dict:
        return {p: self.cleaned_data.get(f"tip_{p.pk}") or 0 for p in self.providers}


class CashForm(NonceForm):
    amount = MoneyField(label="Amount")
    received = MoneyField(label="Cash received", required=False)

    def clean(self):
        data = super().clean()
        if data.get("received") is not None and data.get("amount") and data["received"] < data["amount"]:
            self.add_error("received", "The cash received is less than the amount.")
        return data


class CardOnFileForm(NonceForm):
    amount = MoneyField(label="Amount")
    card = forms.IntegerField()


class CardForm(NonceForm):
    amount = MoneyField(label="Amount")


class GiftCardTenderForm(NonceForm):
    code = forms.CharField(max_length=40, label="Gift card code")
    amount = MoneyField(label="Amount", required=False)


class CreditForm(NonceForm):
    amount = MoneyField(label="Amount", required=False)


class PackageTenderForm(NonceForm):
    line = forms.IntegerField()
    package = forms.IntegerField()


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


class ReturnForm(forms.Form):
    """Fields qty_<line id> (how many to give back) and tip_<tip id> (checkbox), plus a reason."""

    reason = forms.CharField(max_length=300)
    restock = forms.BooleanField(required=False, initial=True, label="Put returned products back in stock")

    def __init__(self, *args, sale=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sale = sale
        for line in sale.lines.all():
            self.fields[f"qty_{line.pk}"] = forms.IntegerField(min_value=0, max_value=line.quantity, required=False)
        for tip in sale.tips.all():
            self.fields[f"tip_{tip.pk}"] = forms.BooleanField(required=False)

    def line_quantities(self) -> dict:
        return {
            line.pk: self.cleaned_data.get(f"qty_{line.pk}") or 0
            for line in self.sale.lines.all()
            if self.cleaned_data.get(f"qty_{line.pk}")
        }

    def tip_ids(self) -> list:
        return [tip.pk for tip in self.sale.tips.all() if self.cleaned_data.get(f"tip_{tip.pk}")]


class WalkInForm(forms.Form):
    location = forms.IntegerField(required=False)
    patient = forms.IntegerField(required=False)


class CustomerForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Find a patient")
    patient = forms.IntegerField(required=False)

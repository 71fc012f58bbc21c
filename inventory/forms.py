"""Parsing and normalising catalogue and stock input (dollars in, integer cents out)."""

from django import forms

from cinrella.money import parse_amount
from inventory.models import Product


class DollarsField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value and not self.required:
            return 0
        try:
            return parse_amount(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ProductForm(forms.ModelForm):
    price = DollarsField(label="Price (USD)", max_length=12)
    cost = DollarsField(label="Cost (USD)", max_length=12, required=False)

    class Meta:
        model = Product
        fields = ["sku", "name", "brand", "category", "taxable", "low_stock_threshold", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["price"].initial = f"{self.instance.price_cents / 100:.2f}"
            self.fields["cost"].initial = f"{self.instance.cost_cents / 100:.2f}"

    def clean_sku(self):
        sku = "".join(self.cleaned_data["sku"].split()).upper()
        if not sku or not (sku[0].isalnum() and all(c.isalnum() or c in "._-" for c in sku)):
            raise forms.ValidationError("Letters, digits, dots, dashes and underscores only (e.g. SKN-SPF50).")
        return sku

    def product_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["price_cents"] = self.cleaned_data["price"]
        data["cost_cents"] = self.cleaned_data.get("cost") or 0
        return data


class StockForm(forms.Form):
    RECEIVE, ADJUST, COUNT = "receive", "adjust", "count"
    action = forms.ChoiceField(
        choices=[(RECEIVE, "Delivery received"), (ADJUST, "Adjustment (+/−)"), (COUNT, "Shelf count")]
    )
    quantity = forms.IntegerField(min_value=-10000, max_value=10000)
    note = forms.CharField(max_length=200, required=False)

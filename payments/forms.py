"""Parsing and normalising payment input. Money is typed in dollars and kept in integer cents."""

from decimal import Decimal, InvalidOperation

from django import forms

from payments.models import Payment

MAX_CENTS = 10_000_000  # $100,000: anything above is a typo


def parse_dollars_to_cents(raw) -> int:
    text = str(raw or "").strip().replace("$", "").replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise forms.ValidationError("Enter an amount like 45.00.") from exc
    if value != value.quantize(Decimal("0.01")):
        raise forms.ValidationError("Use at most two decimals.")
    cents = int(value * 100)
    if cents <= 0:
        raise forms.ValidationError("Enter an amount greater than zero.")
    if cents > MAX_CENTS:
        raise forms.ValidationError("That amount is too large.")
    return cents


class DollarField(forms.CharField):
    def clean(self, value):
        return parse_dollars_to_cents(super().clean(value))


class PolicyAgreementForm(forms.Form):
    agree = forms.BooleanField(
        required=True,
        label="I have read and agree to the cancellation policy above.",
        error_messages={"required": "Please tick the box to agree to the cancellation policy."},
    )


class BalanceForm(forms.Form):
    SAVED, NEW = "saved", "new"
    amount = DollarField(label="Amount (USD)", max_length=12)
    method = forms.ChoiceField(choices=[(SAVED, "Saved card"), (NEW, "New card")], initial=SAVED)
    card = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Saved card")
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, cards=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["card"].choices = [("", "—")] + [(c.pk, c.label) for c in cards]

    def clean(self):
        data = super().clean()
        if data.get("method") == self.SAVED and not data.get("card"):
            self.add_error("card", "Choose a saved card, or take a new card.")
        if not str(data.get("nonce", "")).replace("-", "").isalnum():
            raise forms.ValidationError("The form expired; reload the page.")
        return data


class FeeForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in Payment.FEE_KINDS])


class RefundForm(forms.Form):
    payment = forms.IntegerField(widget=forms.HiddenInput)
    amount = DollarField(label="Amount to refund (USD)", max_length=12)
    reason = forms.CharField(max_length=300, label="Reason (kept by the clinic, not sent to Stripe)")


class TakingsForm(forms.Form):
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

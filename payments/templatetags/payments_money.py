from django import template

from payments.cancellation_policy import money as format_money

register = template.Library()


@register.filter
def money(cents, currency="usd"):
    """Integer cents → '$45.00'."""
    if cents in (None, ""):
        return ""
    return format_money(int(cents), currency or "usd")


@register.filter
def dollars(cents):
    """Integer cents → '45.00' (for an editable amount field)."""
    cents = int(cents or 0)
    return f"{cents // 100}.{cents % 100:02d}"

"""The checkout part of the day's takings page (payments' Takings, through cinrella.app_hooks)."""

from checkout.selectors import day_sheet


def checkout_section(day, locations) -> dict:
    return {"template": "checkout/partials/takings_section.html", "sheets": day_sheet(day, list(locations))}


TAKINGS_SECTIONS = [checkout_section]

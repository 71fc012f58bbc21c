"""The one decision point for "may this person do this with this category of this patient?"
(DESIGN.md §3; policy §2, §6, §7).

Staff views, the portal, exports and Django admin all ask `can()` / `require()` here, so the
access matrix lives in exactly one table below. What a role may not see is not rendered, and an
out-of-scope request answers 404 (never a 403 that confirms the record exists).

Superusers get the manager's rights, no more (a superuser is not a provider), and their access is
logged like anyone else's (see privacy.access_log).
"""

from __future__ import annotations

from enum import StrEnum

from django.http import Http404

from cinrella.roles import Role, roles_of
from privacy.policy import Category  # one list of data categories (DESIGN.md §3)


class Action(StrEnum):
    READ = "read"  # see the content
    WRITE = "write"  # create or change
    PRESENCE = "presence"  # know that it exists ("intake on file ✓"), never its content
    EXPORT = "export"  # take it out of the system (download, CSV); logged always


C, A = Category, Action
_R = frozenset({A.READ, A.PRESENCE})
_RW = frozenset({A.READ, A.WRITE, A.PRESENCE})
_P = frozenset({A.PRESENCE})

# DESIGN.md §3. A missing cell means "nothing, not even presence".
MATRIX: dict[Role, dict[Category, frozenset[Action]]] = {
    Role.FRONT_DESK: {
        C.IDENTITY: _RW,
        C.CONTACT: _RW,
        C.HEALTH: _P,
        # "take deposit, see status": may start a payment and see that it happened, not card data.
        C.PAYMENT: frozenset({A.WRITE, A.PRESENCE}),
        C.SMS_CONSENT: _RW,  # read, record a verbal opt-in/opt-out
    },
    Role.PROVIDER: {
        C.IDENTITY: _R,
        C.CONTACT: _R,
        C.HEALTH: _RW,
        C.SMS_CONSENT: _R,
    },
    Role.BILLING: {
        C.IDENTITY: _R,
        C.CONTACT: _R,
        C.PAYMENT: _RW,
    },
    Role.MANAGER: {
        C.IDENTITY: _RW | {A.EXPORT},
        C.CONTACT: _RW | {A.EXPORT},
        C.HEALTH: _R | {A.EXPORT},  # read, always logged
        C.PAYMENT: _R,
        C.SMS_CONSENT: _R,
        C.TECHNICAL: _R,
        C.AUDIT: _R,
    },
}

# Categories whose every read is written to the access log (§7): health content, and anything
# exported. Admin change views of a patient are logged whatever the category (privacy.admin_views).
LOGGED_READS = frozenset({C.HEALTH})


def allowed_actions(user, category: Category) -> frozenset[Action]:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return frozenset()
    roles = set(roles_of(user))
    if user.is_superuser:
        roles.add(Role.MANAGER)
    actions: set[Action] = set()
    for role in roles:
        actions |= MATRIX.get(role, {}).get(Category(category), frozenset())
    return frozenset(actions)


def can(user, action: Action | str, category: Category | str, patient=None) -> bool:
    """True when `user` may perform `action` on `category` data of `patient`.

    `patient` is accepted so every call site states whose record it is; staff of this single
    clinic see every patient their role allows, so it narrows nothing yet for staff."""
    return Action(action) in allowed_actions(user, Category(category))


def can_any(user, action: Action | str, *categories: Category | str) -> bool:
    return any(can(user, action, c) for c in categories)


def require(user, action: Action | str, category: Category | str, patient=None) -> None:
    """For views: raise Http404 (no detail) unless allowed."""
    if not can(user, action, category, patient):
        raise Http404


def patient_can(viewer_patient, action: Action | str, category: Category | str, patient) -> bool:
    """Portal (§3 last row): a patient sees only their own record — every category, read only,
    plus their own access history. Corrections go through a rights request, not direct writes."""
    if viewer_patient is None or patient is None or viewer_patient.pk != patient.pk:
        return False
    return Action(action) in {A.READ, A.PRESENCE, A.EXPORT}


# --- what a role may do in the clinic's operations (not a patient's category) ---------------------
# Checkout, retail and the dashboard (issue 22; docs/checkout.md). Front desk takes payment, billing
# owns money (refunds, cost prices, money figures), managers run the clinic (catalogue, stock,
# every dashboard figure) but do not take or give back money (DESIGN.md §3: manager reads payment).


class Capability(StrEnum):
    CHECKOUT = "checkout"  # build a sale, take any tender, print or email its receipt, sell prepaid
    SALES_READ = "sales_read"  # see sales and receipts
    SALE_REFUND = "sale_refund"  # refund or void a paid sale
    INVENTORY_READ = "inventory_read"  # products, prices, stock on hand, low-stock list
    INVENTORY_COST = "inventory_cost"  # cost prices and margins
    INVENTORY_MANAGE = "inventory_manage"  # products, prices, deliveries, adjustments, counts
    STOCK_RECEIVE = "stock_receive"  # record a delivery
    PREPAID_MANAGE = "prepaid_manage"  # cancel memberships, cash out or void gift cards, liability report
    DASHBOARD_MONEY = "dashboard_money"  # revenue, MRR and churn, gift-card liability (aggregates only)
    DASHBOARD_OPERATIONS = "dashboard_operations"  # utilisation, no-shows, rebooking, new vs returning, campaigns


K = Capability
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.FRONT_DESK: frozenset({K.CHECKOUT, K.SALES_READ, K.INVENTORY_READ, K.STOCK_RECEIVE}),
    Role.PROVIDER: frozenset(),
    Role.BILLING: frozenset(
        {
            K.CHECKOUT,
            K.SALES_READ,
            K.SALE_REFUND,
            K.INVENTORY_READ,
            K.INVENTORY_COST,
            K.PREPAID_MANAGE,
            K.DASHBOARD_MONEY,
        }
    ),
    Role.MANAGER: frozenset(
        {
            K.SALES_READ,
            K.INVENTORY_READ,
            K.INVENTORY_COST,
            K.INVENTORY_MANAGE,
            K.STOCK_RECEIVE,
            K.DASHBOARD_MONEY,
            K.DASHBOARD_OPERATIONS,
        }
    ),
}


def capabilities_of(user) -> frozenset[Capability]:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return frozenset()
    roles = set(roles_of(user))
    if user.is_superuser:
        roles.add(Role.MANAGER)
    found: set[Capability] = set()
    for role in roles:
        found |= CAPABILITIES.get(role, frozenset())
    return frozenset(found)


def may(user, capability: Capability | str) -> bool:
    return Capability(capability) in capabilities_of(user)


def require_capability(user, capability: Capability | str) -> None:
    """For views: raise Http404 (no detail) unless allowed."""
    if not may(user, capability):
        raise Http404


def visible_categories(user) -> dict[str, dict[str, bool]]:
    """{category: {read, write, presence}} for templates: `{% if access.health.read %}`."""
    return {c.value: {a.value: a in allowed_actions(user, c) for a in Action} for c in Category}

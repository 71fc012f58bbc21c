"""Writes to packages, memberships and gift cards. Keyword-only; one transaction each; every
balance change is an append-only ledger row (the audit trail), and pghistory tracks the cards,
packages and memberships themselves.

Redemptions lock the balance's owner row (package, membership, gift card) before reading the
balance, so two desks using the last session or the last dollar at once cannot both succeed."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from cinrella import crypto
from prepaid.models import (
    GiftCard,
    GiftCardTransaction,
    LedgerKind,
    Membership,
    MembershipCredit,
    PackagePlan,
    PackageRedemption,
    PatientPackage,
)


class PrepaidError(Exception):
    """Something a person can act on; the message is safe to show."""


def _user(user):
    return user if getattr(user, "is_authenticated", False) else None


# --- packages ---------------------------------------------------------------------------------------


@transaction.atomic
def issue_package(*, patient, plan: PackagePlan, source: str, source_id: int, now=None) -> PatientPackage:
    """The package bought (idempotent per source: a replayed sale issues it once)."""
    existing = PatientPackage.objects.filter(source=source, source_id=source_id).first()
    if existing:
        return existing
    now = now or timezone.now()
    return PatientPackage.objects.create(
        patient=patient,
        plan=plan,
        service=plan.service,
        sessions_total=plan.sessions,
        price_cents=plan.price_cents,
        purchased_at=now,
        expires_at=now + dt.timedelta(days=plan.valid_days),
        source=source,
        source_id=source_id,
    )


def sessions_left(package: PatientPackage) -> int:
    used = package.redemptions.aggregate(s=Sum("sessions"))["s"] or 0
    return package.sessions_total + used


@transaction.atomic
def redeem_session(*, package: PatientPackage, source: str, source_id: int, user=None, now=None) -> PackageRedemption:
    package = PatientPackage.objects.select_for_update().get(pk=package.pk)
    now = now or timezone.now()
    if package.voided_at:
        raise PrepaidError("This package was refunded.")
    if package.expires_at <= now:
        raise PrepaidError(f"This package expired on {package.expires_at:%b %-d, %Y}.")
    if sessions_left(package) <= 0:
        raise PrepaidError("No sessions are left on this package.")
    return PackageRedemption.objects.create(
        package=package, sessions=-1, kind=LedgerKind.REDEEM, source=source, source_id=source_id, created_by=_user(user)
    )


@transaction.atomic
def restore_session(*, package: PatientPackage, source: str, source_id: int, user=None) -> PackageRedemption:
    package = PatientPackage.objects.select_for_update().get(pk=package.pk)
    if sessions_left(package) >= package.sessions_total:
        raise PrepaidError("Every session of this package is already unused.")
    return PackageRedemption.objects.create(
        package=package, sessions=1, kind=LedgerKind.RESTORE, source=source, source_id=source_id, created_by=_user(user)
    )


@transaction.atomic
def void_package(*, package: PatientPackage, source: str, source_id: int, user=None) -> PatientPackage:
    """A package refunded whole: no sessions may be used any more."""
    package = PatientPackage.objects.select_for_update().get(pk=package.pk)
    if sessions_left(package) < package.sessions_total:
        raise PrepaidError("Sessions of this package were used: refund the unused value instead of the package.")
    package.voided_at = timezone.now()
    package.save(update_fields=["voided_at"])
    return package


# --- membership credit -------------------------------------------------------------------------------


def credit_balance(membership: Membership) -> int:
    return membership.credits.aggregate(s=Sum("amount_cents"))["s"] or 0


@transaction.atomic
def redeem_credit(*, membership: Membership, amount_cents: int, source: str, source_id: int) -> MembershipCredit:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.gives_benefits:
        raise PrepaidError("This membership is not active.")
    if amount_cents <= 0:
        raise PrepaidError("Enter an amount greater than zero.")
    if amount_cents > credit_balance(membership):
        raise PrepaidError("That is more than the membership credit left.")
    return MembershipCredit.objects.create(
        membership=membership, amount_cents=-amount_cents, kind=LedgerKind.REDEEM, source=source, source_id=source_id
    )


@transaction.atomic
def restore_credit(*, membership: Membership, amount_cents: int, source: str, source_id: int) -> MembershipCredit:
    Membership.objects.select_for_update().get(pk=membership.pk)
    return MembershipCredit.objects.create(
        membership=membership, amount_cents=amount_cents, kind=LedgerKind.RESTORE, source=source, source_id=source_id
    )


def grant_monthly_credit(*, membership: Membership, stripe_invoice_id: str) -> MembershipCredit | None:
    """Once per paid invoice (unique invoice id): replays and reconciliation grant nothing more."""
    amount = membership.plan.monthly_credit_cents
    if amount <= 0:
        return None
    try:
        with transaction.atomic():
            return MembershipCredit.objects.create(
                membership=membership, amount_cents=amount, kind=LedgerKind.GRANT, stripe_invoice_id=stripe_invoice_id
            )
    except IntegrityError:
        return None


# --- gift cards ---------------------------------------------------------------------------------------

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
CODE_GROUPS, CODE_GROUP_LENGTH = 4, 4  # 16 characters from 32: 80 bits


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LENGTH))
    return "-".join(raw[i : i + CODE_GROUP_LENGTH] for i in range(0, len(raw), CODE_GROUP_LENGTH))


def normalise_code(text: str) -> str:
    """Upper case, without spaces or dashes: what the desk types is found however it is grouped."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def code_digest(text: str) -> str:
    return crypto.blind_index("gift_card", normalise_code(text))


@transaction.atomic
def create_gift_card(
    *,
    amount_cents: int,
    channel: str,
    purchaser=None,
    buyer_name: str = "",
    buyer_email: str = "",
    recipient_name: str = "",
    recipient_email: str = "",
    source: str = "",
    source_id=None,
    payment=None,
) -> GiftCard:
    """A card not yet paid for (status pending): it is activated when its sale or payment succeeds."""
    if amount_cents <= 0:
        raise PrepaidError("A gift card needs an amount.")
    if source:
        existing = GiftCard.objects.filter(source=source, source_id=source_id).first()
        if existing:
            return existing
    code = new_code()
    return GiftCard.objects.create(
        code=code,
        code_bidx=code_digest(code),
        last4=normalise_code(code)[-4:],
        initial_cents=amount_cents,
        channel=channel,
        purchaser=purchaser,
        buyer_name=buyer_name,
        buyer_email=buyer_email,
        recipient_name=recipient_name,
        recipient_email=recipient_email,
        source=source,
        source_id=source_id,
        payment=payment,
    )


@transaction.atomic
def activate_gift_card(*, gift_card: GiftCard, user=None) -> GiftCard:
    """Paid: the balance becomes usable (idempotent)."""
    gift_card = GiftCard.objects.select_for_update().get(pk=gift_card.pk)
    if gift_card.status != GiftCard.Status.PENDING:
        return gift_card
    gift_card.status = GiftCard.Status.ACTIVE
    gift_card.issued_at = timezone.now()
    gift_card.save(update_fields=["status", "issued_at"])
    GiftCardTransaction.objects.create(
        gift_card=gift_card,
        amount_cents=gift_card.initial_cents,
        kind=LedgerKind.ISSUE,
        source=gift_card.source,
        source_id=gift_card.source_id,
        created_by=_user(user),
    )
    return gift_card


def gift_card_balance(gift_card: GiftCard) -> int:
    return gift_card.transactions.aggregate(s=Sum("amount_cents"))["s"] or 0


def find_gift_card(code: str) -> GiftCard | None:
    if len(normalise_code(code)) < 8:
        return None
    return GiftCard.objects.filter(code_bidx=code_digest(code)).first()


def _locked_active_card(gift_card) -> GiftCard:
    gift_card = GiftCard.objects.select_for_update().get(pk=gift_card.pk)
    if gift_card.status != GiftCard.Status.ACTIVE:
        raise PrepaidError("This gift card is not active.")
    return gift_card


@transaction.atomic
def redeem_gift_card(
    *, gift_card: GiftCard, amount_cents: int, source: str, source_id: int, user=None
) -> GiftCardTransaction:
    gift_card = _locked_active_card(gift_card)
    if amount_cents <= 0:
        raise PrepaidError("Enter an amount greater than zero.")
    balance = gift_card_balance(gift_card)
    if amount_cents > balance:
        raise PrepaidError(f"The gift card has only ${balance / 100:,.2f} left.")
    return GiftCardTransaction.objects.create(
        gift_card=gift_card,
        amount_cents=-amount_cents,
        kind=LedgerKind.REDEEM,
        source=source,
        source_id=source_id,
        created_by=_user(user),
    )


@transaction.atomic
def restore_gift_card(
    *, gift_card: GiftCard, amount_cents: int, source: str, source_id: int, user=None
) -> GiftCardTransaction:
    """A refund of something paid with the card puts the money back on it."""
    gift_card = GiftCard.objects.select_for_update().get(pk=gift_card.pk)
    return GiftCardTransaction.objects.create(
        gift_card=gift_card,
        amount_cents=amount_cents,
        kind=LedgerKind.RESTORE,
        source=source,
        source_id=source_id,
        created_by=_user(user),
    )


@transaction.atomic
def close_gift_card(
    *, gift_card: GiftCard, kind: str, note: str, user=None, source: str = "", source_id=None
) -> GiftCardTransaction | None:
    """Take the whole balance off a card: refunded to the buyer / cashed out (California requires
    cash for a balance under $10, Civil Code §1749.5), or voided. The card stops working."""
    if kind not in (LedgerKind.CASH_OUT, LedgerKind.VOID):
        raise PrepaidError("Unknown way to close a gift card.")
    gift_card = GiftCard.objects.select_for_update().get(pk=gift_card.pk)
    if gift_card.status == GiftCard.Status.VOID:
        raise PrepaidError("This gift card is already closed.")
    balance = gift_card_balance(gift_card)
    row = None
    if balance:
        row = GiftCardTransaction.objects.create(
            gift_card=gift_card,
            amount_cents=-balance,
            kind=kind,
            note=note[:200],
            source=source,
            source_id=source_id,
            created_by=_user(user),
        )
    gift_card.status = GiftCard.Status.VOID
    gift_card.save(update_fields=["status"])
    return row

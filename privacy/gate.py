"""The one gate every flow of patient data out of the clinic passes through (DESIGN.md §4).

    disclose(recipient="twilio", categories={Category.CONTACT}, purpose=Purpose.SCHEDULING,
             patient=patient, description="Appointment reminder SMS", user=request.user)

either writes a Disclosure row and returns it, or raises PolicyViolation naming the clause of the
policy that forbids it — before any byte leaves. Call it inside the transaction that records the
send, and send only after it returned."""

from dataclasses import dataclass

from django.db import transaction

from cinrella.roles import Role, has_role
from privacy import policy
from privacy.models import Disclosure, Recipient
from privacy.policy import Category, Purpose, RecipientKind


class PolicyViolation(Exception):
    """A disclosure the privacy policy forbids. `clause` is the key in policy.CLAUSES."""

    def __init__(self, clause: str, detail: str = ""):
        self.clause = clause
        self.clause_text = policy.CLAUSES[clause]
        super().__init__(f"{self.clause_text}{' — ' + detail if detail else ''}")


@dataclass(frozen=True)
class LegalBasis:
    kind: str  # a key of policy.LEGAL_BASES
    reference: str  # docket / case / request number
    approved_by: object  # the manager (User) who approved the disclosure


def check(*, recipient: Recipient, categories: frozenset, purpose: Purpose, patient=None, basis=None) -> None:
    """Raise PolicyViolation if the policy forbids this disclosure; return None otherwise."""
    kind = RecipientKind(recipient.kind)
    if kind == RecipientKind.DATA_BROKER or purpose == Purpose.SALE:
        raise PolicyViolation("no_sale")
    if not recipient.active:
        raise PolicyViolation("recipient_inactive", recipient.key)
    if kind == RecipientKind.PATIENT:
        return
    if kind in policy.LEGAL_KINDS or purpose == Purpose.LEGAL:
        _check_legal_basis(basis)
        return  # required by law (§5) overrides the operational limits below
    if purpose == Purpose.MARKETING and kind in policy.MARKETING_THIRD_PARTIES and Category.CONTACT in categories:
        raise PolicyViolation("no_mobile_marketing_sharing")
    if Category.SMS_CONSENT in categories and kind not in policy.SMS_KINDS:
        raise PolicyViolation("sms_consent_only_to_sms_providers", kind.value)
    allowed = policy.PROCESSOR_NEEDS.get(kind, {}).get(purpose)
    if allowed is None or not categories <= allowed:
        extra = ", ".join(sorted(categories - (allowed or frozenset())))
        raise PolicyViolation("processor_purpose_only", f"{kind.value} for {purpose.value}: {extra}")
    if purpose == Purpose.MARKETING:
        _check_marketing_consents(patient, categories)


def _check_legal_basis(basis) -> None:
    if (
        not isinstance(basis, LegalBasis)
        or basis.kind not in policy.LEGAL_BASES
        or not basis.reference.strip()
        or basis.approved_by is None
        or not has_role(basis.approved_by, Role.MANAGER)
    ):
        raise PolicyViolation("legal_basis_required")


def _check_marketing_consents(patient, categories) -> None:
    from consents.models import SmsPurpose
    from consents.selectors import sms_opted_in

    if patient is None or not patient.mobile_phone or not sms_opted_in(patient.mobile_phone, SmsPurpose.MARKETING):
        raise PolicyViolation("marketing_needs_opt_in")
    if Category.HEALTH in categories:
        # The only health data marketing may ever carry is before-and-after photos (§2B).
        from patients.consent_checks import has_photo_marketing_consent

        if not has_photo_marketing_consent(patient):
            raise PolicyViolation("photos_need_marketing_consent")


def _checked_row(*, recipient, categories, purpose, patient, description, user, basis) -> Disclosure:
    if not isinstance(recipient, Recipient):
        recipient = Recipient.objects.get(key=recipient)
    categories = frozenset(Category(c) for c in categories)
    purpose = Purpose(purpose)
    check(recipient=recipient, categories=categories, purpose=purpose, patient=patient, basis=basis)
    return Disclosure(
        recipient=recipient,
        categories=sorted(c.value for c in categories),
        purpose=purpose.value,
        patient=patient,
        description=description[:300],
        user=user if getattr(user, "is_authenticated", False) else None,
        legal_basis=basis.kind if basis else "",
        legal_reference=basis.reference if basis else "",
        approved_by=basis.approved_by if basis else None,
    )


@transaction.atomic
def disclose(
    *,
    recipient: str | Recipient,
    categories,
    purpose: Purpose | str,
    patient=None,
    description: str,
    user=None,
    basis: LegalBasis | None = None,
) -> Disclosure:
    """Check the policy, then record the disclosure. Raises PolicyViolation; records nothing then."""
    row = _checked_row(
        recipient=recipient,
        categories=categories,
        purpose=purpose,
        patient=patient,
        description=description,
        user=user,
        basis=basis,
    )
    row.save()
    return row


def pending_disclosure(
    *, recipient: str | Recipient, categories, purpose: Purpose | str, patient=None, description: str, user=None
) -> Disclosure:
    """Check the policy and return the disclosure's row unsaved, for a caller that discloses many
    things at once (the SMS worker's batch): it records them all with `record_disclosures` in the
    transaction that lets them go, before any byte leaves. Raises PolicyViolation. Disclosures
    required by law go one at a time through `disclose`, with their basis."""
    return _checked_row(
        recipient=recipient,
        categories=categories,
        purpose=purpose,
        patient=patient,
        description=description,
        user=user,
        basis=None,
    )


def record_disclosures(rows: list[Disclosure]) -> None:
    """Record rows from `pending_disclosure` in one INSERT (call inside the caller's transaction)."""
    Disclosure.objects.bulk_create(rows)

"""The clinic's privacy policy (../shared/seed/privacy-policy.txt) as data.

Data categories, purposes and kinds of recipients, and what each kind of recipient may receive
for which purpose. `privacy.gate.disclose` applies these rules to every flow of patient data out
of the clinic. The registry of actual recipients (Twilio, Stripe, …) is the `Recipient` model,
managed by managers in admin; each one has a `kind` from here."""

from enum import StrEnum


class Category(StrEnum):
    IDENTITY = "identity"  # name, DOB, address, emergency contact (§2A)
    CONTACT = "contact"  # email, mobile phone (§2A)
    HEALTH = "health"  # medical history, preferences, chart notes, photos, treatment consents (§2B)
    PAYMENT = "payment"  # Stripe ids, card brand/last4, amounts (§2C)
    SMS_CONSENT = "sms_consent"  # text-messaging opt-in data and consent (§4)
    TECHNICAL = "technical"  # IP, user agent, device (§2D)
    AUDIT = "audit"  # access log, history, disclosures


class Purpose(StrEnum):
    SCHEDULING = "scheduling"  # §3 scheduling and confirming appointments
    TREATMENT = "treatment"  # §3 providing services
    CARE_INSTRUCTIONS = "care_instructions"  # §3 pre- and post-treatment instructions
    PAYMENT = "payment"  # §3 processing payments
    OPERATIONS = "operations"  # §3 operational updates, §5 service providers
    MARKETING = "marketing"  # §3 only when opted in
    LEGAL = "legal"  # §5 required by law
    SALE = "sale"  # never allowed (§5); named so an attempt is refused by rule, not by accident


class RecipientKind(StrEnum):
    SMS_PROVIDER = "sms_provider"
    SMS_AGGREGATOR = "sms_aggregator"
    PAYMENT_PROCESSOR = "payment_processor"
    EMR = "emr"
    SCHEDULING_PLATFORM = "scheduling_platform"
    HOSTING = "hosting"
    CUSTOMER_SUPPORT = "customer_support"
    EMAIL_PROVIDER = "email_provider"
    PATIENT = "patient"  # the patient themself (records download), or their guardian
    LAW_ENFORCEMENT = "law_enforcement"
    REGULATOR = "regulator"
    AFFILIATE = "affiliate"
    MARKETING_PARTNER = "marketing_partner"
    DATA_BROKER = "data_broker"


SMS_KINDS = frozenset({RecipientKind.SMS_PROVIDER, RecipientKind.SMS_AGGREGATOR})
LEGAL_KINDS = frozenset({RecipientKind.LAW_ENFORCEMENT, RecipientKind.REGULATOR})
MARKETING_THIRD_PARTIES = frozenset({RecipientKind.AFFILIATE, RecipientKind.MARKETING_PARTNER})

C, P = Category, Purpose

# §5: service providers may receive what their operational purpose needs, solely for it.
# kind → {purpose: categories allowed}. Anything not listed is refused.
PROCESSOR_NEEDS: dict[RecipientKind, dict[Purpose, frozenset[Category]]] = {
    RecipientKind.SMS_PROVIDER: {
        p: frozenset({C.CONTACT, C.IDENTITY, C.SMS_CONSENT})
        for p in (P.SCHEDULING, P.CARE_INSTRUCTIONS, P.OPERATIONS, P.MARKETING)
    },
    RecipientKind.SMS_AGGREGATOR: {
        p: frozenset({C.CONTACT, C.SMS_CONSENT}) for p in (P.SCHEDULING, P.CARE_INSTRUCTIONS, P.OPERATIONS)
    },
    RecipientKind.PAYMENT_PROCESSOR: {P.PAYMENT: frozenset({C.IDENTITY, C.CONTACT, C.PAYMENT})},
    RecipientKind.EMR: {
        P.TREATMENT: frozenset({C.IDENTITY, C.CONTACT, C.HEALTH}),
        P.OPERATIONS: frozenset({C.IDENTITY, C.CONTACT}),
    },
    RecipientKind.SCHEDULING_PLATFORM: {P.SCHEDULING: frozenset({C.IDENTITY, C.CONTACT})},
    RecipientKind.HOSTING: {
        P.OPERATIONS: frozenset({C.IDENTITY, C.CONTACT, C.HEALTH, C.PAYMENT, C.TECHNICAL, C.AUDIT}),
    },
    RecipientKind.CUSTOMER_SUPPORT: {P.OPERATIONS: frozenset({C.IDENTITY, C.CONTACT})},
    RecipientKind.EMAIL_PROVIDER: {
        **{p: frozenset({C.IDENTITY, C.CONTACT}) for p in (P.SCHEDULING, P.CARE_INSTRUCTIONS, P.OPERATIONS)},
        # Receipts (§3 processing payments): name, address and amounts — never a service name.
        P.PAYMENT: frozenset({C.IDENTITY, C.CONTACT, C.PAYMENT}),
    },
}

# §7 and §10: patients may have everything about themselves.
PATIENT_MAY_RECEIVE = frozenset(Category)

LEGAL_BASES = {
    "court_order": "Court order",
    "subpoena": "Subpoena",
    "regulator_request": "Request from a regulatory authority",
}

# Clauses cited by refusals: the text a PolicyViolation names.
CLAUSES = {
    "no_sale": "§5: Cinrella Med Spa does not sell personal information.",
    "no_mobile_marketing_sharing": (
        "§4: No mobile information will be shared with third parties/affiliates for marketing/promotional purposes."
    ),
    "sms_consent_only_to_sms_providers": (
        "§4, §5: Text messaging originator opt-in data and consent will not be shared with any third parties, "
        "except for aggregators and providers of the Text Message services."
    ),
    "processor_purpose_only": (
        "§5: Service providers are permitted to use information solely for operational purposes on our behalf "
        "(only what their purpose needs)."
    ),
    "legal_basis_required": "§5: We may disclose information if required by law, court order, subpoena, "
    "or regulatory authority (a recorded basis, reference and approving manager are required).",
    "marketing_needs_opt_in": "§3: Delivering marketing communications when you have opted in.",
    "photos_need_marketing_consent": "§2B: Before-and-after photography (with consent).",
    "recipient_inactive": "§5: Only service providers the clinic has engaged may receive information.",
}

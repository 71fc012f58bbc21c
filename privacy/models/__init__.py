"""The privacy app's tables, imported here by name so Django (and callers) find them as privacy.models.

- audit.py: the recipient registry, the disclosure log and the access log (the policy core's records)
- rights.py: portal sign-in codes, the privacy event trail, rights requests, the retention schedule and
  runs, legal holds, policy versions and acceptances, guardians of minors
"""

from privacy.models.audit import AccessLog, Disclosure, Recipient, no_truncate_trigger
from privacy.models.rights import (
    APPEND_ONLY,
    RESPONSE_DAYS,
    RETENTION_MINIMUM_DAYS,
    Guardian,
    GuardianConsent,
    LegalHold,
    PolicyAcceptance,
    PolicyVersion,
    PortalSignInAttempt,
    PortalSignInCode,
    PrivacyEvent,
    RecordType,
    RetentionRule,
    RetentionRun,
    RightsRequest,
)

__all__ = [
    "APPEND_ONLY",
    "RESPONSE_DAYS",
    "RETENTION_MINIMUM_DAYS",
    "AccessLog",
    "Disclosure",
    "Guardian",
    "GuardianConsent",
    "LegalHold",
    "PolicyAcceptance",
    "PolicyVersion",
    "PortalSignInAttempt",
    "PortalSignInCode",
    "PrivacyEvent",
    "Recipient",
    "RecordType",
    "RetentionRule",
    "RetentionRun",
    "RightsRequest",
    "no_truncate_trigger",
]

"""Photo-consent checks the patients app needs before it stores or shows photos (§2B).

They read the consents app's signed photo consents: a valid (signed, not expired, not revoked)
signature of a template of the matching kind. Revocation takes effect immediately."""


def has_photo_clinical_consent(patient) -> bool:
    from consents.models import ConsentKind
    from consents.selectors import has_valid_consent_of_kind

    return has_valid_consent_of_kind(patient, ConsentKind.PHOTO_CLINICAL)


def has_photo_marketing_consent(patient) -> bool:
    from consents.models import ConsentKind
    from consents.selectors import has_valid_consent_of_kind

    return has_valid_consent_of_kind(patient, ConsentKind.PHOTO_MARKETING)

"""Photo-consent checks the patients app needs before it stores or shows photos.

These read the consents app's records once it provides them; until then nobody has a photo
consent, so no photo can be uploaded or used in marketing (the safe default)."""


def has_photo_clinical_consent(patient) -> bool:
    return False


def has_photo_marketing_consent(patient) -> bool:
    return False

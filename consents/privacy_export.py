"""The consents app's section of a patient's records download (privacy.records)."""

from consents import exports
from privacy.records import Section, register_section


@register_section("signed_consents", "Signed consent forms", order=45)
def signed_consents(patient):
    signatures = patient.consent_signatures.select_related("template_version__template").order_by("signed_at")
    rows, files = [], []
    for signature in signatures:
        name = f"consent-{signature.pk}.pdf"
        version = signature.template_version
        rows.append(
            {
                "file": name,
                "consent": version.template.title,
                "version": version.number,
                "signed_at": signature.signed_at,
                "expires_at": signature.expires_at,
                "typed_name": signature.typed_name,
                "text_sha256": signature.rendered_text_sha256,
            }
        )
        files.append((name, exports.signed_consent_pdf(signature)))
    return Section(data=rows, files=files)

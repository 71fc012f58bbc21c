from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """Features built on the privacy policy core and the domain apps: patient rights (requests,
    records download, correction, deletion), retention and legal holds, the portal account, and
    the staff privacy pages. Its records are tables of the `privacy` app (see docs/architecture.md)."""

    name = "compliance"
    verbose_name = "Privacy compliance"

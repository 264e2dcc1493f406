from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """Who may do what from where: KYC profiles, the jurisdiction rulebook, GeoIP signals,
    access decisions, alerts and reports."""

    name = "compliance"

    def ready(self) -> None:
        from . import custody_alerts

        custody_alerts.connect()

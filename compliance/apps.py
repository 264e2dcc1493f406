from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """Who may do what from where: KYC profiles, the jurisdiction rulebook, GeoIP signals,
    access decisions, alerts and reports."""

    name = "compliance"

    def ready(self) -> None:
        from core import policy

        from . import custody_alerts, snapshot

        custody_alerts.connect()
        policy.register_account_versions(snapshot.account_versions)

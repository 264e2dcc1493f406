from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """Who may do what from where: KYC profiles, the jurisdiction rulebook, GeoIP signals,
    access decisions, alerts and reports."""

    name = "compliance"

    def ready(self) -> None:
        from compliance import custody_alerts, snapshot
        from core import policy

        custody_alerts.connect()
        policy.register_account_versions(snapshot.account_versions)

from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """Who may do what from where: KYC profiles, the jurisdiction rulebook, GeoIP signals
    and access decisions."""

    name = "compliance"

    def ready(self) -> None:
        from compliance import geoip, movements, screening_sections, sections, snapshot
        from compliance.impact import access_log
        from core import policy, registry

        policy.register_account_versions(snapshot.account_versions)
        registry.health_probes.add("geoip", geoip.probe_configured)
        registry.movement_gates.add("access", movements.check_movement)
        registry.movement_gates.add("sanctions", movements.screen_movement)
        registry.decision_sources.add(access_log.NAME, access_log.SOURCE)
        del sections, screening_sections  # imported for their registration (core.registry)

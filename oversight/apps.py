from django.apps import AppConfig


class OversightConfig(AppConfig):
    """What officers and regulators are told: alerts and their notifications, monitors over
    every part, signed regulatory reports built from the sections the parts register, and
    the nightly integrity checks."""

    name = "oversight"

    def ready(self) -> None:
        from core import registry
        from oversight import nightly, receivers, sections

        receivers.connect()
        registry.nightly_checks.add("audit_chain", nightly.audit_chain_check)
        del sections  # imported for its registration

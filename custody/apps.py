from django.apps import AppConfig


class CustodyConfig(AppConfig):
    """Whose money is where: the segregated double-entry ledger, reconciliation, the
    segregation statement and proof of reserves."""

    name = "custody"

    def ready(self) -> None:
        from core import registry
        from custody import sections
        from custody.verification import verify_ledger

        registry.nightly_checks.add("custody_ledger", verify_ledger)
        del sections  # imported for its registration (core.registry)

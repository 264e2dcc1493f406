from django.apps import AppConfig


class RiskConfig(AppConfig):
    """What may trade and how much: markets (instruments, sessions, references, bands,
    breakers, halts, kill switches), the pre-trade check and positions."""

    name = "risk"

    def ready(self) -> None:
        from core import registry
        from custody.signals import balances_changed
        from risk import sections
        from risk.positions.receivers import on_balances_changed
        from risk.pretrade import decision_source

        balances_changed.connect(on_balances_changed, dispatch_uid="risk-collateral")
        registry.decision_sources.add(decision_source.NAME, decision_source.SOURCE)
        del sections  # imported for its registration (core.registry)

from django.apps import AppConfig


class RiskConfig(AppConfig):
    """What may trade and how much: instruments, sessions, reference prices, bands, breakers,
    halts, limits, the pre-trade pipeline and kill switches."""

    name = "risk"

    def ready(self) -> None:
        from custody.signals import balance_changed

        from .signals import on_balance_changed

        balance_changed.connect(on_balance_changed, dispatch_uid="risk-collateral")

from django.apps import AppConfig


class RiskConfig(AppConfig):
    """What may trade and how much: instruments, sessions, reference prices, bands, breakers,
    halts, limits, the pre-trade pipeline and kill switches."""

    name = "risk"

    def ready(self) -> None:
        from custody.signals import balances_changed
        from risk.positions.receivers import on_balances_changed

        balances_changed.connect(on_balances_changed, dispatch_uid="risk-collateral")

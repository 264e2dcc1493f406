from django.apps import AppConfig


class RiskConfig(AppConfig):
    """What may trade and how much: instruments, sessions, reference prices, bands, breakers,
    halts, limits, the pre-trade pipeline and kill switches."""

    name = "risk"

from django.apps import AppConfig


class CustodyConfig(AppConfig):
    """Whose money is where: the segregated double-entry ledger, reconciliation, the
    segregation statement and proof of reserves."""

    name = "custody"

"""Reference data of the markets part."""

from django.db import models

PRODUCT_CLASSES = ("equity_perp", "crypto_perp", "rwa_token", "crypto_spot", "stablecoin")
CALENDARS = ("XNYS", "24x7")


def _decimal(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=28, decimal_places=10, **kwargs)


class Instrument(models.Model):
    """A tradable contract with the contract's per-order and platform limits.

    ``version`` grows on every change; the policy snapshot the hot path reads is rebuilt
    when any version changes.
    """

    symbol = models.CharField(max_length=40, unique=True)
    product_class = models.CharField(max_length=20, choices=[(c, c) for c in PRODUCT_CLASSES])
    underlying = models.CharField(max_length=40)
    calendar = models.CharField(max_length=8, choices=[(c, c) for c in CALENDARS])
    tier = models.PositiveSmallIntegerField(default=1)
    tick_size = _decimal()
    lot_size = _decimal()
    max_leverage = _decimal()
    max_order_quantity = _decimal()
    max_order_notional = _decimal()
    max_position_notional = _decimal()
    open_interest_cap = _decimal()
    is_market_index = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol

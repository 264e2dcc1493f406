"""The collateral mirror (risk/positions/collateral.py): the ledger's minor units become the
pre-trade check's micro-units exactly, rounded down, whatever the quote asset's scale."""

from decimal import Decimal

import pytest
from django.test import override_settings

from core.redis_client import get_redis
from custody.signals import ClientBalanceChange
from risk.positions import collateral
from risk.pretrade import steps
from risk.pretrade.checks import QUOTE_SCALE

AMOUNTS = (0, 1, 9, 10, 99, 123_456_789, 10**15 + 7, 2**63 - 1, -1, -123_456_789)


def test_quote_places_is_the_quote_scale():
    assert Decimal(10) ** collateral.QUOTE_PLACES == QUOTE_SCALE


@pytest.mark.parametrize("scale", [0, 2, 6, 8, 9])
@pytest.mark.parametrize("minor", AMOUNTS)
def test_minor_units_to_micro_units_as_the_decimal_rounding_says(scale, minor):
    expected = collateral.to_micro(Decimal(minor) / Decimal(10) ** scale)
    assert collateral.minor_to_micro(minor, scale) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("asset", "available", "micro"),
    [("USDC", 1_234_567, 1_234_567), ("BTC", 123_456_789, 1_234_567)],
)
def test_mirror_writes_each_accounts_collateral(redis_conn, asset, available, micro):
    with override_settings(PRETRADE_COLLATERAL_ASSET=asset):
        changes = [
            ClientBalanceChange("acc-m1", asset, available, 0),
            ClientBalanceChange("acc-m2", asset, 0, 0),
            ClientBalanceChange("acc-m3", "ETH", 5, 0),  # not the quote asset: not mirrored
        ]
        assert collateral.mirror(changes) == 2
    client = get_redis()
    assert int(client.hget(steps.risk_key("acc-m1"), "collateral")) == micro
    assert int(client.hget(steps.risk_key("acc-m2"), "collateral")) == 0
    assert client.hget(steps.risk_key("acc-m3"), "collateral") is None

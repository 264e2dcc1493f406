"""Collateral of each account in the pre-trade check's live state: the account's available
balance in the custody ledger (client liability, in the quote asset), in micro-units.

Custody knows nothing of risk: it sends ``custody.signals.balance_changed`` after a
commit, and this module mirrors the new figure into the account's risk hash.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import redis
from django.conf import settings

from core.redis_client import get_redis

from . import atomic
from .pipeline import QUOTE_SCALE


def quote_asset() -> str:
    return getattr(settings, "PRETRADE_COLLATERAL_ASSET", "USDC")


def to_micro(amount: Decimal) -> int:
    """Collateral counts rounded down: never more than the ledger holds."""
    return int((amount * QUOTE_SCALE).to_integral_value(ROUND_FLOOR))


def set_collateral(account_id: str, amount: Decimal, client: redis.Redis | None = None) -> None:
    (client or get_redis()).hset(atomic.account_keys(account_id)[0], "collateral", to_micro(amount))


def available_balances() -> dict[str, Decimal]:
    """Every client's available balance in the quote asset, from the ledger."""
    try:
        from custody.selectors import available_client_balances
    except ImportError:
        return {}
    return available_client_balances(asset=quote_asset())


def sync_all(client: redis.Redis | None = None) -> int:
    client = client or get_redis()
    balances = available_balances()
    pipe = client.pipeline(transaction=False)
    for account_id, amount in balances.items():
        set_collateral(account_id, amount, client=pipe)
    pipe.execute()
    return len(balances)

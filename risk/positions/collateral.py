"""Collateral of each account in the pre-trade check's live state: the account's available
balance in the custody ledger (client liability, in the quote asset), in micro-units.

Custody knows nothing of risk: it sends ``custody.signals.balances_changed`` after each
committed batch with every client's new available balance, and this module mirrors them into
the accounts' risk hashes, adding each account's own margin holds (one query per batch).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import redis
from django.conf import settings

from core.redis_client import get_redis, lean_pipeline
from custody.money import ASSETS
from risk.pretrade import steps
from risk.pretrade.checks import QUOTE_SCALE

QUOTE_PLACES = 6
"""``QUOTE_SCALE`` as a number of decimal places (tests/risk/positions/test_collateral.py)."""


def quote_asset() -> str:
    return getattr(settings, "PRETRADE_COLLATERAL_ASSET", "USDC")


def to_micro(amount: Decimal) -> int:
    """Collateral counts rounded down: never more than the ledger holds."""
    return int((amount * QUOTE_SCALE).to_integral_value(ROUND_FLOOR))


def set_collateral(account_id: str, amount: Decimal, client: redis.Redis | None = None) -> None:
    (client or get_redis()).hset(steps.risk_key(account_id), "collateral", to_micro(amount))


def mirror(balances) -> int:
    """Mirror a batch's new client balances (``ClientBalanceChange``) in the quote asset.

    Every committed ledger batch calls this, so it is kept lean: the micro-units are integer
    arithmetic on the minor units (the same floor as :func:`to_micro` of the decimal amount)
    and the ``HSET`` s go through ``lean_pipeline`` (one write, replies read raw; redis-py's
    ``Pipeline`` cost ~5 µs of Python per command).
    """
    from custody.selectors import margin_held

    asset = quote_asset()
    mine = [change for change in balances if change.asset == asset]
    if not mine:
        return 0
    available = {change.account_id: change.available for change in mine}
    # Only an account with pending debits can hold margin: most batches need no query.
    reserving = [change.account_id for change in mine if change.reserved]
    held = margin_held(asset=asset, account_ids=reserving) if reserving else {}
    scale = ASSETS[asset].scale
    pipe = lean_pipeline(get_redis())
    for account_id, minor in available.items():
        micro = minor_to_micro(minor + held.get(account_id, 0), scale)
        pipe.execute_command("HSET", steps.risk_key(account_id), "collateral", micro)
    pipe.execute()
    return len(available)


def minor_to_micro(minor: int, scale: int) -> int:
    """Minor units of an asset with ``scale`` places as micro-units, rounded down (exactly
    ``to_micro(Decimal(minor) / 10**scale)``, in integers)."""
    if scale <= QUOTE_PLACES:
        return minor * 10 ** (QUOTE_PLACES - scale)
    return minor // 10 ** (scale - QUOTE_PLACES)


def available_balances() -> dict[str, Decimal]:
    """Every client's collateral from the ledger: the available balance in the quote asset
    plus the account's own margin holds (which ``m_used`` in Redis already counts)."""
    from custody.selectors import available_client_balances, margin_holds

    asset = quote_asset()
    balances = available_client_balances(asset=asset)
    scale = Decimal(10) ** ASSETS[asset].scale
    for (account_id, _), amount in margin_holds(asset=asset).items():
        balances[account_id] = balances.get(account_id, Decimal(0)) + Decimal(amount) / scale
    return balances


def sync_all(client: redis.Redis | None = None) -> int:
    client = client or get_redis()
    balances = available_balances()
    pipe = client.pipeline(transaction=False)
    for account_id, amount in balances.items():
        set_collateral(account_id, amount, client=pipe)
    pipe.execute()
    return len(balances)

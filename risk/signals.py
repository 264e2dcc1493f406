"""What the risk part listens to: the custody ledger's balance changes become the account's
collateral in the pre-trade check's live state."""

from __future__ import annotations

import logging
from decimal import Decimal

import redis

from core import clock

from . import collateral

logger = logging.getLogger("gatehouse.collateral")


def on_balance_changed(sender, *, account_id: str, asset: str, **kwargs) -> None:
    if asset != collateral.quote_asset():
        return
    from custody.money import ASSETS
    from custody.selectors import client_balances, margin_holds

    scale = Decimal(10) ** ASSETS[asset].scale
    held = sum(margin_holds(asset=asset, account_id=account_id).values())
    for balance in client_balances(account_id=account_id, now=clock.now()):
        if balance.asset == asset:
            amount = Decimal(balance.view.available + held) / scale
            try:
                collateral.set_collateral(account_id, amount)
            except redis.RedisError:
                # The watchdog's resync copies every balance again; until then the account's
                # collateral in Redis is the older (and, after a deposit, smaller) figure.
                logger.exception("collateral of %s not mirrored", account_id)

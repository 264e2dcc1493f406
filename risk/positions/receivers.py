"""What the risk part listens to: the custody ledger's new client balances become the
accounts' collateral in the pre-trade check's live state."""

from __future__ import annotations

import logging

from core.redis_client import REDIS_ERRORS
from risk.positions import collateral

logger = logging.getLogger("gatehouse.collateral")


def on_balances_changed(sender, *, balances, **kwargs) -> None:
    """One committed ledger batch: one query for the accounts' margin holds and one Redis
    pipeline, however many accounts it changed (``collateral.mirror``)."""
    try:
        collateral.mirror(balances)
    except REDIS_ERRORS:
        # The watchdog's resync copies every balance again; until then the account's
        # collateral in Redis is the older (and, after a deposit, smaller) figure.
        logger.exception("collateral of %d accounts not mirrored", len(balances))

"""Margin in the custody ledger: what a position uses is held there as pending
``margin_reservation`` transfers client → clearing (custody/ledger.py), so a withdrawal can
never take margin an open position needs.

Live reservations of open orders stay in Redis only (they change on every check); at a fill
the margin the fill charges becomes a hold, and the margin a reducing fill releases is
voided. Holds are named ``margin:<account>:<instrument>:<fill_id>`` (idempotent on the fill).
The pre-trade check counts as collateral the ledger's available balance plus the account's
own holds, because its used margin (``m_used`` in Redis) already accounts for them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from custody import services
from custody.money import ASSETS
from custody.selectors import MARGIN_HOLD_PREFIX, margin_hold_rows
from risk.positions.collateral import quote_asset
from risk.pretrade.checks import QUOTE_SCALE

logger = logging.getLogger("gatehouse.margin")


def _to_minor(micro: int, asset: str) -> int:
    """Micro-units of the quote to the asset's minor units (USDC: the same)."""
    scale = ASSETS[asset].scale
    factor = 10 ** abs(scale - 6)
    return micro * factor if scale >= 6 else micro // factor


def settle_fill(
    *,
    account_id: str,
    instrument: str,
    fill_id: str,
    charged_micro: int,
    released_micro: int,
    now: datetime,
) -> None:
    asset = quote_asset()
    prefix = f"{MARGIN_HOLD_PREFIX}{account_id}:{instrument}:"
    if charged_micro > 0:
        (outcome,) = services.reserve_margin(
            reservations=[
                services.MarginReservation(
                    id=prefix + fill_id,
                    account_id=account_id,
                    asset=asset,
                    amount=_to_minor(charged_micro, asset),
                )
            ],
            now=now,
        )
        if not outcome.accepted:
            logger.warning(
                "margin hold for fill %s refused by the ledger: %s", fill_id, outcome.code
            )
    remaining = _to_minor(released_micro, asset)
    if remaining <= 0:
        return
    voids, rest = [], 0
    for pending_id, amount in margin_hold_rows(
        asset=asset, account_id=account_id, instrument=instrument
    ):
        if remaining <= 0:
            break
        voids.append(
            services.MarginVoid(id=f"{pending_id}:void:{fill_id}", reservation_id=pending_id)
        )
        rest = max(0, amount - remaining)
        remaining -= amount
    if voids:
        services.void_margin(voids=voids, now=now)
    if rest:
        services.reserve_margin(
            reservations=[
                services.MarginReservation(
                    id=f"{prefix}{fill_id}:rest", account_id=account_id, asset=asset, amount=rest
                )
            ],
            now=now,
        )


def micro_of(minor: int, asset: str) -> int:
    scale = ASSETS[asset].scale
    factor = 10 ** abs(scale - 6)
    return minor // factor if scale >= 6 else minor * factor


__all__ = ["QUOTE_SCALE", "micro_of", "settle_fill"]

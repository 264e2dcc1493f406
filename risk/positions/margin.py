"""Margin in the custody ledger: what a position uses is held there as pending
``margin_reservation`` transfers client → clearing (custody/ledger.py), so a withdrawal can
never take margin an open position needs.

Live reservations of open orders stay in Redis only (they change on every check); at a fill
the margin the fill charges becomes a hold, and the margin a reducing fill releases is
voided. Holds are named ``margin:<account>:<instrument>:<fill_id>`` (idempotent on the fill).
Ledger transfer ids are at most 100 characters (``custody.identifiers``), and a void names the
hold it releases and the fill that released it: where a readable id would be longer, its tail
is a digest of it (``ledger_id``), the same on every retry.
The pre-trade check counts as collateral the ledger's available balance plus the account's
own holds, because its used margin (``m_used`` in Redis) already accounts for them.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from custody import services
from custody.money import ASSETS
from custody.selectors import MARGIN_HOLD_PREFIX, margin_hold_rows
from risk.positions.collateral import quote_asset
from risk.pretrade.checks import QUOTE_SCALE

logger = logging.getLogger("gatehouse.margin")

MAX_LEDGER_ID = 100
"""custody.identifiers: a transfer id is at most 100 letters, digits and . _ : @ + -."""
VOID_PREFIX = "margin-void:"
"""Ids of the voids of holds that do not fit their readable name (never ``margin:``: only
holds carry that prefix, and the prefix is how they are found)."""
_DIGEST_CHARS = 32


def ledger_id(readable: str, head: str) -> str:
    """``readable`` when the ledger takes it, else ``head`` and a digest of ``readable``.

    A void was named ``<hold id>:void:<fill id>``: with a hold named after an earlier fill
    (``margin:acc-sg:NVDA-PERP:<fill id>``) and order and fill ids of about thirty
    characters, the name passed 100 and the ledger refused it -- after the fill had moved the
    position, so the fill answered 400 and the hold stayed in the ledger for good (seen with
    the demo feed). A digest keeps the id deterministic, so a retried fill asks for the same
    transfer and the ledger answers it idempotently."""
    if len(readable) <= MAX_LEDGER_ID:
        return readable
    return head + hashlib.sha256(readable.encode()).hexdigest()[:_DIGEST_CHARS]


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
                    id=ledger_id(prefix + fill_id, prefix),
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
            services.MarginVoid(
                id=ledger_id(f"{pending_id}:void:{fill_id}", VOID_PREFIX),
                reservation_id=pending_id,
            )
        )
        rest = max(0, amount - remaining)
        remaining -= amount
    if voids:
        services.void_margin(voids=voids, now=now)
    if rest:
        services.reserve_margin(
            reservations=[
                services.MarginReservation(
                    id=ledger_id(f"{prefix}{fill_id}:rest", prefix),
                    account_id=account_id,
                    asset=asset,
                    amount=rest,
                )
            ],
            now=now,
        )


def micro_of(minor: int, asset: str) -> int:
    scale = ASSETS[asset].scale
    factor = 10 ** abs(scale - 6)
    return minor // factor if scale >= 6 else minor * factor


__all__ = ["QUOTE_SCALE", "micro_of", "settle_fill"]

"""The order lifecycle after the check: fills move reserved exposure into the position,
cancels release what is left, and the account's risk view shows it all.

A fill is first made durable in the database (idempotent on ``fill_id``, positions are
rebuilt from fills after a Redis loss), then applied to the account's live state in one
atomic step, then to the instrument's open interest.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from django.db import IntegrityError, transaction

from core.decimals import plain
from core.errors import Conflict, IdempotencyConflict, NotFound, ValidationFailed
from core.redis_client import get_redis

from . import atomic, margin_ledger
from .models import OrderCancel, OrderFill
from .pipeline import QUOTE_SCALE
from .pretrade_snapshot import holder


def _lots(symbol: str, quantity: Decimal) -> int:
    terms = holder.current().terms(symbol)
    if terms is None:
        raise NotFound(f"no instrument {symbol}")
    lots = quantity / terms.lot_size
    if lots != lots.to_integral_value():
        raise ValidationFailed(
            "quantity: not a multiple of the lot size",
            fields={"quantity": ["Not a multiple of the lot size."]},
        )
    return int(lots.to_integral_value(ROUND_CEILING))


def _order(account_id: str, order_id: str) -> dict:
    import orjson

    raw = get_redis().hget(atomic.account_keys(account_id)[1], order_id)
    if raw is None:
        raise NotFound(f"account {account_id} has no order {order_id}")
    return orjson.loads(raw)


def record_fill(
    *, order_id: str, fill_id: str, account_id: str, quantity: Decimal, price: Decimal, now
) -> dict:
    order = _order(account_id, order_id)
    lots = _lots(order["inst"], quantity)
    try:
        with transaction.atomic():
            fill, created = OrderFill.objects.get_or_create(
                account_id=account_id,
                fill_id=fill_id,
                defaults={
                    "order_id": order_id,
                    "instrument": order["inst"],
                    "side": order["side"],
                    "quantity": quantity,
                    "price": price,
                    "lots": lots,
                    "filled_at": now,
                },
            )
    except IntegrityError as exc:  # a concurrent first write of the same fill_id
        raise Conflict("fill is being recorded concurrently; retry") from exc
    if not created and (fill.order_id, fill.quantity, fill.price) != (order_id, quantity, price):
        raise IdempotencyConflict(
            "This fill_id was already used with a different fill.",
            fields={"fill_id": ["Already used with a different fill."]},
        )
    status, old, new, left, instrument, charged, released = (
        part.decode() if isinstance(part, bytes) else str(part)
        for part in atomic.script("fill_step")(
            keys=atomic.lifecycle_keys(account_id),
            args=[order_id, fill_id, f"{order_id}:{quantity}:{price}", lots],
        )
    )
    if status == "overfill":
        raise ValidationFailed(
            "quantity: more than the order has left open",
            fields={"quantity": [f"Only {left} lots are open."]},
        )
    if status.startswith("not_open") and created:
        raise Conflict(f"order {order_id} is {status.split(':', 1)[1]}; it cannot be filled")
    if status == "filled":
        change = abs(int(new)) - abs(int(old))
        atomic.script("release_open_interest")(
            keys=atomic.instrument_keys(instrument)[1:],
            args=[atomic.reservation_id(account_id, order_id), lots, change],
        )
        margin_ledger.settle_fill(
            account_id=account_id,
            instrument=instrument,
            fill_id=fill_id,
            charged_micro=int(charged),
            released_micro=int(released),
            now=now,
        )
    return {
        "order_id": order_id,
        "fill_id": fill_id,
        "status": "applied" if status == "filled" else "duplicate",
        "position": _quantity(instrument, new),
        "open_quantity": _quantity(instrument, left),
    }


def cancel(*, order_id: str, account_id: str, now) -> dict:
    keys = atomic.lifecycle_keys(account_id)[:3]
    status, lots, instrument = (
        part.decode() if isinstance(part, bytes) else str(part)
        for part in atomic.script("cancel_step")(keys=keys, args=[order_id])
    )
    if status == "unknown":
        raise NotFound(f"account {account_id} has no order {order_id}")
    if status == "cancelled" and int(lots) > 0:
        OrderCancel.objects.get_or_create(
            account_id=account_id,
            order_id=order_id,
            defaults={"released_lots": int(lots), "cancelled_at": now},
        )
        atomic.script("release_open_interest")(
            keys=atomic.instrument_keys(instrument)[1:],
            args=[atomic.reservation_id(account_id, order_id), -1, 0],
        )
    return {
        "order_id": order_id,
        "status": status,
        "released_quantity": _quantity(instrument, lots) if instrument else "0",
    }


def _quantity(symbol: str, lots: str | int) -> str:
    terms = holder.current().terms(symbol)
    return plain(Decimal(int(lots)) * terms.lot_size) if terms else str(lots)


def risk_view(account_id: str) -> dict:
    """Positions, open reservations and margin, per instrument and in total."""
    import orjson

    client = get_redis()
    pipe = client.pipeline(transaction=False)
    risk_key, orders_key = atomic.account_keys(account_id)[:2]
    pipe.hgetall(risk_key)
    pipe.hvals(orders_key)
    raw, orders = pipe.execute()
    state = {k.decode(): int(v) for k, v in raw.items()}
    snapshot = holder.current()
    instruments: dict[str, dict] = {}
    for field, value in state.items():
        prefix, _, symbol = field.partition(":")
        if prefix in ("p", "rb", "rs", "mu") and symbol:
            instruments.setdefault(symbol, {"p": 0, "rb": 0, "rs": 0, "mu": 0})[prefix] = value
    open_orders = [orjson.loads(o) for o in orders]
    rows = []
    for symbol, values in sorted(instruments.items()):
        terms = snapshot.terms(symbol)
        lot = terms.lot_size if terms else Decimal(1)
        reserved_margin = sum(
            int(o["margin_left"])
            for o in open_orders
            if o["inst"] == symbol and o["state"] == "open"
        )
        rows.append(
            {
                "instrument": symbol,
                "position": plain(values["p"] * lot),
                "reserved_buy": plain(values["rb"] * lot),
                "reserved_sell": plain(values["rs"] * lot),
                "margin_used": _money(values["mu"]),
                "margin_reserved": _money(reserved_margin),
                "open_orders": sum(
                    1 for o in open_orders if o["inst"] == symbol and o["state"] == "open"
                ),
            }
        )
    collateral = state.get("collateral", 0)
    used, reserved = state.get("m_used", 0), state.get("m_res", 0)
    return {
        "account_id": account_id,
        "instruments": rows,
        "total": {
            "collateral": _money(collateral),
            "margin_used": _money(used),
            "margin_reserved": _money(reserved),
            "margin_available": _money(collateral - used - reserved),
        },
    }


def _money(micro: int) -> str:
    return plain(Decimal(micro) / QUOTE_SCALE)

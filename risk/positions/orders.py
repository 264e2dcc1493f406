"""The order lifecycle after the check: fills move reserved exposure into the position,
cancels release what is left, and the account's risk view shows it all.

A fill is first made durable in the database (idempotent on ``fill_id``, positions are
rebuilt from fills after a Redis loss), then applied to the account's live state in one
atomic step, then to the instrument's open interest.

Live state is bounded (API.md, the idempotency window): an order's record and a fill's
record are keys with lifetimes (``risk.pretrade.steps``), and the risk view reads only the open
orders (the account's ``open`` index), so it costs O(open orders), not O(orders ever).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction

from core.decimals import plain
from core.errors import Conflict, IdempotencyConflict, NotFound, ValidationFailed
from core.redis_client import get_redis
from core.scripts import text
from risk.markets.snapshot import holder
from risk.models import OrderCancel, OrderFill
from risk.positions import margin as margin_ledger
from risk.pretrade import steps
from risk.pretrade.checks import QUOTE_SCALE


def _ms(now) -> int:
    return int(now.timestamp() * 1000)


def _window_ms() -> int:
    return int(settings.PRETRADE_IDEMPOTENCY_SECONDS * 1000)


def _lots(symbol: str, quantity: Decimal) -> int:
    terms = holder.verified().terms(symbol)
    if terms is None:
        raise NotFound(f"no instrument {symbol}")
    lots = quantity / terms.lot_size
    if lots != lots.to_integral_value():
        raise ValidationFailed(
            "quantity: not a multiple of the lot size",
            fields={"quantity": ["Not a multiple of the lot size."]},
        )
    return int(lots.to_integral_value(ROUND_CEILING))


def _order(account_id: str, order_id: str) -> dict | None:
    raw = get_redis().get(steps.order_key(account_id, order_id))
    return None if raw is None else orjson.loads(raw)


def _recorded_fill(account_id: str, fill_id: str, order_id: str, quantity, price) -> dict:
    """A fill the database has and live state no longer remembers (its order is long
    finished): the first answer again, or a conflict for a different body."""
    fill = OrderFill.objects.filter(account_id=account_id, fill_id=fill_id).first()
    if fill is None:
        raise NotFound(f"account {account_id} has no order {order_id}")
    if (fill.order_id, fill.quantity, fill.price) != (order_id, quantity, price):
        raise IdempotencyConflict(
            "This fill_id was already used with a different fill.",
            fields={"fill_id": ["Already used with a different fill."]},
        )
    position = get_redis().hget(steps.risk_key(account_id), f"p:{fill.instrument}") or 0
    return {
        "order_id": order_id,
        "fill_id": fill_id,
        "status": "duplicate",
        "position": _quantity(fill.instrument, int(position)),
        "open_quantity": "0",
    }


def record_fill(
    *, order_id: str, fill_id: str, account_id: str, quantity: Decimal, price: Decimal, now
) -> dict:
    order = _order(account_id, order_id)
    if order is None:
        return _recorded_fill(account_id, fill_id, order_id, quantity, price)
    lots = _lots(order["inst"], quantity)
    created = _store_fill(order, order_id, fill_id, account_id, quantity, price, lots, now)
    status, old, new, left, instrument, charged, released = (
        text(part)
        for part in steps.script("fill_step")(
            keys=steps.fill_keys(account_id, order_id, fill_id),
            args=[
                order_id,
                fill_id,
                f"{order_id}:{quantity}:{price}",
                lots,
                _ms(now),
                _window_ms(),
                account_id,
            ],
            client=get_redis(),
        )
    )
    if status == "unknown":  # the order finished and lapsed between the two reads
        return _recorded_fill(account_id, fill_id, order_id, quantity, price)
    if status == "overfill":
        raise ValidationFailed(
            "quantity: more than the order has left open",
            fields={"quantity": [f"Only {left} lots are open."]},
        )
    if status.startswith("not_open") and created:
        raise Conflict(f"order {order_id} is {status.split(':', 1)[1]}; it cannot be filled")
    if status == "filled":
        _settle(account_id, order_id, fill_id, instrument, lots, old, new, charged, released, now)
    return {
        "order_id": order_id,
        "fill_id": fill_id,
        "status": "applied" if status == "filled" else "duplicate",
        "position": _quantity(instrument, new),
        "open_quantity": _quantity(instrument, left),
    }


def _store_fill(order, order_id, fill_id, account_id, quantity, price, lots, now) -> bool:
    """Write the fill to the database first (idempotent on ``fill_id``); True when this
    call created it. The same ``fill_id`` with another fill is a 409."""
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
    return created


def _settle(account_id, order_id, fill_id, instrument, lots, old, new, charged, released, now):
    """An applied fill's consequences outside the account's slot: open interest follows
    the position's size, and the margin it charged or released settles in the ledger."""
    change = abs(int(new)) - abs(int(old))
    steps.script("release_open_interest")(
        keys=steps.open_interest_keys(instrument),
        args=[steps.reservation_id(account_id, order_id), lots, change],
        client=get_redis(),
    )
    margin_ledger.settle_fill(
        account_id=account_id,
        instrument=instrument,
        fill_id=fill_id,
        charged_micro=int(charged),
        released_micro=int(released),
        now=now,
    )


def cancel(*, order_id: str, account_id: str, now) -> dict:
    status, lots, instrument = (
        text(part)
        for part in steps.script("cancel_step")(
            keys=steps.cancel_keys(account_id, order_id),
            args=[order_id, _ms(now), account_id],
            client=get_redis(),
        )
    )
    if status == "unknown":
        raise NotFound(f"account {account_id} has no order {order_id}")
    if status == "cancelled" and int(lots) > 0:
        OrderCancel.objects.get_or_create(
            account_id=account_id,
            order_id=order_id,
            defaults={"released_lots": int(lots), "cancelled_at": now},
        )
        steps.script("release_open_interest")(
            keys=steps.open_interest_keys(instrument),
            args=[steps.reservation_id(account_id, order_id), -1, 0],
            client=get_redis(),
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
    """Positions, open reservations and margin, per instrument and in total; reads the
    account's risk hash and its open orders only."""
    client = get_redis()
    open_ids = client.zrange(steps.open_orders_key(account_id), 0, -1)
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(steps.risk_key(account_id))
    for order_id in open_ids:
        pipe.get(steps.order_key(account_id, text(order_id)))
    raw, *orders = pipe.execute()
    state = {text(k): int(v) for k, v in raw.items() if text(k) != "tat"}
    snapshot = holder.verified()
    instruments: dict[str, dict] = {}
    for field, value in state.items():
        prefix, _, symbol = field.partition(":")
        if prefix in ("p", "rb", "rs", "mu") and symbol:
            instruments.setdefault(symbol, {"p": 0, "rb": 0, "rs": 0, "mu": 0})[prefix] = value
    open_orders = [o for o in (orjson.loads(r) for r in orders if r) if o["state"] == "open"]
    rows = []
    for symbol, values in sorted(instruments.items()):
        terms = snapshot.terms(symbol)
        lot = terms.lot_size if terms else Decimal(1)
        mine = [o for o in open_orders if o["inst"] == symbol]
        rows.append(
            {
                "instrument": symbol,
                "position": plain(values["p"] * lot),
                "reserved_buy": plain(values["rb"] * lot),
                "reserved_sell": plain(values["rs"] * lot),
                "margin_used": _money(values["mu"]),
                "margin_reserved": _money(sum(int(o["margin_left"]) for o in mine)),
                "open_orders": len(mine),
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


def expire_lapsed(*, now, batch: int = 1000) -> int:
    """The sweeper: release every open order whose reservation has lapsed, and every
    lapsed open-interest reservation, even for accounts that send nothing more (the checks
    release their own lazily). Returns how many orders were released."""
    from core.redis_client import ACCOUNT_BUCKETS
    from core.scripts import run_pipeline

    client = get_redis()
    now_ms = _ms(now)
    orders_step = steps.script("expire_orders")
    interest_step = steps.script("expire_open_interest")
    buckets = list(range(ACCOUNT_BUCKETS))
    released = 0
    while buckets:

        def orders(pipe, buckets=buckets):
            for bucket in buckets:
                orders_step(
                    keys=[steps.expiry_key(bucket)],
                    args=[now_ms, batch, steps.bucket_prefix(bucket)],
                    client=pipe,
                )

        counts = run_pipeline(client, orders)
        released += sum(int(count) for count in counts)
        # A bucket that had a full batch may have more; the rest are done.
        buckets = [b for b, count in zip(buckets, counts, strict=True) if int(count) >= batch]
    symbols = list(holder.verified().instruments)
    while symbols:

        def interest(pipe, symbols=symbols):
            for symbol in symbols:
                interest_step(
                    keys=steps.open_interest_keys(symbol), args=[now_ms, batch], client=pipe
                )

        counts = run_pipeline(client, interest)
        symbols = [s for s, count in zip(symbols, counts, strict=True) if int(count) >= batch]
    return released

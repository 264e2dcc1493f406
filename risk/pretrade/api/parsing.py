"""Parsing orders at the edge: msgspec structs that forbid unknown fields, then exact
decimals and cross-field rules, with field-level errors in the contract's shape."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from functools import lru_cache
from typing import Literal

import msgspec

from core.errors import ValidationFailed
from risk.pretrade.checks import Order

_DECIMAL = re.compile(r"^(?:0|[1-9]\d{0,17})(?:\.\d{1,18})?$")
MAX_ID = 100
MAX_BATCH = 1000


class OrderBody(msgspec.Struct, forbid_unknown_fields=True):
    order_id: str
    account_id: str
    instrument: str
    side: Literal["buy", "sell"]
    quantity: str
    order_type: Literal["limit", "market"]
    price: str | None = None
    reduce_only: bool = False
    client_ip: str | None = None
    leverage: str | None = None


class BatchBody(msgspec.Struct, forbid_unknown_fields=True):
    orders: list[OrderBody]


def _positive(value: str, name: str, errors: dict) -> Decimal | None:
    if not _DECIMAL.match(value):
        errors[name] = ['Must be a decimal string like "101.25".']
        return None
    parsed = Decimal(value)
    if parsed <= 0:
        errors[name] = ["Must be greater than zero."]
        return None
    return parsed


@lru_cache(maxsize=16_384)
def _canonical_ip(text: str) -> str | None:
    """The address as ``ipaddress`` writes it, or None if it is none (remembered: orders come
    from few client addresses, and parsing one costs more than the rest of the order)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def order_from(body: OrderBody, prefix: str = "") -> tuple[Order, dict]:
    """The domain order and the canonical fields that fingerprint it; raises
    ValidationFailed naming every bad field."""
    errors: dict[str, list[str]] = {}
    for name in ("order_id", "account_id", "instrument"):
        value = getattr(body, name)
        if not value.strip() or len(value) > MAX_ID:
            errors[name] = [f"Must be 1 to {MAX_ID} characters."]
    quantity = _positive(body.quantity, "quantity", errors)
    price = None
    if body.order_type == "limit":
        if body.price is None:
            errors["price"] = ["A limit order needs a price."]
        else:
            price = _positive(body.price, "price", errors)
    elif body.price is not None:
        errors["price"] = ["A market order has no price."]
    leverage = None if body.leverage is None else _positive(body.leverage, "leverage", errors)
    client_ip = None
    if body.client_ip is not None:
        client_ip = _canonical_ip(body.client_ip)
        if client_ip is None:
            errors["client_ip"] = ["Enter a valid IPv4 or IPv6 address."]
    if errors:
        fields = {prefix + name: messages for name, messages in errors.items()}
        first = next(iter(fields))
        raise ValidationFailed(f"{first}: {fields[first][0]}", fields=fields)
    order = Order(
        order_id=body.order_id,
        account_id=body.account_id,
        instrument=body.instrument,
        side=body.side,
        quantity=quantity,
        order_type=body.order_type,
        price=price,
        reduce_only=body.reduce_only,
        client_ip=client_ip,
        leverage=leverage,
    )
    canonical = {
        "account_id": order.account_id,
        "instrument": order.instrument,
        "side": order.side,
        "quantity": str(quantity.normalize()),
        "order_type": order.order_type,
        "price": None if price is None else str(price.normalize()),
        "reduce_only": order.reduce_only,
        "client_ip": client_ip,
        "leverage": None if leverage is None else str(leverage.normalize()),
    }
    return order, canonical


def batch_from(body: BatchBody) -> list[tuple[Order, dict]]:
    if not body.orders or len(body.orders) > MAX_BATCH:
        raise ValidationFailed(
            f"orders: 1 to {MAX_BATCH} orders per batch",
            fields={"orders": [f"Send 1 to {MAX_BATCH} orders."]},
        )
    parsed, fields = [], {}
    for index, order in enumerate(body.orders):
        try:
            parsed.append(order_from(order, prefix=f"orders.{index}."))
        except ValidationFailed as exc:
            fields.update(exc.fields)
    if fields:
        first = next(iter(fields))
        raise ValidationFailed(f"{first}: {fields[first][0]}", fields=fields)
    return parsed

"""Template filters of the console (registered as the ``console`` library in settings).

Numbers are written once, by the part that owns their kind: prices and quantities by
``risk.markets.display`` (at the instrument's tick and lot), amounts by ``custody.money``
(at the asset's scale). The filters below only pick the function and never fail a page: a
missing value is a dash, and text that is not a number is shown as it is.
"""

from __future__ import annotations

from decimal import Decimal

import orjson
from django import template

from compliance.signals import SCOPES
from core.clock import isoformat_z
from core.decimals import plain
from custody import money
from custody.errors import UnknownAsset
from risk.markets import display

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """Audit before/after values, payloads and reasons, indented and with sorted keys so two
    versions of the same object read the same way."""
    if value is None:
        return ""
    return orjson.dumps(
        value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str
    ).decode()


@register.filter
def utc(value) -> str:
    """Instants as the API writes them (RFC 3339, UTC): officers compare them with logs."""
    if not value:
        return "—"
    return isoformat_z(value)


@register.filter
def has_role(user_roles, role: str) -> bool:
    return role in user_roles


@register.filter
def scope_of(revision) -> list[dict]:
    """A rule revision's signals in their listed order, each with the effect it has there
    (``signal_effects`` where given, else the rule's effect): the console shows whom a rule
    reaches and how (issue 14)."""
    effects = revision.signal_effects or {}
    return [
        {"signal": signal, "effect": effects.get(signal, revision.effect)}
        for signal in SCOPES
        if signal in revision.signals
    ]


MISSING = "—"


def _number_text(value, write, unit) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if unit in (None, ""):
        try:
            return plain(Decimal(value))
        except (ArithmeticError, TypeError, ValueError):
            return str(value)
    try:
        return write(value, unit)
    except (ArithmeticError, LookupError, TypeError, ValueError, UnknownAsset):
        return str(value)


@register.filter
def price(value, tick_size) -> str:
    """``{{ view.reference_price|price:view.tick_size }}``: a price at its tick."""
    return _number_text(value, display.price, tick_size)


@register.filter
def quantity(value, lot_size) -> str:
    """``{{ decision.quantity|quantity:decision.lot_size }}``: contracts at their lot."""
    return _number_text(value, display.quantity, lot_size)


@register.filter
def amount(value, asset) -> str:
    """``{{ margin|amount:"USDC" }}``: an amount in whole units at the asset's scale."""
    return _number_text(value, lambda v, a: money.amount_at_scale(a, v), asset)


@register.filter
def minor_amount(value, asset) -> str:
    """``{{ break.amount|minor_amount:break.asset_id }}``: integer minor units (what the
    ledger stores) written at the asset's scale."""
    if value is None or value == "":
        return MISSING
    if type(value) is not int:
        return str(value)
    try:
        return money.from_minor(asset, value)
    except (LookupError, TypeError, UnknownAsset):
        return str(value)

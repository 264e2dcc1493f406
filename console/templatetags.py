"""Template filters of the console (registered as the ``console`` library in settings)."""

from __future__ import annotations

import orjson
from django import template

from compliance.signals import SCOPES
from core.clock import isoformat_z

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

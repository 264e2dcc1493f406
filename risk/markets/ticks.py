"""Prices as they arrive, and the instants they carry.

Every market-safety decision is a pure function of prices with timestamps and an explicit
``now`` (CONVENTIONS.md, "One clock"). This module holds the few shapes those functions
share, and the one way an instant is written into a stored state (RFC 3339 UTC with
microseconds, as API.md "Conventions" asks), so a state read back from Redis is the same
state that was written, to the microsecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class TickSource(StrEnum):
    """Where a price comes from (API.md, "Market data and market state")."""

    EXTERNAL = "external"
    """The underlying's price feed or oracle."""
    BOOK = "book"
    """The venue's own mark."""
    CLOSE = "close"
    """An official closing price of the underlying's listing market."""


@dataclass(frozen=True, slots=True)
class PricePoint:
    """A price observed at an instant; the unit every window and input is made of."""

    price: Decimal
    at: datetime


@dataclass(frozen=True, slots=True)
class PriceTick:
    """One tick of a batch: a source, a price and the instant the source stamped on it."""

    source: TickSource
    price: Decimal
    at: datetime

    @property
    def point(self) -> PricePoint:
        return PricePoint(self.price, self.at)


def require_aware(moment: datetime, name: str = "now") -> datetime:
    """Refuse a naive datetime: a clock without a zone is how a DST bug gets in."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {moment!r}")
    return moment


def format_instant(moment: datetime | None) -> str:
    """An aware instant as RFC 3339 UTC with microseconds; ``""`` for none."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime | None:
    """The inverse of :func:`format_instant`; refuses an instant without a zone."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return require_aware(moment, "instant").astimezone(UTC)


def format_decimal(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def parse_decimal(text: str) -> Decimal | None:
    """A stored decimal string; refuses NaN and infinities, which no price may be."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(f"not a decimal: {text!r}") from error
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {text!r}")
    return value


def format_point(point: PricePoint | None) -> str:
    """``price@instant``: one string, so a state serializes to a flat dict of strings."""
    return "" if point is None else f"{point.price}@{format_instant(point.at)}"


def parse_point(text: str) -> PricePoint | None:
    if not text:
        return None
    price, _, at = text.partition("@")
    parsed_price = parse_decimal(price)
    parsed_at = parse_instant(at)
    if parsed_price is None or parsed_at is None:
        raise ValueError(f"not a price point: {text!r}")
    return PricePoint(parsed_price, parsed_at)


def format_points(points: tuple[PricePoint, ...]) -> str:
    return " ".join(format_point(point) for point in points)


def parse_points(text: str) -> tuple[PricePoint, ...]:
    return tuple(point for point in map(parse_point, text.split()) if point is not None)

"""Instants for the market tests, written the way the rules are: in New York wall time."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")


def et(text: str) -> datetime:
    """``"2026-11-24 09:30"`` (or with seconds and milliseconds) in New York, as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).astimezone(UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ms(milliseconds: int) -> timedelta:
    return timedelta(milliseconds=milliseconds)

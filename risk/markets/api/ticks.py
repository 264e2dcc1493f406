"""POST /api/v1/market-data/ticks: the market-data feed's entry, on the lean hot-path base
(``core.hot_api``: msgspec decoding, no serializer copies; DESIGN.md "The hot path").

Two kinds of refusal, decided by whether the tick alone is wrong:

- **Structurally bad** -- not an object, an unknown or missing field, a price that is not a
  positive decimal string, a timestamp that is not RFC 3339 with a zone, an unknown source
  or instrument: 400 with every field error named ``ticks.<i>.<field>``, and *nothing* of
  the batch is applied (the whole batch is validated first).
- **Refused by rule** -- out of order, a duplicate, stale, stamped in the future, absurdly far
  from the reference (``risk.markets.reference_price.TickRejection``): these depend on the stored
  state and the clock, so they are *accepted but ignored*: they never move state, and the
  answer lists each one under ``ignored`` with its index, code and reason. A feed that
  retries a batch it already delivered gets 200 with every tick ignored as a duplicate,
  rather than an error for a batch that in fact arrived; and no rule refusal for one
  instrument can hold back another instrument's ticks (instruments live in different slots
  and are never updated together).

The answer is the resulting state of each instrument touched, in the order first touched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from core import clock
from core.errors import ServiceUnavailable, ValidationFailed
from core.hot_api import HotApiView
from core.policy import SnapshotUnavailable
from core.redis_client import REDIS_ERRORS
from risk.markets import snapshot
from risk.markets.api.serializers import MarketStateSerializer, parse_positive_decimal
from risk.markets.controller import UnknownInstrument
from risk.markets.live import live_controller
from risk.markets.reference_price import TickRejection
from risk.markets.store import MarketContention
from risk.markets.ticks import PriceTick, TickSource

TICK_FIELDS = ("instrument", "price", "ts", "source")
SOURCES = tuple(source.value for source in TickSource)
REJECTION_MESSAGES = {
    TickRejection.NON_POSITIVE_PRICE: "The price is not positive.",
    TickRejection.FUTURE_TICK: "Stamped later than the server's clock.",
    TickRejection.OUT_OF_ORDER: "Older than the last tick of this source.",
    TickRejection.DUPLICATE_TICK: "Same instant as the last tick of this source.",
    TickRejection.STALE_TICK: "Older than this source's staleness cut-off "
    "(a close: before the last official close).",
    TickRejection.ABSURD_PRICE: "Too far from the reference price to be a real print.",
}


class TicksRequest(msgspec.Struct, forbid_unknown_fields=True):
    ticks: list[Any]


def max_batch() -> int:
    return getattr(settings, "MARKET_TICKS_MAX_BATCH", 1000)


def parse_instant_field(text) -> datetime:
    if not isinstance(text, str):
        raise ValueError("Must be an RFC 3339 timestamp string.")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("Not an RFC 3339 timestamp.") from None
    if moment.tzinfo is None:
        raise ValueError("Needs a zone: UTC, written Z.")
    return moment.astimezone(UTC)


def _tick(position: int, item, known, errors: dict[str, list[str]]):
    """One tick's (symbol, PriceTick), or None with its field errors added."""
    prefix = f"ticks.{position}"
    if not isinstance(item, dict):
        errors[prefix] = ["Expected an object."]
        return None
    before = len(errors)
    for name in sorted(set(item) - set(TICK_FIELDS)):
        errors[f"{prefix}.{name}"] = ["Unknown field."]
    for name in TICK_FIELDS:
        if name not in item:
            errors[f"{prefix}.{name}"] = ["This field is required."]
    symbol, price, moment, source = item.get("instrument"), None, None, None
    if "instrument" in item and (not isinstance(symbol, str) or not known(symbol)):
        errors[f"{prefix}.instrument"] = ["Unknown instrument."]
    if "price" in item:
        try:
            price = parse_positive_decimal(item["price"])
        except ValueError as exc:
            errors[f"{prefix}.price"] = [str(exc)]
    if "ts" in item:
        try:
            moment = parse_instant_field(item["ts"])
        except ValueError as exc:
            errors[f"{prefix}.ts"] = [str(exc)]
    if "source" in item:
        if item["source"] not in SOURCES:
            errors[f"{prefix}.source"] = [f"One of {', '.join(SOURCES)}."]
        else:
            source = TickSource(item["source"])
    if len(errors) > before:
        return None
    return symbol, PriceTick(source, price, moment)


_ignored = inline_serializer(
    "IgnoredTick",
    {
        "index": serializers.IntegerField(),
        "instrument": serializers.CharField(),
        "source": serializers.CharField(),
        "ts": serializers.DateTimeField(),
        "code": serializers.ChoiceField(choices=[r.value for r in TickRejection]),
        "message": serializers.CharField(),
    },
    many=True,
)


class TicksView(HotApiView):
    required_scope = "marketdata"
    request_struct = TicksRequest

    @extend_schema(
        summary="Post a batch of external, book and close prices",
        description=__doc__,
        request=inline_serializer(
            "TickBatch",
            {
                "ticks": inline_serializer(
                    "Tick",
                    {
                        "instrument": serializers.CharField(),
                        "price": serializers.CharField(help_text="decimal string"),
                        "ts": serializers.DateTimeField(),
                        "source": serializers.ChoiceField(choices=list(SOURCES)),
                    },
                    many=True,
                )
            },
        ),
        responses={
            200: inline_serializer(
                "TickBatchResult",
                {
                    "states": MarketStateSerializer(many=True),
                    "accepted": serializers.IntegerField(),
                    "ignored": _ignored,
                },
            )
        },
    )
    def post(self, request, *args, **kwargs):
        raise NotImplementedError  # served by HotApiView.dispatch

    def handle(self, body: TicksRequest, principal, request):
        try:
            return 200, self._apply(body.ticks)
        except (*REDIS_ERRORS, SnapshotUnavailable, MarketContention) as exc:
            raise ServiceUnavailable(f"market state unavailable: {exc}") from None
        except UnknownInstrument as exc:  # removed between validation and application
            raise ValidationFailed(
                f"unknown instrument {exc.args[0]}", fields={"ticks": ["Unknown instrument."]}
            ) from None

    def _apply(self, items: list) -> dict:
        if not items:
            raise ValidationFailed("ticks: empty", fields={"ticks": ["At least one tick."]})
        if len(items) > max_batch():
            raise ValidationFailed(
                "ticks: too many", fields={"ticks": [f"At most {max_batch()} ticks per batch."]}
            )
        snapshot.verified()  # read-your-writes: instruments and session parameters
        controller = live_controller()
        checked: dict[str, bool] = {}

        def known(symbol: str) -> bool:
            if symbol not in checked:
                try:
                    controller.snapshot_with(symbol)
                    checked[symbol] = True
                except UnknownInstrument:
                    checked[symbol] = False
            return checked[symbol]

        errors: dict[str, list[str]] = {}
        parsed = [_tick(position, item, known, errors) for position, item in enumerate(items)]
        if errors:
            name, messages = next(iter(errors.items()))
            raise ValidationFailed(f"{name}: {messages[0]}", fields=errors)
        by_symbol: dict[str, list[tuple[int, PriceTick]]] = {}
        for position, (symbol, tick) in enumerate(parsed):
            by_symbol.setdefault(symbol, []).append((position, tick))
        now = clock.now()
        states, ignored, accepted = [], [], 0
        for symbol, entries in by_symbol.items():
            update = controller.apply_ticks(symbol, [tick for _, tick in entries], now)
            states.append(update.view.to_contract())
            accepted += len(entries) - len(update.ignored)
            for offset, rejection in update.ignored:
                position, tick = entries[offset]
                ignored.append(
                    {
                        "index": position,
                        "instrument": symbol,
                        "source": tick.source.value,
                        "ts": items[position]["ts"],
                        "code": rejection.value,
                        "message": REJECTION_MESSAGES[rejection],
                    }
                )
        ignored.sort(key=lambda entry: entry["index"])
        return {"states": states, "accepted": accepted, "ignored": ignored}

"""The pre-trade decision log as a source of decisions the jurisdiction gate replays
(issue 18, a rule's impact; ``core.registry.DecisionSource``, registered by ``RiskConfig``).

A pre-trade decision's jurisdiction part is the access gate asked about the order's
product class, for opening and for reducing (``risk.pretrade.jurisdiction``), with the
account's facts and the client address. The log keeps the account, the address (not what
GeoIP said of it: compliance locates it again and counts the decision as approximate), the
instrument, ``reduce_only``, whether the order reduced (``reduces``, from the atomic step)
and the policy version (``rb<N>.i<i>.s<s>.a<seq>``). The product class is the instrument's
at the decision's instant, from its version history; an order for an unknown instrument
never reached the gate and is said to be so.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime
from functools import partial

from compliance.rulebook import ALLOW, CLOSE_ONLY, OPEN, REDUCE
from core.registry import DecisionSource, RecordedDecision
from risk.models import Instrument, InstrumentVersion, PretradeDecision
from risk.pretrade.checks import UNKNOWN_INSTRUMENT

NAME = "pretrade"
_COLUMNS = (
    "pk",
    "account_id",
    "instrument",
    "client_ip",
    "reduce_only",
    "reduces",
    "reason_codes",
    "policy_version",
    "evaluated_at",
)


def deciding_action(reduce_only: bool, reduces: bool, effects: Mapping[str, str]) -> str:
    """Which of the gate's two verdicts decided the order (``checks._jurisdiction`` and the
    atomic step's ``UNLESS_REDUCING``): a reduce-only order is judged by reducing; any other
    by opening, unless opening is refused, reducing is allowed (or close-only) and the order
    does reduce, when reducing decides it."""
    if reduce_only:
        return REDUCE
    if effects[OPEN] == ALLOW:
        return OPEN
    if reduces and effects[REDUCE] in (ALLOW, CLOSE_ONLY):
        return REDUCE
    return OPEN


def _window(start: datetime, end: datetime):
    return PretradeDecision.objects.filter(evaluated_at__gte=start, evaluated_at__lt=end)


def count(start: datetime, end: datetime) -> int:
    return _window(start, end).count()


class _ProductClasses:
    """The product class of the chunk's instruments at any instant: from their version
    history (the first version for an instant before it: the check knew the instrument,
    so it existed), or the instrument as it is when it has none (created outside the
    services)."""

    def __init__(self, symbols: set[str]) -> None:
        self._history: dict[str, tuple[list[datetime], list[str]]] = {}
        rows = (
            InstrumentVersion.objects.filter(symbol__in=symbols)
            .order_by("symbol", "changed_at", "version")
            .values_list("symbol", "changed_at", "fields__product_class")
        )
        for symbol, changed_at, product in rows:
            moments, products = self._history.setdefault(symbol, ([], []))
            moments.append(changed_at)
            products.append(product)
        self._current = dict(
            Instrument.objects.filter(symbol__in=symbols - set(self._history)).values_list(
                "symbol", "product_class"
            )
        )

    def at(self, symbol: str, moment: datetime) -> str | None:
        history = self._history.get(symbol)
        if history is None:
            return self._current.get(symbol)
        index = bisect_right(history[0], moment)
        return history[1][max(index - 1, 0)]


def read(start: datetime, end: datetime, after: int, limit: int) -> list[RecordedDecision]:
    rows = list(
        _window(start, end).filter(pk__gt=after).order_by("pk").values_list(*_COLUMNS)[:limit]
    )
    products = _ProductClasses({row[2] for row in rows})
    records = []
    for pk, account, symbol, client_ip, reduce_only, reduces, codes, version, at in rows:
        asked = UNKNOWN_INSTRUMENT not in codes.split(",")
        records.append(
            RecordedDecision(
                source=NAME,
                position=pk,
                key=str(pk),
                at=at,
                account_id=account,
                anonymous=False,
                client_ip=client_ip,
                location=None,
                location_stored=False,
                product_class=products.at(symbol, at) if asked else None,
                action=REDUCE if reduce_only or reduces else OPEN,
                actions=(REDUCE,) if reduce_only else (OPEN, REDUCE),
                policy_version=version,
                decides=None if reduce_only else partial(deciding_action, False, reduces),
            )
        )
    return records


SOURCE = DecisionSource(name=NAME, label="Pre-trade decisions", count=count, read=read)

"""What the parts contribute to the layers above them, without anyone importing upwards.

Each part registers, in its ``AppConfig.ready``, the report sections it can write, the
nightly integrity checks it can run and the readiness probes of what it depends on; the
oversight layer (reports, nightly checks) and the health endpoint read the registries.
Nothing is found by ``import_module``.

- A **report section** is ``fn(period_start, period_end) -> (columns, rows)``, the period
  half-open and aware UTC, aggregated in the database; values are ``str``, ``int``,
  ``Decimal``, ``bool``, ``date``/``datetime`` or ``None``, never ``float`` (money and
  counts print exactly). The report sorts the rows.
- A **nightly check** is ``fn()`` returning an object with ``ok`` and a ``summary`` or
  ``problem``; raising counts as a failure.
- A **health probe** is ``fn()`` that raises when its component cannot serve.
- A **movement gate** is ``fn(check: MovementCheck) -> MovementVerdict``: what the gate
  says of a deposit or a withdrawal (custody asks every registered gate and must not import
  the part that decides; compliance registers the access gate). Custody fails closed when
  none is registered or one raises.
- A **decision source** is a log of past decisions the jurisdiction gate took part in
  (``DecisionSource``): compliance registers its access decisions, risk its pre-trade
  decisions. Compliance replays them through a rule draft (issue 18, a rule's impact)
  without importing the part that keeps the log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

NAME = re.compile(r"^[a-z][a-z0-9_]{0,79}$")

SectionFn = Callable[[datetime, datetime], tuple[Sequence[str], Iterable[Sequence[object]]]]


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    fn: SectionFn
    kinds: tuple[str, ...]


class Registry:
    """Named contributions of one kind; a name may be claimed by one function only (a
    section's name is a file name in every report)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, object] = {}

    def add(self, name: str, item, fn=None):
        if not NAME.match(name):
            raise ValueError(f"{self.what} name {name!r} must be lower-case snake words")
        existing = self._items.get(name)
        if existing is not None and _function(existing) is not _function(item):
            raise ValueError(f"{self.what} {name!r} is already registered")
        self._items[name] = item
        return item

    def items(self) -> dict[str, object]:
        return dict(sorted(self._items.items()))

    def remove(self, name: str) -> None:
        self._items.pop(name, None)


def _function(item):
    return item.fn if isinstance(item, Section) else item


@dataclass(frozen=True, slots=True, kw_only=True)
class MovementCheck:
    """A deposit or withdrawal put to the gates: ``action`` is ``deposit`` or ``withdraw``
    (API.md, "Access gate"), ``client_ip`` the request's address when it gave one."""

    account_id: str
    asset: str
    action: str
    client_ip: str | None
    requested_by: str
    now: datetime
    address: str | None = None
    """The counterparty chain address the movement goes to or comes from, when given."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MovementVerdict:
    """A gate's answer in the contract's vocabulary: ``effect`` is ``allow``,
    ``close_only``, ``review`` or ``deny``; ``reasons`` are contract reason objects
    (``{"code", "check", "message", "detail"}``), deciding reason first; ``decision_id``
    names the gate's own durable record of the decision."""

    effect: str
    reasons: tuple[dict, ...] = ()
    decision_id: str | None = None
    policy_version: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedDecision:
    """One past decision, as the jurisdiction gate was asked it: the inputs its log kept, so
    the same question can be put again to another rulebook (``compliance.impact``).

    ``location`` is what GeoIP said of ``client_ip`` when the decision was taken
    (``{"country", "subdivision", "anonymizer"}``) and ``location_stored`` whether the log
    kept it at all: a log that kept only the address leaves compliance to locate it again,
    with today's database, and say so. ``policy_version`` names the rulebook and the
    version of the account's facts the decision used (``rb<N>.…a<seq>``).
    ``product_class`` is None when the gate was not asked (an unknown instrument).

    ``action`` is what the decision was about (an access check's action; for an order,
    ``reduce`` when it reduces, else ``open``); ``actions`` are the gate's questions it
    rested on; with more than one, ``decides`` picks, from the effect of each, the action
    whose verdict decided (an order is judged by opening, or by reducing when it reduces).
    """

    source: str
    position: int
    """The record's place in its log (its primary key): a chunk resumes after it."""
    key: str
    """How the console names the record in a link (the access decision's id, the pre-trade
    decision's row)."""
    at: datetime
    account_id: str | None
    anonymous: bool
    client_ip: str | None
    location: Mapping[str, object] | None
    location_stored: bool
    product_class: str | None
    action: str
    actions: tuple[str, ...]
    policy_version: str
    profile_known: bool | None = None
    """Whether the log says a profile was on file (None: it does not say)."""
    recorded_effect: str | None = None
    """The effect the rulebook gave then, when the log holds it (not after a fail-closed)."""
    decides: Callable[[Mapping[str, str]], str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionSource:
    """A log of decisions the jurisdiction gate took part in.

    ``count(start, end)`` is how many were taken in ``[start, end)``; ``read(start, end,
    after, limit)`` the next ``limit`` of them whose ``position`` is above ``after``, in
    position order (a keyset: memory stays bounded however long the log).
    """

    name: str
    label: str
    count: Callable[[datetime, datetime], int]
    read: Callable[[datetime, datetime, int, int], Sequence[RecordedDecision]]


report_sections = Registry("report section")
nightly_checks = Registry("nightly check")
health_probes = Registry("health probe")
movement_gates = Registry("movement gate")
decision_sources = Registry("decision source")


def section(name: str, *, kinds: Sequence[str] = ("daily",)):
    """Decorator: register ``fn`` as the report section ``name`` of the report ``kinds``."""

    def register(fn: SectionFn) -> SectionFn:
        report_sections.add(name, Section(name=name, fn=fn, kinds=tuple(kinds)))
        return fn

    return register


def nightly_check(name: str):
    def register(fn):
        nightly_checks.add(name, fn)
        return fn

    return register


def health_probe(name: str):
    def register(fn):
        health_probes.add(name, fn)
        return fn

    return register


def sections_for(kind: str) -> list[Section]:
    """The sections of a report kind, by name (the order of its files)."""
    return [item for item in report_sections.items().values() if kind in item.kinds]

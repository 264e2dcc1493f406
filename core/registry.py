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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
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


report_sections = Registry("report section")
nightly_checks = Registry("nightly check")
health_probes = Registry("health probe")
movement_gates = Registry("movement gate")


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

"""The sections of regulatory reports: a registry any part of Gatehouse adds to.

A section is a function of the period, ``fn(period_start, period_end) -> (columns, rows)``,
with ``period_start`` inclusive and ``period_end`` exclusive (aware UTC). It should
aggregate in the database and return only what the report prints; values are ``str``,
``int``, ``Decimal``, ``bool``, ``date``/``datetime`` or ``None`` — never ``float`` (money
and counts must print exactly). The framework sorts the rows, so a section need not.

Parts that may import compliance (risk) register with the decorator::

    from compliance.report_sections import section

    @section("pretrade_rejects_by_reason")
    def rejects_by_reason(period_start, period_end): ...

A part that must not import compliance (custody: the ledger knows nothing of the rest)
exposes ``REPORT_SECTIONS = {"segregation_statement": fn, ...}`` in its own
``report_sections.py``; every installed app's module of that name is imported the first
time sections are asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule

SectionFn = Callable[[datetime, datetime], tuple[Sequence[str], Iterable[Sequence[object]]]]
NAME = re.compile(r"^[a-z][a-z0-9_]{0,79}$")


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    fn: SectionFn
    kinds: tuple[str, ...]


_sections: dict[str, Section] = {}
_discovered = False


def register_section(name: str, fn: SectionFn, *, kinds: Sequence[str] = ("daily",)) -> SectionFn:
    """Add a section to the reports of ``kinds``. A name is a file name in every report, so
    two different functions may not claim the same one."""
    if not NAME.match(name):
        raise ValueError(f"section name {name!r} must be lower-case snake words")
    existing = _sections.get(name)
    if existing is not None and existing.fn is not fn:
        same = getattr(existing.fn, "__qualname__", None) == getattr(fn, "__qualname__", None)
        if not same or existing.fn.__module__ != fn.__module__:
            raise ValueError(f"report section {name!r} is already registered")
    _sections[name] = Section(name=name, fn=fn, kinds=tuple(kinds))
    return fn


def section(name: str, *, kinds: Sequence[str] = ("daily",)) -> Callable[[SectionFn], SectionFn]:
    def decorate(fn: SectionFn) -> SectionFn:
        return register_section(name, fn, kinds=kinds)

    return decorate


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    import_module("compliance.access_sections")
    for app in apps.get_app_configs():
        if app.name != "compliance" and module_has_submodule(app.module, "report_sections"):
            module = import_module(f"{app.name}.report_sections")
            for name, fn in getattr(module, "REPORT_SECTIONS", {}).items():
                register_section(name, fn)
    _discovered = True


def sections_for(kind: str) -> list[Section]:
    """The sections of a report kind, by name (the order of its files)."""
    _discover()
    return [s for name, s in sorted(_sections.items()) if kind in s.kinds]

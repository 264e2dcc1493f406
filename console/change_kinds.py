"""The kinds of change under maker-checker (``console.maker_checker``), registered by the
shell and by each part's pages.

Each part's pages register the kinds of change they own in a module
``console/<part>/actions.py`` (the shell's own in ``console/actions.py``), imported once by
``ConsoleConfig.ready``::

    from console.change_kinds import register_action
    from console.roles import RISK_OFFICER

    register_action(
        "market.halt",
        roles=[RISK_OFFICER],
        execute=lambda payload, approver: halts.halt_market(
            symbol=payload["symbol"], reason=payload["reason"], actor=approver
        ),
        label="Halt a market",
        form=HaltForm,                          # optional: parses the proposal's payload
        target=lambda payload: f"market:{payload['symbol']}",
        scope="market",                         # optional: offered on the market page
    )

``execute(payload, approver)`` calls the owning part's service with ``approver`` (the
checker's actor name, ``officer:<username>``) as its actor, and runs inside the approval's
transaction: if it raises, nothing of it or of the approval is kept, and the proposal is
marked ``failed`` with the error. It may return a dict (or anything printable) that is
stored as the proposal's result.

Optional hooks: ``on_propose(payload, maker)`` runs when the proposal is made, in the same
transaction (the rulebook drafts its revision there), and may return payload additions;
``on_reject(payload, checker, note)`` runs on rejection. ``emergency=True`` lets a maker
carry the change out at once (``propose(..., emergency=True)``), leaving it for review.
``describe(payload)`` gives the one-line summary the queue shows. ``panel(payload, user,
path)`` is what the checker should see on the proposal's page before deciding, beside the
payload: ``{"template": ..., **context}`` or None (a rule change shows the draft's
impact). ``reason_in_payload=True`` copies the proposal's reason into the payload as
``reason``, for services that record a reason of their own (a halt, a kill switch, a ledger
adjustment). ``own_transaction=True``
is for a service that must commit on its own (the ledger's ``atomic(durable=True)``): the
approval commits first, then ``execute`` runs, then the outcome is recorded; such a service
must be idempotent (the ledger's transfer ids are), so an approval left ``approved`` by a
crash in between can be carried out again.

A kind with a ``form`` gets a page at ``/proposals/new/<kind>/`` (prefilled from the query
string, e.g. ``?symbol=AAPL-PERP``) and, with ``scope="market"``, a link on each market's
page. The form's cleaned data is the payload, except ``reason`` (required: say why) and
``emergency`` (a BooleanField the form may declare for an emergency kind); values that are
not JSON (decimals, datetimes) are stored as their text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.roles import READERS, roles_of
from core.errors import NotFound

Execute = Callable[[Mapping[str, Any], str], Any]


@dataclass(frozen=True)
class Action:
    """A kind of change that needs a second officer."""

    kind: str
    roles: frozenset[str]
    execute: Execute
    label: str = ""
    form: type | None = None
    target: Callable[[Mapping[str, Any]], str] | None = None
    scope: str = ""
    emergency: bool = False
    on_propose: Callable[[Mapping[str, Any], str], Mapping[str, Any] | None] | None = None
    on_reject: Callable[[Mapping[str, Any], str, str], None] | None = None
    describe: Callable[[Mapping[str, Any]], str] | None = field(default=None)
    panel: Callable[[Mapping[str, Any], Any, str], Mapping[str, Any] | None] | None = None
    reason_in_payload: bool = False
    own_transaction: bool = False

    def target_of(self, payload: Mapping[str, Any]) -> str:
        return self.target(payload) if self.target else self.kind

    def summary(self, payload: Mapping[str, Any]) -> str:
        return self.describe(payload) if self.describe else (self.label or self.kind)


_lock = threading.Lock()
_registry: dict[str, Action] = {}


def register_action(
    kind: str,
    *,
    roles: Iterable[str],
    execute: Execute,
    label: str = "",
    form: type | None = None,
    target: Callable[[Mapping[str, Any]], str] | None = None,
    scope: str = "",
    emergency: bool = False,
    on_propose=None,
    on_reject=None,
    describe=None,
    panel=None,
    reason_in_payload: bool = False,
    own_transaction: bool = False,
) -> Action:
    """Register a kind of change. ``roles``: who may propose and who may approve it (the
    same set; the approver must additionally not be the maker). Registering a kind twice is
    an error: two parts must not both claim one kind."""
    roles = frozenset(roles)
    unknown = roles - set(READERS)
    if not roles or unknown:
        raise ValueError(f"{kind}: roles must be among {READERS}, got {sorted(roles)}")
    action = Action(
        kind=kind,
        roles=roles,
        execute=execute,
        label=label or kind,
        form=form,
        target=target,
        scope=scope,
        emergency=emergency,
        on_propose=on_propose,
        on_reject=on_reject,
        describe=describe,
        panel=panel,
        reason_in_payload=reason_in_payload,
        own_transaction=own_transaction,
    )
    with _lock:
        if kind in _registry:
            raise ValueError(f"action {kind!r} is already registered")
        _registry[kind] = action
    return action


def unregister_action(kind: str) -> None:
    """For tests that register a kind of their own."""
    with _lock:
        _registry.pop(kind, None)


def actions(scope: str | None = None) -> list[Action]:
    found = sorted(_registry.values(), key=lambda action: action.kind)
    return [action for action in found if scope is None or action.scope == scope]


def action(kind: str) -> Action:
    try:
        return _registry[kind]
    except KeyError:
        raise NotFound(f"no registered action {kind!r}") from None


def can_propose(user, kind: str) -> bool:
    return bool(roles_of(user) & action(kind).roles)

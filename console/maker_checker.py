"""Maker-checker: a change one officer proposes and a second officer approves.

DESIGN.md, "Console": changes to rules, limits, session parameters, schedules, halts and
resumes, kill switches and manual ledger adjustments need a second person; the maker can
never approve their own; an emergency kill-switch engage takes effect at once and is
reviewed after. Every step is an entry in the audit chain.

Each part's pages register the kinds of change they own in a module
``console/<part>/actions.py`` (the shell's own in ``console/actions.py``), imported once by
``ConsoleConfig.ready``::

    from console.maker_checker import register_action
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
``describe(payload)`` gives the one-line summary the queue shows. ``reason_in_payload=True``
copies the proposal's reason into the payload as ``reason``, for services that record a
reason of their own (a halt, a kill switch, a ledger adjustment). ``own_transaction=True``
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

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import transaction

from console.models import Proposal
from console.roles import READERS, officer_actor, roles_of
from core import audit, clock
from core.errors import Conflict, GatehouseError, NotFound, ValidationFailed

logger = logging.getLogger("gatehouse.console")

MAX_REASON = 2000


class MakerCannotApprove(GatehouseError):
    """Four eyes: whoever proposed a change may not be the one who approves it."""

    status = 403
    code = "FOUR_EYES_REQUIRED"


class RoleRequired(GatehouseError):
    status = 403
    code = "PERMISSION_DENIED"


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


def _plain(value: Any) -> Any:
    """Store a result as JSON: dicts as they are, anything else as its text."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return orjson.loads(orjson.dumps(value, default=str))
    return {"summary": str(value)}


def _snapshot(proposal: Proposal) -> dict:
    return {
        "kind": proposal.kind,
        "target": proposal.target,
        "payload": proposal.payload,
        "reason": proposal.reason,
        "maker": proposal.maker,
        "status": proposal.status,
        "emergency": proposal.emergency,
        "checker": proposal.checker,
        "decision_note": proposal.decision_note,
    }


def _require_role(user, registered: Action, doing: str) -> None:
    if not roles_of(user) & registered.roles:
        raise RoleRequired(
            f"{doing} a {registered.label} needs one of the roles "
            f"{', '.join(sorted(registered.roles))}"
        )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("reason: required", fields={"reason": ["Say why."]})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            "reason: too long", fields={"reason": [f"At most {MAX_REASON} characters."]}
        )
    return reason


def propose(
    *, kind: str, payload: Mapping[str, Any], reason: str, maker, emergency: bool = False
) -> Proposal:
    """Record a proposal (and run the action's ``on_propose`` hook) in one transaction. An
    emergency proposal is executed at once, by its maker, and waits for review."""
    registered = action(kind)
    _require_role(maker, registered, "Proposing")
    reason = _reason(reason)
    if emergency and (not registered.emergency or registered.own_transaction):
        raise ValidationFailed(f"{registered.label} has no emergency path")
    payload = orjson.loads(orjson.dumps(dict(payload), default=str))
    if registered.reason_in_payload:
        payload["reason"] = reason
    actor = officer_actor(maker)
    with transaction.atomic():
        if registered.on_propose is not None:
            payload.update(registered.on_propose(payload, actor) or {})
        proposal = Proposal.objects.create(
            kind=kind,
            target=registered.target_of(payload)[:200],
            payload=payload,
            reason=reason,
            maker=actor,
            created_at=clock.now(),
            emergency=emergency,
        )
        audit.record(
            actor=actor,
            action="proposal.emergency" if emergency else "proposal.create",
            object_type="proposal",
            object_id=str(proposal.pk),
            after=_snapshot(proposal),
        )
        if emergency:
            result = registered.execute(proposal.payload, actor)
            proposal.status, proposal.result = "executed", _plain(result)
            proposal.save(update_fields=["status", "result"])
            audit.record(
                actor=actor,
                action="proposal.execute",
                object_type="proposal",
                object_id=str(proposal.pk),
                after={"status": "executed", "result": proposal.result, "emergency": True},
            )
    return proposal


def _locked(proposal_id: int) -> Proposal:
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}")
    return proposal


def _decidable(proposal: Proposal, checker_actor: str) -> None:
    if proposal.status != "proposed":
        raise Conflict(f"proposal {proposal.pk} is {proposal.status}, not awaiting a decision")
    if proposal.maker == checker_actor:
        raise MakerCannotApprove(
            f"{checker_actor} proposed this change; another officer must decide it"
        )


class _ExecutionFailed(Exception):
    """Carries the owning service's refusal out of the approval's transaction, so the
    transaction rolls back before the failure is recorded."""

    def __init__(self, error: GatehouseError) -> None:
        super().__init__(error.message)
        self.error = error


def approve(*, proposal_id: int, checker, note: str = "") -> Proposal:
    """Approve and carry out a proposal in one transaction. If the owning service refuses
    (a ``GatehouseError``), nothing of the approval is kept and the proposal is marked
    ``failed`` with the service's message, which is audited too."""
    actor = officer_actor(checker)
    try:
        with transaction.atomic():
            proposal = _locked(proposal_id)
            registered = action(proposal.kind)
            _decidable(proposal, actor)
            _require_role(checker, registered, "Approving")
            now = clock.now()
            proposal.status, proposal.checker, proposal.decided_at = "approved", actor, now
            proposal.decision_note = note.strip()[:MAX_REASON]
            proposal.save(update_fields=["status", "checker", "decided_at", "decision_note"])
            audit.record(
                actor=actor,
                action="proposal.approve",
                object_type="proposal",
                object_id=str(proposal.pk),
                after=_snapshot(proposal),
            )
            if registered.own_transaction:
                payload = proposal.payload
            else:
                try:
                    result = registered.execute(proposal.payload, actor)
                except GatehouseError as error:
                    raise _ExecutionFailed(error) from error
                return _executed(proposal, actor, result)
    except _ExecutionFailed as failed:
        return _fail(proposal_id, actor, failed.error)
    # A kind whose service commits durably (the ledger): the approval is committed first.
    try:
        result = registered.execute(payload, actor)
    except GatehouseError as error:
        return _fail(proposal_id, actor, error)
    with transaction.atomic():
        return _executed(_locked(proposal_id), actor, result)


def _executed(proposal: Proposal, actor: str, result: Any) -> Proposal:
    proposal.status, proposal.result = "executed", _plain(result)
    proposal.save(update_fields=["status", "result"])
    audit.record(
        actor=actor,
        action="proposal.execute",
        object_type="proposal",
        object_id=str(proposal.pk),
        after={"status": "executed", "result": proposal.result},
    )
    return proposal


def _fail(proposal_id: int, actor: str, error: GatehouseError) -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal_id)
        proposal.status, proposal.checker = "failed", actor
        proposal.decided_at = clock.now()
        proposal.result = {"error": error.code, "message": error.message}
        proposal.save(update_fields=["status", "checker", "decided_at", "result"])
        audit.record(
            actor=actor,
            action="proposal.fail",
            object_type="proposal",
            object_id=str(proposal.pk),
            after={"status": "failed", "result": proposal.result},
        )
    return proposal


def reject(*, proposal_id: int, checker, note: str) -> Proposal:
    """Turn a proposal down, saying why. The maker may withdraw their own proposal this
    way; anyone else needs the kind's role."""
    actor = officer_actor(checker)
    note = _reason(note)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        registered = action(proposal.kind)
        if proposal.status != "proposed":
            raise Conflict(f"proposal {proposal.pk} is {proposal.status}, not awaiting a decision")
        withdrawn = proposal.maker == actor
        if not withdrawn:
            _require_role(checker, registered, "Rejecting")
        if registered.on_reject is not None:
            registered.on_reject(proposal.payload, actor, note)
        proposal.status, proposal.decided_at = "rejected", clock.now()
        proposal.checker = "" if withdrawn else actor
        proposal.decision_note = note
        proposal.save(update_fields=["status", "checker", "decided_at", "decision_note"])
        audit.record(
            actor=actor,
            action="proposal.withdraw" if withdrawn else "proposal.reject",
            object_type="proposal",
            object_id=str(proposal.pk),
            after=_snapshot(proposal),
        )
    return proposal


def review(*, proposal_id: int, reviewer, note: str) -> Proposal:
    """A second officer's review of an emergency change that already took effect."""
    actor = officer_actor(reviewer)
    note = _reason(note)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        registered = action(proposal.kind)
        if not proposal.emergency or proposal.checker:
            raise Conflict(f"proposal {proposal.pk} is not an emergency change awaiting review")
        if proposal.maker == actor:
            raise MakerCannotApprove(
                f"{actor} made this emergency change; another officer reviews it"
            )
        _require_role(reviewer, registered, "Reviewing")
        proposal.checker, proposal.decided_at, proposal.decision_note = actor, clock.now(), note
        proposal.save(update_fields=["checker", "decided_at", "decision_note"])
        audit.record(
            actor=actor,
            action="proposal.review",
            object_type="proposal",
            object_id=str(proposal.pk),
            after=_snapshot(proposal),
        )
    return proposal

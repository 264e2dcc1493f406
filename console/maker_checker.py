"""Maker-checker: a change one officer proposes and a second officer approves.

DESIGN.md, "Console": changes to rules, limits, session parameters, schedules, halts and
resumes, kill switches and manual ledger adjustments need a second person; the maker can
never approve their own; an emergency kill-switch engage takes effect at once and is
reviewed after. Every step is an entry in the audit chain.

The kinds of change and how a part registers one: ``console.change_kinds``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from django.db import transaction

from console.change_kinds import Action, action
from console.models import Proposal
from console.roles import officer_actor, roles_of
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

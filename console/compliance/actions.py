"""The rulebook's kinds of maker-checker change (discovered by ``console.maker_checker``).

A rule change is the rulebook's own four-eyes flow (``compliance.services``): proposing
drafts the revision at once, so it shows among the drafts awaiting approval, in the API and
in the audit chain, and starts measuring its impact over the recent decisions
(``compliance.impact``), which the proposal's page shows the checker; approving activates
it as the approver; rejecting rejects the draft. ``activate_rule`` refuses its own drafter
independently of the console's check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from compliance import services
from compliance.impact import measure
from console.change_kinds import register_action
from console.compliance.impact import proposal_panel, queue
from console.roles import COMPLIANCE_OFFICER

RULE_CHANGE = "rule.change"


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def draft(payload: Mapping[str, Any], maker: str) -> dict:
    fields = dict(payload.get("fields") or {})
    for name in ("effective_from", "effective_until"):
        fields[name] = _moment(fields.get(name))
    revision = services.draft_rule(
        rule_id=payload["rule_id"],
        fields=fields,
        actor=maker,
        note=payload.get("note", ""),
        retires=bool(payload.get("retires")),
    )
    impact, _ = measure.request_measurement(
        rule_id=revision.rule_id, revision=revision.revision, actor=maker
    )
    queue(impact.pk)
    return {"revision": revision.revision}


def activate(payload: Mapping[str, Any], approver: str) -> dict:
    published = services.activate_rule(
        rule_id=payload["rule_id"], revision=payload["revision"], actor=approver
    )
    return {"rulebook_version": published.version}


def reject(payload: Mapping[str, Any], checker: str, note: str) -> None:
    services.reject_rule(
        rule_id=payload["rule_id"], revision=payload["revision"], actor=checker, reason=note
    )


def target(payload: Mapping[str, Any]) -> str:
    return f"rule:{payload['rule_id']}#r{payload.get('revision', '?')}"


def describe(payload: Mapping[str, Any]) -> str:
    verb = "Retire" if payload.get("retires") else "Change"
    return f"{verb} rule {payload['rule_id']} (revision {payload.get('revision', '?')})"


register_action(
    RULE_CHANGE,
    roles=[COMPLIANCE_OFFICER],
    execute=activate,
    label="Rule change",
    target=target,
    scope="rule",
    on_propose=draft,
    on_reject=reject,
    describe=describe,
    panel=proposal_panel,
)

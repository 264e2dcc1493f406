"""The nightly integrity checks: every part registers its own with ``core.registry``
(the custody ledger's ``verify_ledger``, the audit chain here); a failed or crashed check
raises a critical alert, de-duplicated per day."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core import audit, registry
from oversight.alerts import raise_alert

logger = logging.getLogger("gatehouse.nightly")


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    ok: bool
    summary: str
    detail: dict = field(default_factory=dict)


def _outcome(result: object) -> CheckOutcome:
    if isinstance(result, CheckOutcome):
        return result
    ok = bool(getattr(result, "ok", False))
    problem = getattr(result, "problem", None)
    return CheckOutcome(ok, "intact" if ok else str(problem or "check failed"))


def audit_chain_check() -> CheckOutcome:
    report = audit.verify_chain()
    detail = {
        "entries_checked": report.entries_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "head_seq": report.head_seq,
        "first_bad_seq": report.first_bad_seq,
    }
    return CheckOutcome(report.ok, report.problem or "audit chain intact", detail)


def run_nightly_checks(*, now: datetime) -> dict[str, CheckOutcome]:
    """Run every registered check; each failure raises a critical alert keyed by the check,
    de-duplicated per day so re-running the night's checks does not repeat it."""
    outcomes = {}
    for name, fn in registry.nightly_checks.items().items():
        try:
            outcome = _outcome(fn())
        except Exception as exc:
            logger.exception("nightly check %s crashed", name)
            outcome = CheckOutcome(False, f"the check could not run: {exc!r}")
        outcomes[name] = outcome
        if not outcome.ok:
            raise_alert(
                key=f"integrity.{name}",
                kind="integrity.check_failed",
                severity="critical",
                title=f"nightly check {name} failed: {outcome.summary}"[:300],
                detail={"check": name, "summary": outcome.summary, **outcome.detail},
                now=now,
                window=timedelta(days=1),
                raised_by="system:nightly",
            )
    return outcomes

"""The kinds of maker-checker change the console itself owns: the beat schedule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.change_kinds import register_action
from console.roles import ADMINISTRATOR, RISK_OFFICER
from console.schedules import change_schedule, describe_schedule, schedule_of

SCHEDULE_CHANGE = "schedule.change"


def _execute(payload: Mapping[str, Any], approver: str) -> dict:
    task = change_schedule(task_id=payload["task_id"], change=payload["change"], actor=approver)
    return {"task": task.name, "schedule": schedule_of(task)}


register_action(
    SCHEDULE_CHANGE,
    roles=[ADMINISTRATOR, RISK_OFFICER],
    execute=_execute,
    label="Schedule change",
    target=lambda payload: f"schedule:{payload['task']}",
    scope="schedule",
    describe=lambda payload: f"{payload['task']}: {describe_schedule(payload['change'])}",
)

"""Measuring a draft's impact in the background: the decision logs of a window, a chunk at
a time, replayed through the draft (``compliance.impact``), with progress and result saved
on a ``RuleImpact`` row after every chunk.

Shaped like the sanctions re-screen (``compliance.rescreen``): the first step counts the
window's decisions per source (the page's "of N"); each next one reads ``CHUNK`` decisions
of the current source after the saved cursor, replays them and saves cursor, progress and
counts in one conditional update — conditional on the cursor it started from, so a chunk
run twice (a redelivered task, two workers) is counted once, and a worker that dies
resumes after the last chunk it saved. Memory is one chunk, the compiled rulebooks of the
versions it meets and the tally, whose size does not grow with the log.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max

from compliance import geoip
from compliance.impact.inputs import INPUTS_INVALID, Inputs
from compliance.impact.replay import replay
from compliance.impact.tally import Tally
from compliance.models import RulebookVersion, RuleImpact, RuleRevision
from compliance.services import RULE_FIELDS, locked_draft, rule_of
from compliance.snapshot import signal_defaults
from core import audit, clock
from core.errors import ValidationFailed
from core.registry import DecisionSource, RecordedDecision, decision_sources

logger = logging.getLogger("gatehouse.compliance.impact")

RUNNING, DONE, FAILED = "running", "done", "failed"
CHUNK = 1000
MAX_WINDOW_DAYS = 366


def draft_digest(revision: RuleRevision) -> str:
    """What the draft says, as a digest: a result measured on other words is stale."""
    said = {name: getattr(revision, name) for name in RULE_FIELDS}
    said.update(rule_id=revision.rule_id, revision=revision.revision, retires=revision.retires_rule)
    return hashlib.sha256(orjson.dumps(said, option=orjson.OPT_SORT_KEYS)).hexdigest()


def latest_rulebook() -> int:
    return RulebookVersion.objects.aggregate(Max("version"))["version__max"] or 0


def staleness(impact: RuleImpact, *, digest: str, rulebook: int) -> str:
    """Why a measurement no longer describes the draft as it would now be approved ("" when
    it does)."""
    if impact.draft_digest != digest:
        return "the draft changed since it was measured"
    if impact.rulebook_version != rulebook:
        return (
            f"rulebook version {rulebook} was published since it was measured "
            f"(against version {impact.rulebook_version})"
        )
    return ""


def latest_of(draft: RuleRevision) -> RuleImpact | None:
    return RuleImpact.objects.filter(draft=draft).order_by("-requested_at", "-id").first()


def request_measurement(
    *, rule_id: str, revision: int, actor: str, days: int | None = None
) -> tuple[RuleImpact, bool]:
    """Ask for a draft's impact over the last ``days`` (``RULE_IMPACT_WINDOW_DAYS``), audited
    under ``actor``: returns (the measurement, whether it is a new one). A measurement of
    the same draft against the same rulebook and window length that is still running is
    returned as it is, so asking twice measures once; the caller queues the task either way
    (queuing a running one again resumes it if its worker was lost)."""
    days = settings.RULE_IMPACT_WINDOW_DAYS if days is None else days
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValidationFailed(
            f"days: between 1 and {MAX_WINDOW_DAYS}",
            fields={"days": [f"Between 1 and {MAX_WINDOW_DAYS}."]},
        )
    with transaction.atomic():
        draft = locked_draft(rule_id, revision)
        rule_of(draft)  # a draft that no longer validates is refused here, not in the worker
        digest, rulebook = draft_digest(draft), latest_rulebook()
        running = draft.impacts.filter(
            status=RUNNING, draft_digest=digest, rulebook_version=rulebook, window_days=days
        ).first()
        if running is not None:
            return running, False
        now = clock.now()
        superseded = draft.impacts.filter(status=RUNNING)
        impact = RuleImpact.objects.create(
            draft=draft,
            draft_digest=digest,
            rulebook_version=rulebook,
            window_days=days,
            window_start=now - timedelta(days=days),
            window_end=now,
            status=RUNNING,
            requested_by=actor,
            requested_at=now,
            progressed_at=now,
        )
        # An older run of another window or rulebook stops at its next chunk.
        superseded.exclude(pk=impact.pk).update(
            status=FAILED, error=f"superseded by measurement {impact.pk}", finished_at=now
        )
        audit.record(
            actor=actor,
            action="rule.impact.measure",
            object_type="rule",
            object_id=f"{rule_id}#r{revision}",
            after={
                "impact": impact.pk,
                "window_days": days,
                "window_start": impact.window_start.isoformat(),
                "window_end": impact.window_end.isoformat(),
                "rulebook_version": rulebook,
            },
        )
    return impact, True


def _sources() -> list[DecisionSource]:
    return list(decision_sources.items().values())


def _after(current: str, sources: list[DecisionSource]) -> str:
    """The source read after ``current`` ("" when it was the last)."""
    names = [source.name for source in sources]
    following = names[names.index(current) + 1 :] if current in names else []
    return following[0] if following else ""


def inputs_for(draft: RuleRevision) -> Inputs:
    """What recovers the logged decisions' inputs for this draft (its rule, or None when it
    retires the rule), locating addresses with the configured GeoIP databases."""

    def locate(address: str):
        return geoip.get_locator(settings.GEOIP_CITY_DB, settings.GEOIP_ANONYMOUS_DB).lookup(
            address
        )

    return Inputs(draft.rule_id, None if draft.retires_rule else rule_of(draft), locate)


def _count(impact: RuleImpact, sources: list[DecisionSource], now: datetime) -> bool:
    totals = {s.name: s.count(impact.window_start, impact.window_end) for s in sources}
    first = sources[0].name if sources else ""
    fields = {"totals": totals, "total": sum(totals.values()), "progressed_at": now}
    fields["cursor_source"] = first
    if not first:
        fields.update(status=DONE, finished_at=now, result=Tally().as_json())
    claimed = RuleImpact.objects.filter(pk=impact.pk, status=RUNNING, total=None).update(**fields)
    return bool(claimed) and not first


def _replay_into(
    tally: Tally, inputs: Inputs, record: RecordedDecision, profiles, defaults
) -> None:
    recovered = inputs.recover(record, profiles)
    if isinstance(recovered, str):
        tally.skip(recovered)
        return
    try:
        replayed = replay(
            recovered.question, recovered.rulebooks.before, recovered.rulebooks.after, defaults
        )
    except ValueError:  # an unknown product class or action in an old row
        tally.skip(INPUTS_INVALID)
        return
    tally.add(
        source=record.source,
        key=record.key,
        at=record.at,
        product=record.product_class,
        replayed=replayed,
        approximate=recovered.approximate,
        recorded_effect=record.recorded_effect,
    )


def measure_chunk(
    impact_id: int, *, chunk: int = CHUNK, inputs: Inputs | None = None
) -> tuple[int, bool]:
    """One step: count the window (the first step), or replay the next ``chunk`` decisions;
    returns (decisions replayed or skipped, finished)."""
    impact = RuleImpact.objects.select_related("draft").filter(pk=impact_id).first()
    if impact is None or impact.status != RUNNING:
        return 0, True
    sources, now = _sources(), clock.now()
    if impact.total is None:
        return 0, _count(impact, sources, now)
    by_name = {source.name: source for source in sources}
    source = by_name.get(impact.cursor_source)
    records: list[RecordedDecision] = []
    if source is not None:
        window = (impact.window_start, impact.window_end)
        records = list(source.read(*window, impact.cursor_after, chunk))
    tally = Tally(impact.result)
    if records:
        inputs = inputs or inputs_for(impact.draft)
        profiles, defaults = inputs.profiles(records), signal_defaults()
        for record in records:
            _replay_into(tally, inputs, record, profiles, defaults)
    if len(records) == chunk:
        cursor_source, cursor_after = impact.cursor_source, records[-1].position
    else:
        cursor_source, cursor_after = _after(impact.cursor_source, sources), 0
    finished = not cursor_source
    fields = {
        "cursor_source": cursor_source,
        "cursor_after": cursor_after,
        "processed": F("processed") + len(records),
        "result": tally.as_json(),
        "progressed_at": now,
    }
    if finished:
        fields.update(status=DONE, finished_at=now, total=impact.processed + len(records))
    saved = RuleImpact.objects.filter(
        pk=impact.pk,
        status=RUNNING,
        cursor_source=impact.cursor_source,
        cursor_after=impact.cursor_after,
    ).update(**fields)
    if not saved:  # another run saved this chunk first: it is theirs, counted once
        return 0, False
    return len(records), finished


def fail(impact_id: int, message: str) -> None:
    RuleImpact.objects.filter(pk=impact_id, status=RUNNING).update(
        status=FAILED, error=message[:2000], finished_at=clock.now()
    )


def measure(impact_id: int, *, max_seconds: float, chunk: int = CHUNK) -> tuple[int, bool]:
    """Steps until done or ``max_seconds`` have passed; returns (decisions, finished). An
    error fails the measurement, saying why, rather than leaving it running for ever."""
    started, replayed = time.monotonic(), 0
    impact = RuleImpact.objects.select_related("draft").filter(pk=impact_id).first()
    if impact is None or impact.status != RUNNING:
        return 0, True
    try:
        inputs = inputs_for(impact.draft)
        while True:
            count, finished = measure_chunk(impact_id, chunk=chunk, inputs=inputs)
            replayed += count
            if finished or time.monotonic() - started >= max_seconds:
                return replayed, finished
    except Exception as error:
        logger.exception("rule impact %s failed", impact_id)
        fail(impact_id, f"{type(error).__name__}: {error}")
        return replayed, True

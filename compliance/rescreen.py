"""Re-screening every account against a newly loaded list version (issue 15).

Chunked, resumable and idempotent: accounts are taken in ``account_id`` order after the
version's ``rescreen_cursor``, which is saved after each chunk, so a worker that dies
resumes where the last committed chunk ended; screening an account twice opens no second
case. An account is written only when something is to be done — a possible match, or a
status that is not ``clear`` to recompute — so a re-screen of a mostly clean book costs the
matcher and one read per chunk, not a transaction per account. Nothing is released: a new
version only opens cases (``compliance.screening_cases``).

A re-screen of an older version stops when a newer one is loaded: the newer version's own
re-screen covers every account. An officer may also re-screen every account against the
list in force from the console (``screen_accounts``, the same chunk with a cursor of the
caller's own: the version's cursor records the version's re-screen only).
"""

from __future__ import annotations

import time

from compliance import sanctions, screening_cases, services
from compliance.models import AccountProfile, SanctionsListVersion
from core import clock

ACTOR = "system:rescreen"
CHUNK = 1000


def rescreen_chunk(version_id: int, *, chunk: int = CHUNK) -> tuple[int, bool]:
    """Re-screen the next ``chunk`` accounts; returns (accounts screened, finished)."""
    version = SanctionsListVersion.objects.defer("files").get(pk=version_id)
    if version.rescreen_done_at is not None:
        return 0, True
    lists = sanctions.loaded(version.source)
    if lists.version_id != version.pk:
        _finish(version)
        return 0, True
    count, last = screen_accounts(lists, after=version.rescreen_cursor, chunk=chunk)
    if last is not None:
        SanctionsListVersion.objects.filter(pk=version.pk).update(rescreen_cursor=last)
    if count < chunk:
        _finish(version)
        return count, True
    return count, False


def screen_accounts(
    lists: sanctions.LoadedList, *, after: str, chunk: int = CHUNK, actor: str = ACTOR
) -> tuple[int, str | None]:
    """Screen the next ``chunk`` accounts after ``after`` (in ``account_id`` order) against
    ``lists``; returns (accounts screened, the last one's id, None when there was none)."""
    rows = list(
        AccountProfile.objects.filter(account_id__gt=after)
        .order_by("account_id")
        .values("account_id", "sanctions_status", *services.PROFILE_FIELDS)[:chunk]
    )
    for row in rows:
        if row["sanctions_status"] != screening_cases.CLEAR or _has_matches(lists, row):
            services.rescreen_account(row["account_id"], actor=actor)
    return len(rows), (rows[-1]["account_id"] if rows else None)


def _has_matches(lists, facts: dict) -> bool:
    return any(
        screening_cases.matches_of(lists, subject) for subject in screening_cases.subjects_of(facts)
    )


def _finish(version: SanctionsListVersion) -> None:
    """Mark the re-screen done (or superseded: a newer version's re-screen covers all)."""
    SanctionsListVersion.objects.filter(pk=version.pk, rescreen_done_at=None).update(
        rescreen_done_at=clock.now()
    )


def rescreen(version_id: int, *, max_seconds: float, chunk: int = CHUNK) -> tuple[int, bool]:
    """Chunks until done or ``max_seconds`` have passed; returns (screened, finished)."""
    started, screened = time.monotonic(), 0
    while True:
        count, finished = rescreen_chunk(version_id, chunk=chunk)
        screened += count
        if finished or time.monotonic() - started >= max_seconds:
            return screened, finished

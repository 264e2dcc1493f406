"""Signed, versioned, reproducible regulatory reports.

A report is a kind (``daily``) and a period (a UTC date). Generating it runs every
registered section (``report_sections``), writes a CSV and a JSON file per section, a
``manifest.json`` naming each file with its SHA-256 and size, and ``manifest.sig``, the
service's Ed25519 signature over the manifest's exact bytes — so an auditor holding only our
public key can check every byte. Files live in the reports storage (``oversight.storage``:
``VAR_DIR/reports`` by default, a shared object store when several hosts serve) under
``<kind>/<period>/v<N>/``.

Regenerating a period makes version N+1 and keeps N. Versions are allocated by the unique
(kind, period, version) constraint: a generator inserts its row first and only then writes
the files, so of two generators racing for the same version one waits on the constraint
and moves to the next version (or, when it only wanted the report to exist, returns the
winner's). Files left by a generator that died before committing have no row (nothing
serves them); the next holder of that version number replaces them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from core import audit, signing
from core.errors import Conflict, NotFound, ValidationFailed
from oversight import report_files, storage
from oversight.models import REPORT_KINDS, Report, ReportFile
from oversight.report_files import MANIFEST, SIGNATURE, RenderedFile
from oversight.sections import sections_for

PERIOD_LENGTH = {"daily": timedelta(days=1)}
DEFAULT_GRACE = timedelta(minutes=5)
"""How long after a period ends the scheduled catch-up waits before reporting it, so the
decisions still in the Redis stream (drained every second) are in the database."""


def reports_root() -> Path:
    """Where the default (local) reports storage keeps its files."""
    return Path(settings.VAR_DIR) / "reports"


def period_bounds(kind: str, period: date) -> tuple[datetime, datetime]:
    """[start, end) of the period in UTC."""
    start = datetime.combine(period, time(0), tzinfo=UTC)
    return start, start + PERIOD_LENGTH[kind]


def _validate(kind: str, period: date, now: datetime) -> None:
    if kind not in REPORT_KINDS:
        raise ValidationFailed(
            f"kind: no report kind {kind!r}",
            fields={"kind": [f"One of {', '.join(REPORT_KINDS)}."]},
        )
    if period_bounds(kind, period)[1] > now:
        raise ValidationFailed(
            f"period: {period} is not over yet",
            fields={"period": ["Only a period that has ended can be reported."]},
        )


Progress = Callable[[int, int, str], None]
"""``progress(done, total, stage)``: told before each section (the console shows it)."""


def render_sections(
    *, kind: str, period: date, progress: Progress | None = None
) -> list[RenderedFile]:
    """Every section's files, in memory (sections return aggregates, so this is small)."""
    start, end = period_bounds(kind, period)
    files: list[RenderedFile] = []
    sections = list(sections_for(kind))
    for done, section in enumerate(sections):
        if progress is not None:
            progress(done, len(sections), f"section {section.name}")
        columns, rows = section.fn(start, end)
        files += report_files.section_files(
            kind=kind, period=period, section=section.name, columns=columns, rows=rows
        )
    return files


def latest_report(kind: str, period: date) -> Report | None:
    return Report.objects.filter(kind=kind, period=period).order_by("-version").first()


def _write(report: Report, files: list[RenderedFile], now: datetime) -> None:
    """Write the directory and sign it; runs while this generator holds the version row."""
    start, end = period_bounds(report.kind, report.period)
    signer = signing.get_signer()
    manifest = report_files.manifest_bytes(
        kind=report.kind,
        period=report.period,
        period_start=start,
        period_end=end,
        version=report.version,
        generated_at=now,
        generated_by=report.generated_by,
        key_id=signer.key_id,
        files=files,
    )
    signature = signer.sign(manifest)
    written = [
        *files,
        RenderedFile(MANIFEST, "", report_files.JSON_TYPE, manifest),
        RenderedFile(
            SIGNATURE,
            "",
            report_files.JSON_TYPE,
            report_files.signature_bytes(
                key_id=signature.key_id, signature_hex=signature.signature_hex
            ),
        ),
    ]
    store = storage.reports_storage()
    for name in storage.names_in(store, report.directory):  # a dead generator's leftovers
        store.delete(f"{report.directory}/{name}")
    for rendered in written:
        storage.write(store, f"{report.directory}/{rendered.name}", rendered.content)
    ReportFile.objects.bulk_create(
        ReportFile(
            report=report,
            name=f.name,
            section=f.section,
            media_type=f.media_type,
            sha256=f.sha256,
            size=f.size,
        )
        for f in written
    )
    report.manifest_sha256 = written[-2].sha256
    report.key_id, report.signature = signature.key_id, signature.signature_hex
    report.save(update_fields=["manifest_sha256", "key_id", "signature"])


def generate_report(
    *,
    kind: str,
    period: date,
    generated_by: str,
    now: datetime,
    only_if_missing: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Generate the next version of a period's report (or, with ``only_if_missing``, the
    first one unless any version exists) and record it in the audit chain."""
    _validate(kind, period, now)
    if only_if_missing and (existing := latest_report(kind, period)) is not None:
        return existing
    files = render_sections(kind=kind, period=period, progress=progress)
    for _ in range(5):
        try:
            with transaction.atomic():
                if only_if_missing:
                    # Always version 1: reading "none yet" and then the highest version are
                    # two statements, and a rival may commit between them.
                    if (existing := latest_report(kind, period)) is not None:
                        return existing
                    version = 1
                else:
                    last = Report.objects.filter(kind=kind, period=period).aggregate(Max("version"))
                    version = (last["version__max"] or 0) + 1
                report = Report.objects.create(
                    kind=kind,
                    period=period,
                    version=version,
                    generated_at=now,
                    generated_by=generated_by,
                    directory=f"{kind}/{period.isoformat()}/v{version}",
                    manifest_sha256="",
                    key_id="",
                    signature="",
                )
                _write(report, files, now)
                audit.record(
                    actor=generated_by,
                    action="report.generate",
                    object_type="report",
                    object_id=str(report.pk),
                    after={
                        "kind": kind,
                        "period": period.isoformat(),
                        "version": version,
                        "manifest_sha256": report.manifest_sha256,
                        "key_id": report.key_id,
                    },
                )
            return report
        except IntegrityError:
            if only_if_missing and (existing := latest_report(kind, period)) is not None:
                return existing
    raise Conflict(f"could not allocate a version for the {kind} report of {period}")


def previous_period(kind: str, now: datetime, grace: timedelta = DEFAULT_GRACE) -> date:
    """The latest period that ended at least ``grace`` ago."""
    return (now - grace).astimezone(UTC).date() - PERIOD_LENGTH[kind]


def ensure_report(*, kind: str, period: date | None, now: datetime) -> Report:
    """The scheduled catch-up: make sure a report exists for the period (by default the
    last one that has ended); never a second version. Safe to run any number of times."""
    return generate_report(
        kind=kind,
        period=period or previous_period(kind, now),
        generated_by="system:schedule",
        now=now,
        only_if_missing=True,
    )


def list_reports(*, kind: str | None = None, period: date | None = None):
    reports = Report.objects.all()
    if kind:
        reports = reports.filter(kind=kind)
    if period:
        reports = reports.filter(period=period)
    return reports.order_by("-generated_at", "-id")


def get_report(report_id: int) -> Report:
    report = Report.objects.prefetch_related("files").filter(pk=report_id).first()
    if report is None:
        raise NotFound(f"no report {report_id}")
    return report


def report_file(report: Report, name: str):
    """A file of a report, opened from the reports storage; only names the report recorded
    are served. Returns (the recorded file, an open binary file)."""
    recorded = report.files.filter(name=name).first()
    if recorded is None:
        raise NotFound(f"report {report.pk} has no file {name!r}")
    try:
        handle = storage.reports_storage().open(f"{report.directory}/{recorded.name}", "rb")
    except FileNotFoundError:
        raise NotFound(f"report {report.pk}: {name} is missing from storage") from None
    return recorded, handle

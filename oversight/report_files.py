"""The bytes of a report: deterministic CSV and JSON per section, the manifest, its signature.

Reproducibility is the point: regenerating a period from the same data must give the same
section files byte for byte, so an auditor can regenerate and compare digests. Hence rows
are sorted, columns keep their declared order, numbers are written as strings (a Decimal
never passes through a float, an int never grows an exponent), times are RFC 3339 UTC, and
nothing about the generation (time, version, host) is written into a section file — that
lives in the manifest only.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson

from core.clock import isoformat_z

FORMAT = "gatehouse-report/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SIGNATURE_ALGORITHM = "Ed25519"
CSV_TYPE = "text/csv"
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class RenderedFile:
    name: str
    section: str
    media_type: str
    content: bytes
    rows: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int:
        return len(self.content)


def render_value(value: object) -> str | bool | None:
    """One cell: strings for everything but booleans and missing values."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        raise TypeError("reports carry no floats: use Decimal or int")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("report times must be aware")
        return isoformat_z(value.astimezone(UTC))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _csv_cell(value: str | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _sort_key(row: Sequence[object]) -> tuple:
    return tuple((cell is None, cell if cell is not None else 0) for cell in row)


def sorted_rows(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> list[tuple]:
    """Rows in a fixed order: by their values, column by column (by their rendered text
    when a column mixes types that do not compare)."""
    checked = []
    for row in rows:
        row = tuple(row)
        if len(row) != len(columns):
            raise ValueError(f"a row has {len(row)} values for {len(columns)} columns")
        checked.append(row)
    try:
        return sorted(checked, key=_sort_key)
    except TypeError:
        return sorted(checked, key=lambda row: tuple(_csv_cell(render_value(c)) for c in row))


def render_csv(columns: Sequence[str], rows: Sequence[tuple]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(render_value(value)) for value in row])
    return buffer.getvalue().encode()


def render_json(
    *, kind: str, period: date, section: str, columns: Sequence[str], rows: Sequence[tuple]
) -> bytes:
    document = {
        "format": FORMAT,
        "kind": kind,
        "period": period.isoformat(),
        "section": section,
        "columns": list(columns),
        "rows": [
            {name: render_value(value) for name, value in zip(columns, row, strict=True)}
            for row in rows
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def section_files(
    *, kind: str, period: date, section: str, columns: Sequence[str], rows: Iterable[Sequence]
) -> list[RenderedFile]:
    ordered = sorted_rows(columns, rows)
    return [
        RenderedFile(
            f"{section}.csv", section, CSV_TYPE, render_csv(columns, ordered), len(ordered)
        ),
        RenderedFile(
            f"{section}.json",
            section,
            JSON_TYPE,
            render_json(kind=kind, period=period, section=section, columns=columns, rows=ordered),
            len(ordered),
        ),
    ]


def manifest_bytes(
    *,
    kind: str,
    period: date,
    period_start: datetime,
    period_end: datetime,
    version: int,
    generated_at: datetime,
    generated_by: str,
    key_id: str,
    files: Sequence[RenderedFile],
) -> bytes:
    """The manifest names every file with its SHA-256 and size; signing it signs them all."""
    document = {
        "format": FORMAT,
        "kind": kind,
        "period": period.isoformat(),
        "period_start": isoformat_z(period_start),
        "period_end": isoformat_z(period_end),
        "version": version,
        "generated_at": isoformat_z(generated_at),
        "generated_by": generated_by,
        "key_id": key_id,
        "signature_algorithm": SIGNATURE_ALGORITHM,
        "signature_file": SIGNATURE,
        "files": [
            {
                "name": f.name,
                "section": f.section,
                "media_type": f.media_type,
                "rows": f.rows,
                "size": f.size,
                "sha256": f.sha256,
            }
            for f in sorted(files, key=lambda f: f.name)
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def signature_bytes(*, key_id: str, signature_hex: str) -> bytes:
    """``manifest.sig``: the Ed25519 signature over the exact bytes of ``manifest.json``."""
    document = {
        "algorithm": SIGNATURE_ALGORITHM,
        "key_id": key_id,
        "signed_file": MANIFEST,
        "signature": signature_hex,
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"

"""Checking a report the way an auditor would: from the files and a trusted public key.

``verify_directory`` needs nothing of ours but the directory and the key: the signature in
``manifest.sig`` must verify over the exact bytes of ``manifest.json`` under a trusted key,
and every file the manifest names must have its digest and size; a file the manifest does
not name is a problem too. ``verify_report`` adds what the database recorded, so an edited
record is caught as well as an edited file. Every problem names the file it is about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core import signing
from oversight import storage
from oversight.models import Report
from oversight.report_files import FORMAT, MANIFEST, SIGNATURE


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    key_id: str | None = None


def _trusted(public_keys: list[Ed25519PublicKey] | None) -> dict[str, Ed25519PublicKey]:
    keys = public_keys or [signing.get_signer().public_key]
    return {signing.key_id_for(key): key for key in keys}


class _Files:
    """The files of one report, from a local directory or from the reports storage."""

    def __init__(self, read: Callable[[str], bytes | None], names: Callable[[], list[str]]):
        self.read, self.names = read, names

    @classmethod
    def of_directory(cls, directory: Path) -> _Files:
        def read(name: str) -> bytes | None:
            path = directory / name
            return path.read_bytes() if path.is_file() else None

        return cls(read, lambda: [p.name for p in directory.iterdir() if p.is_file()])

    @classmethod
    def of_storage(cls, directory: str) -> _Files:
        store = storage.reports_storage()
        return cls(
            lambda name: storage.read(store, f"{directory}/{name}"),
            lambda: storage.names_in(store, directory),
        )


def _check_signature(
    files: _Files, manifest: bytes, trusted: dict[str, Ed25519PublicKey]
) -> tuple[list[str], str | None]:
    raw = files.read(SIGNATURE)
    if raw is None:
        return [f"{SIGNATURE}: missing"], None
    try:
        sig = orjson.loads(raw)
        key_id, signature_hex = str(sig["key_id"]), str(sig["signature"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return [f"{SIGNATURE}: not a signature file"], None
    key = trusted.get(key_id)
    if key is None:
        return [f"{SIGNATURE}: signed by key {key_id}, which is not trusted"], key_id
    if not signing.verify(key, manifest, signature_hex):
        return [f"{SIGNATURE}: the signature does not match {MANIFEST}"], key_id
    return [], key_id


def verify_directory(
    directory: Path, *, public_keys: list[Ed25519PublicKey] | None = None
) -> tuple[Verification, dict | None]:
    """Verify a report directory; also returns the parsed manifest (None if unreadable)."""
    return _verify(_Files.of_directory(directory), public_keys)


def _verify(
    files: _Files, public_keys: list[Ed25519PublicKey] | None
) -> tuple[Verification, dict | None]:
    manifest_bytes = files.read(MANIFEST)
    if manifest_bytes is None:
        return Verification(False, [f"{MANIFEST}: missing"]), None
    try:
        manifest = orjson.loads(manifest_bytes)
    except orjson.JSONDecodeError:
        return Verification(False, [f"{MANIFEST}: not JSON"]), None
    problems, key_id = _check_signature(files, manifest_bytes, _trusted(public_keys))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return Verification(False, [*problems, f"{MANIFEST}: not a {FORMAT} manifest"]), None
    listed = set()
    for entry in manifest.get("files", []):
        name = str(entry.get("name", ""))
        listed.add(name)
        content = files.read(name) if Path(name).name == name else None
        if content is None:
            problems.append(f"{name}: missing")
            continue
        if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 does not match the manifest (the file was altered)")
        elif len(content) != entry.get("size"):
            problems.append(f"{name}: size does not match the manifest")
    extra = sorted(name for name in files.names() if name not in listed | {MANIFEST, SIGNATURE})
    problems += [f"{name}: not named in the manifest" for name in extra]
    return Verification(not problems, problems, len(listed), key_id), manifest


def verify_report(
    report: Report, *, public_keys: list[Ed25519PublicKey] | None = None
) -> Verification:
    """Verify a generated report's files (in the reports storage) and that they are the ones
    the database records."""
    files = _Files.of_storage(report.directory)
    if not files.names():
        return Verification(False, [f"{report.directory}: directory missing"])
    result, manifest = _verify(files, public_keys)
    problems = list(result.problems)
    if manifest is not None:
        expected = {"kind": report.kind, "period": report.period.isoformat()}
        expected["version"] = report.version
        for name, value in expected.items():
            if manifest.get(name) != value:
                problems.append(f"{MANIFEST}: {name} is {manifest.get(name)!r}, not {value!r}")
    recorded = {f.name: f.sha256 for f in report.files.all()}
    for name, digest in sorted(recorded.items()):
        content = files.read(name)
        if content is not None and hashlib.sha256(content).hexdigest() != digest:
            message = f"{name}: SHA-256 does not match the digest recorded at generation"
            if not any(p.startswith(f"{name}:") for p in problems):
                problems.append(message)
    return Verification(not problems, problems, result.files_checked, result.key_id)

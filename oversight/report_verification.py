"""Checking a report the way an auditor would: from the files and a trusted public key.

``verify_directory`` needs nothing of ours but the directory and the key: the signature in
``manifest.sig`` must verify over the exact bytes of ``manifest.json`` under a trusted key,
and every file the manifest names must have its digest and size; a file the manifest does
not name is a problem too. ``verify_report`` adds what the database recorded, so an edited
record is caught as well as an edited file. Every problem names the file it is about.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core import signing
from oversight.models import Report
from oversight.report_files import FORMAT, MANIFEST, SIGNATURE
from oversight.reports import reports_root


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    key_id: str | None = None


def _trusted(public_keys: list[Ed25519PublicKey] | None) -> dict[str, Ed25519PublicKey]:
    keys = public_keys or [signing.get_signer().public_key]
    return {signing.key_id_for(key): key for key in keys}


def _check_signature(
    directory: Path, manifest: bytes, trusted: dict[str, Ed25519PublicKey]
) -> tuple[list[str], str | None]:
    try:
        sig = orjson.loads((directory / SIGNATURE).read_bytes())
        key_id, signature_hex = str(sig["key_id"]), str(sig["signature"])
    except FileNotFoundError:
        return [f"{SIGNATURE}: missing"], None
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
    try:
        manifest_bytes = (directory / MANIFEST).read_bytes()
        manifest = orjson.loads(manifest_bytes)
    except FileNotFoundError:
        return Verification(False, [f"{MANIFEST}: missing"]), None
    except orjson.JSONDecodeError:
        return Verification(False, [f"{MANIFEST}: not JSON"]), None
    problems, key_id = _check_signature(directory, manifest_bytes, _trusted(public_keys))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return Verification(False, [*problems, f"{MANIFEST}: not a {FORMAT} manifest"]), None
    listed = set()
    for entry in manifest.get("files", []):
        name = str(entry.get("name", ""))
        listed.add(name)
        path = directory / name
        if Path(name).name != name or not path.is_file():
            problems.append(f"{name}: missing")
            continue
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 does not match the manifest (the file was altered)")
        elif len(content) != entry.get("size"):
            problems.append(f"{name}: size does not match the manifest")
    extra = sorted(
        p.name for p in directory.iterdir() if p.name not in listed | {MANIFEST, SIGNATURE}
    )
    problems += [f"{name}: not named in the manifest" for name in extra]
    return Verification(not problems, problems, len(listed), key_id), manifest


def verify_report(
    report: Report, *, public_keys: list[Ed25519PublicKey] | None = None
) -> Verification:
    """Verify a generated report's directory and that it is the one the database records."""
    directory = reports_root() / report.directory
    if not directory.is_dir():
        return Verification(False, [f"{report.directory}: directory missing"])
    result, manifest = verify_directory(directory, public_keys=public_keys)
    problems = list(result.problems)
    if manifest is not None:
        expected = {"kind": report.kind, "period": report.period.isoformat()}
        expected["version"] = report.version
        for name, value in expected.items():
            if manifest.get(name) != value:
                problems.append(f"{MANIFEST}: {name} is {manifest.get(name)!r}, not {value!r}")
    recorded = {f.name: f.sha256 for f in report.files.all()}
    for name, digest in sorted(recorded.items()):
        path = directory / name
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            message = f"{name}: SHA-256 does not match the digest recorded at generation"
            if not any(p.startswith(f"{name}:") for p in problems):
                problems.append(message)
    return Verification(not problems, problems, result.files_checked, result.key_id)

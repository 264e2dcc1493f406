"""Sanctions lists in the database and in this process: loading a list version, its
differences from the previous one, the index every process screens with, and screening a
name or chain addresses against it (API.md, "Screening").

The matching itself is pure (``compliance.screening``); this module is its shell:

* A **list version** (``SanctionsListVersion``) stores the files exactly as they were loaded,
  compressed, with their SHA-256 digests. Every process builds its index from the latest
  version in the database, so all workers screen against the same list, and a past case
  names the version it was raised under. A file that does not parse whole is refused
  (``ListFormatError``) before anything is written: the version in force stays in force.
* Each load stores its differences from the version before it (entries added, removed or
  changed; addresses added or removed). A delisted address stops matching from the version
  that no longer holds it.
* ``loaded()`` is the index of the latest version, built once per process and rebuilt when
  a newer version is loaded (one indexed query per call: screening is a write-path and
  console concern, never the pre-trade hot path, which reads the account's status).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import tempfile
import threading
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max

from compliance.models import SanctionsListChange, SanctionsListVersion
from compliance.screening import addresses as address_matching
from compliance.screening import names as name_matching
from compliance.screening.sdn import (
    SDN_FILES,
    Entry,
    ListFormatError,
    SdnList,
    load_address_dir,
    load_sdn_dir,
)
from core import audit, clock

logger = logging.getLogger("gatehouse.screening")

SOURCE = "ofac_sdn"
DATA = Path(__file__).resolve().parent / "screening" / "data"
SHIPPED_SDN_DIR = DATA / "ofac-sdn-2021-07"
SHIPPED_ADDRESSES_DIR = DATA / "ofac-addresses-2024-09-27"
SHIPPED_PUBLISHED_ON = date(2021, 7, 7)
"""The shipped snapshot's date, as the contract's example names it (OFAC's July 2021 list)."""
SHIPPED_ADDRESSES_AS_OF = date(2024, 9, 27)

CLEAR, POTENTIAL_MATCH, MATCH = "clear", "potential_match", "match"
_RESULT_RANK = {CLEAR: 0, POTENTIAL_MATCH: 1, MATCH: 2}
_SDN_PREFIX, _ADDRESS_PREFIX = "sdn/", "addresses/"


class ScreeningUnavailable(Exception):
    """No sanctions list is loaded: nothing can be screened (the caller fails closed)."""


@dataclass(frozen=True, slots=True)
class LoadedList:
    """One list version as this process screens with it."""

    version_id: int
    label: str
    source: str
    sdn: SdnList
    names: name_matching.NameIndex
    addresses: address_matching.AddressIndex

    def entry(self, ent_num: int | None) -> Entry | None:
        return None if ent_num is None else self.sdn.by_ent_num.get(ent_num)


# --- Files in, files out -----------------------------------------------------------------


def read_files(sdn_dir: Path, addresses_dir: Path | None) -> dict[str, bytes]:
    """The files of one load, named as they are stored (``sdn/...``, ``addresses/...``)."""
    files = {}
    for name in SDN_FILES:
        path = Path(sdn_dir) / name
        if not path.is_file():
            raise ListFormatError(f"{name}: missing from {sdn_dir}")
        files[_SDN_PREFIX + name] = path.read_bytes()
    if addresses_dir is not None:
        directory = Path(addresses_dir)
        if not directory.is_dir():
            raise ListFormatError(f"{directory}: not a directory of address lists")
        for path in sorted(directory.glob("sanctioned_addresses_*.json")):
            files[_ADDRESS_PREFIX + path.name] = path.read_bytes()
    return files


def _pack(files: dict[str, bytes]) -> bytes:
    encoded = {name: base64.b64encode(data).decode("ascii") for name, data in files.items()}
    return zlib.compress(json.dumps(encoded, sort_keys=True).encode("ascii"), 6)


def _unpack(blob: bytes) -> dict[str, bytes]:
    encoded = json.loads(zlib.decompress(bytes(blob)))
    return {name: base64.b64decode(data) for name, data in encoded.items()}


@dataclass(frozen=True, slots=True)
class ParsedList:
    sdn: SdnList
    address_lists: dict[str, tuple[str, ...]]
    digest: str

    def address_triples(self) -> list[tuple[str, str, int | None]]:
        triples: list[tuple[str, str, int | None]] = list(self.sdn.address_triples())
        for asset, listed in self.address_lists.items():
            triples.extend((asset, address, None) for address in listed)
        return triples


_parsed_cache: dict[str, ParsedList] = {}
_parsed_lock = threading.Lock()


PARSED_KEPT = 2
"""Parsed lists kept per process: the version screened with and the one before it (a load
parses the previous version to compute its differences; keeping both means neither is
parsed twice)."""


def _files_key(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def parse_files(files: dict[str, bytes]) -> ParsedList:
    """Parse a load's files (in a scratch directory, through the pure parsers). Parsed
    lists are kept per content digest: the same files parse once per process."""
    key = _files_key(files)
    with _parsed_lock:
        if key in _parsed_cache:
            return _parsed_cache[key]
    with tempfile.TemporaryDirectory(prefix="gatehouse-sanctions-") as scratch:
        root = Path(scratch)
        (root / "sdn").mkdir()
        (root / "addresses").mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        sdn = load_sdn_dir(root / "sdn")
        has_addresses = any(name.startswith(_ADDRESS_PREFIX) for name in files)
        lists = load_address_dir(root / "addresses") if has_addresses else {}
    digest = hashlib.sha256(
        json.dumps(
            [sdn.digest, {asset: sorted(found) for asset, found in lists.items()}],
            sort_keys=True,
        ).encode()
    ).hexdigest()
    parsed = ParsedList(sdn=sdn, address_lists=lists, digest=digest)
    with _parsed_lock:
        _parsed_cache[key] = parsed
        while len(_parsed_cache) > PARSED_KEPT:  # oldest first (dicts keep insertion order)
            del _parsed_cache[next(iter(_parsed_cache))]
    return parsed


# --- Loading a version -------------------------------------------------------------------


def _normalised_addresses(parsed: ParsedList) -> dict[str, str]:
    """Normalised address -> the asset it is first listed under."""
    found: dict[str, str] = {}
    for asset, address, _ in parsed.address_triples():
        found.setdefault(address_matching.normalise_address(asset, address), asset)
    return found


def _differences(previous: ParsedList | None, current: ParsedList) -> list[SanctionsListChange]:
    before = {} if previous is None else dict(previous.sdn.by_ent_num)
    after = dict(current.sdn.by_ent_num)
    changes = []
    for ent_num in sorted(after.keys() - before.keys()):
        changes.append(SanctionsListChange(kind="entry_added", entry_id=ent_num))
    for ent_num in sorted(before.keys() - after.keys()):
        changes.append(SanctionsListChange(kind="entry_removed", entry_id=ent_num))
    for ent_num in sorted(after.keys() & before.keys()):
        if after[ent_num] != before[ent_num]:
            changes.append(SanctionsListChange(kind="entry_changed", entry_id=ent_num))
    for change in changes:
        entry = after.get(change.entry_id) or before[change.entry_id]
        change.name = entry.name[:400]
    old = {} if previous is None else _normalised_addresses(previous)
    new = _normalised_addresses(current)
    for address in sorted(new.keys() - old.keys()):
        changes.append(
            SanctionsListChange(kind="address_added", address=address, asset=new[address])
        )
    for address in sorted(old.keys() - new.keys()):
        changes.append(
            SanctionsListChange(kind="address_removed", address=address, asset=old[address])
        )
    return changes


def load_version(
    *,
    sdn_dir: Path,
    addresses_dir: Path | None,
    published_on: date,
    addresses_as_of: date | None = None,
    actor: str,
    source: str = SOURCE,
) -> tuple[SanctionsListVersion, bool]:
    """Load a list version; returns (version, created). The same files with the same
    publication date as the latest version are not a new version. A malformed file raises
    ``ListFormatError`` before anything is written."""
    files = read_files(sdn_dir, addresses_dir)
    parsed = parse_files(files)
    with transaction.atomic():
        latest = (
            SanctionsListVersion.objects.select_for_update()
            .filter(source=source)
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.digest == parsed.digest:
            if latest.published_on == published_on:
                return latest, False
        previous = parse_files(_unpack(latest.files)) if latest is not None else None
        changes = _differences(previous, parsed)
        counts: dict[str, int] = {}
        for change in changes:
            counts[change.kind] = counts.get(change.kind, 0) + 1
        number = (
            SanctionsListVersion.objects.filter(source=source).aggregate(top=Max("version"))["top"]
            or 0
        ) + 1
        version = SanctionsListVersion.objects.create(
            source=source,
            version=number,
            published_on=published_on,
            addresses_as_of=addresses_as_of,
            loaded_at=clock.now(),
            loaded_by=actor,
            digest=parsed.digest,
            entry_count=len(parsed.sdn),
            alias_count=sum(len(entry.aliases) for entry in parsed.sdn.entries),
            address_count=len(_normalised_addresses(parsed)),
            files=_pack(files),
            file_digests={name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
            changes_summary=counts,
        )
        for change in changes:
            change.list_version = version
        SanctionsListChange.objects.bulk_create(changes, batch_size=2000)
        audit.record(
            actor=actor,
            action="sanctions.list.load",
            object_type="sanctions_list",
            object_id=version.label,
            before={"version": latest.label} if latest else None,
            after={"digest": parsed.digest, "entries": version.entry_count, **counts},
        )
    return version, True


def load_shipped(actor: str = "system:shipped-lists") -> tuple[SanctionsListVersion, bool]:
    """The lists the project ships (``compliance/screening/data``), for ``make run``."""
    return load_version(
        sdn_dir=SHIPPED_SDN_DIR,
        addresses_dir=SHIPPED_ADDRESSES_DIR,
        published_on=SHIPPED_PUBLISHED_ON,
        addresses_as_of=SHIPPED_ADDRESSES_AS_OF,
        actor=actor,
    )


# --- The index this process screens with -------------------------------------------------

_loaded: LoadedList | None = None
_loaded_lock = threading.Lock()


def latest_version_id(source: str = SOURCE) -> int | None:
    return (
        SanctionsListVersion.objects.filter(source=source)
        .order_by("-version")
        .values_list("pk", flat=True)
        .first()
    )


def loaded(source: str = SOURCE) -> LoadedList:
    """The index of the latest list version; ``ScreeningUnavailable`` when none is loaded."""
    global _loaded
    version_id = latest_version_id(source)
    if version_id is None:
        raise ScreeningUnavailable("no sanctions list is loaded")
    current = _loaded
    if current is not None and current.version_id == version_id:
        return current
    with _loaded_lock:
        if _loaded is not None and _loaded.version_id == version_id:
            return _loaded
        row = SanctionsListVersion.objects.get(pk=version_id)
        parsed = parse_files(_unpack(row.files))
        _loaded = LoadedList(
            version_id=row.pk,
            label=row.label,
            source=row.source,
            sdn=parsed.sdn,
            names=name_matching.NameIndex.build(parsed.sdn.entries),
            addresses=address_matching.AddressIndex(parsed.address_triples()),
        )
        logger.info("screening with %s (%d entries)", row.label, len(parsed.sdn))
        return _loaded


# --- Screening ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """One list entry a subject matched, in the contract's vocabulary."""

    entry_id: int | None
    name: str
    matched_on: str
    score: Decimal
    result: str
    programs: tuple[str, ...]
    asset: str = ""
    address: str = ""

    def as_contract(self, source: str) -> dict:
        found = {
            "list": source,
            "entry_id": None if self.entry_id is None else str(self.entry_id),
            "name": self.name,
            "matched_on": self.matched_on,
            "score": str(self.score),
            "programs": list(self.programs),
        }
        if self.address:
            found["asset"], found["address"] = self.asset, self.address
        return found


def _score(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def thresholds() -> name_matching.Thresholds:
    """The configured thresholds (settings ``SCREENING_*_THRESHOLD``); refused when the
    match threshold is below the potential-match one (every match would skip review)."""
    limits = name_matching.Thresholds(
        match=settings.SCREENING_MATCH_THRESHOLD,
        potential_match=settings.SCREENING_POTENTIAL_MATCH_THRESHOLD,
    )
    if not 0 < limits.potential_match <= limits.match <= 1:
        raise ImproperlyConfigured(
            "need 0 < SCREENING_POTENTIAL_MATCH_THRESHOLD <= SCREENING_MATCH_THRESHOLD <= 1"
        )
    return limits


def screen_name(
    lists: LoadedList,
    name: str,
    *,
    entity_type: str | None = None,
    date_of_birth: str | None = None,
    countries: Iterable[str] = (),
) -> list[Match]:
    """Every entry a name matches at or above the potential-match threshold, best first."""
    if not name or not name.strip():
        return []
    limits = thresholds()
    hits = lists.names.screen(
        name,
        entity_type=entity_type,
        date_of_birth=date_of_birth,
        countries=tuple(countries),
        floor=limits.potential_match,
    )
    found = []
    for hit in hits:
        entry = lists.entry(hit.ent_num)
        found.append(
            Match(
                entry_id=hit.ent_num,
                name=hit.name,
                matched_on=hit.matched_on,
                score=_score(hit.score),
                result=name_matching.classify(hit.score, limits),
                programs=entry.programs if entry else (),
            )
        )
    return found


def screen_address(lists: LoadedList, asset: str, address: str) -> list[Match]:
    """An exact match after the chain's normalisation: every listing of the address.
    Raises ValueError for an address that is not one (the caller answers 400)."""
    found = []
    for hit in lists.addresses.lookup(address, asset):
        entry = lists.entry(hit.entry_id)
        found.append(
            Match(
                entry_id=hit.entry_id,
                name=entry.name if entry else "(listed digital-currency address)",
                matched_on="address",
                score=Decimal("1.000"),
                result=MATCH,
                programs=entry.programs if entry else (),
                asset=hit.asset,
                address=hit.address,
            )
        )
    # one answer per entry (an address can be listed under several assets)
    return list({(m.entry_id, m.address): m for m in found}.values())


def overall(matches: Iterable[Match]) -> str:
    return max((m.result for m in matches), key=_RESULT_RANK.__getitem__, default=CLEAR)


def check(
    *,
    name: str | None = None,
    entity_type: str | None = None,
    date_of_birth: str | None = None,
    countries: Iterable[str] = (),
    addresses: Iterable[tuple[str, str]] = (),
    now: datetime | None = None,
) -> dict:
    """``POST /api/v1/screening/check``: screen without storing anything."""
    lists = loaded()
    matches = []
    if name:
        matches += screen_name(
            lists, name, entity_type=entity_type, date_of_birth=date_of_birth, countries=countries
        )
    for asset, address in addresses:
        matches += screen_address(lists, asset, address)
    matches.sort(key=lambda m: (-_RESULT_RANK[m.result], -m.score))
    return {
        "result": overall(matches),
        "matches": [m.as_contract(lists.source) for m in matches],
        "list_version": lists.label,
        "screened_at": (now or clock.now()).isoformat().replace("+00:00", "Z"),
    }


def entry_digest(entry: Entry | None) -> str:
    """What a cleared case remembers of the entry: a change to it re-flags the account."""
    if entry is None:
        return ""
    text = json.dumps(asdict(entry), sort_keys=True, default=sorted, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def versions() -> list[dict]:
    """``GET /api/v1/screening/lists``: every loaded version, newest first."""
    rows = SanctionsListVersion.objects.defer("files").order_by("source", "-version")
    return [
        {
            "list": row.source,
            "list_version": row.label,
            "version": row.version,
            "published_on": row.published_on.isoformat(),
            "addresses_as_of": row.addresses_as_of.isoformat() if row.addresses_as_of else None,
            "loaded_at": row.loaded_at.isoformat().replace("+00:00", "Z"),
            "loaded_by": row.loaded_by,
            "entries": row.entry_count,
            "aliases": row.alias_count,
            "addresses": row.address_count,
            "changes": row.changes_summary,
            "digest": row.digest,
            "in_force": index == 0,
        }
        for index, row in enumerate(rows)
    ]

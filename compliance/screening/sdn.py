"""OFAC's SDN list (its CSV form) and its digital-currency address lists, parsed and checked.

The CSV form (OFAC, "SDN List Data Formats"; ``data/README.md``): ``sdn.csv``, ``alt.csv``,
``add.csv`` and ``sdn_comments.csv``, no header row, text double-quoted, ``-0-`` (usually
with a trailing space) for an empty field, a DOS end-of-file byte (``\\x1a``) on a line of
its own at the end. The files are ASCII today but OFAC has shipped Windows-1252 before, so
each file is read as UTF-8 and, failing that, as cp1252.

Remarks longer than sdn.csv's column continue, mid-word, in ``sdn_comments.csv``: the two
are joined before the remarks are read. OFAC's strong aliases are the rows of ``alt.csv``;
its weak ("low quality") a.k.a.s appear only inside the remarks, quoted (``a.k.a. 'BNC'``).
In the July 2021 snapshot no quoted remark alias is also an ``alt.csv`` row and every
``alt_remarks`` is empty, so an alias is weak exactly when it comes from the remarks.

Fail closed: a list the gate cannot read whole is not a list it may screen against, so a
missing file, a row with the wrong number of fields, a bad ``ent_num``, an alias or address
pointing at an entry that does not exist, an empty list and invalid JSON all raise
``ListFormatError`` naming the file and the line, never a partial list.

Each loaded list has a digest, the SHA-256 of a canonical JSON serialisation of what was
parsed (not of the bytes: re-encoding a file or changing its line endings is not a new
version), so a loader can tell versions apart and record which one a decision used.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import pycountry

from compliance.screening.addresses import normalise_address

SDN_FILES = ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv")
SDN_TYPES = frozenset({"individual", "entity", "vessel", "aircraft"})
EMPTY_FIELD = "-0-"
CIRCA_YEARS = 2
"""``DOB circa 1965`` is read as 1963 to 1967: OFAC gives no width, two years is ours."""
LONGEST_DOB_RANGE = 30
"""A ``DOB 1950 to 1990`` wider than this is read as its two end years only."""

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_ITEM = re.compile(r"(?:alt\.\s+)?(DOB|POB|nationality|citizen)\s+(.+)", re.IGNORECASE)
_DIGITAL_CURRENCY = re.compile(
    r"(?:alt\.\s+)?Digital Currency Address\s*-\s*([A-Za-z0-9]+)\s+(\S+)", re.IGNORECASE
)
_WEAK_ALIAS = re.compile(r"([afn])\.k\.a\.,?\s+'(.*)'", re.IGNORECASE)
_DATE = re.compile(r"(?:(\d{1,2})\s+)?(?:([A-Za-z]{3})[a-z]*\.?\s+)?(\d{4})")
_YEAR_RANGE = re.compile(r"\d{4}-\d{4}")
_ADDRESS_FILE = re.compile(r"sanctioned_addresses_([A-Za-z0-9]+)\.json")


class ListFormatError(ValueError):
    """A list file that cannot be trusted as a whole; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name of an entry: ``alt_type`` is ``aka``, ``fka`` or ``nka``; a weak alias
    (quoted in the remarks, OFAC's "low quality a.k.a.") has no ``alt_num``."""

    alt_type: str
    name: str
    weak: bool = False
    alt_num: int | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A row of ``add.csv``; ``city`` is OFAC's "City/State/Province/Postal Code" column."""

    add_num: int
    address: str
    city: str
    country: str
    remarks: str = ""


@dataclass(frozen=True, slots=True)
class Vessel:
    """The vessel and aircraft columns of ``sdn.csv``, kept as OFAC writes them."""

    call_sign: str
    vessel_type: str
    tonnage: str
    gross_registered_tonnage: str
    flag: str
    owner: str


@dataclass(frozen=True, slots=True)
class Remarks:
    """What screening reads from an entry's remarks; the rest stays in ``Entry.remarks``.

    ``dobs`` are ISO 8601 (``1960-01-31``, ``1960-01``, ``1960``), a range as an interval
    (``1960/1962``) and ``circa`` as EDTF's approximate mark (``1965~``); text that is none
    of these is kept as written. ``dob_years`` are every year those allow."""

    dobs: tuple[str, ...] = ()
    dob_years: frozenset[int] = frozenset()
    pobs: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    citizenships: tuple[str, ...] = ()
    weak_aliases: tuple[Alias, ...] = ()
    digital_currency_addresses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    """One SDN entry with its aliases, addresses and the facts read from its remarks.

    ``country_codes`` are the ISO 3166-1 alpha-2 codes of every country the entry is tied
    to (nationality, citizenship, place of birth, addresses): what a query's country is
    compared with (``names.adjust``)."""

    ent_num: int
    name: str
    sdn_type: str
    programs: tuple[str, ...]
    title: str = ""
    remarks: str = ""
    aliases: tuple[Alias, ...] = ()
    addresses: tuple[Address, ...] = ()
    vessel: Vessel | None = None
    dobs: tuple[str, ...] = ()
    dob_years: frozenset[int] = frozenset()
    pobs: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    citizenships: tuple[str, ...] = ()
    country_codes: frozenset[str] = frozenset()
    digital_currency_addresses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SdnList:
    """A whole SDN list, entries in ``ent_num`` order, with its content digest."""

    entries: tuple[Entry, ...]
    digest: str = field(init=False)
    by_ent_num: Mapping[int, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entries = tuple(sorted(self.entries, key=lambda entry: entry.ent_num))
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "digest", sdn_digest(entries))
        object.__setattr__(
            self, "by_ent_num", MappingProxyType({entry.ent_num: entry for entry in entries})
        )

    def __len__(self) -> int:
        return len(self.entries)

    def address_triples(self) -> Iterator[tuple[str, str, int]]:
        """``(asset, address, ent_num)`` for every digital-currency address in the remarks,
        the shape ``addresses.AddressIndex`` is built from."""
        for entry in self.entries:
            for asset, address in entry.digital_currency_addresses:
                yield asset, address, entry.ent_num


def sdn_digest(entries: tuple[Entry, ...]) -> str:
    """SHA-256 of the entries as sorted-key JSON: equal lists, equal digests."""
    canonical = [asdict(entry) for entry in sorted(entries, key=lambda entry: entry.ent_num)]
    return _sha256_json(canonical)


def address_lists_digest(lists: Mapping[str, tuple[str, ...]]) -> str:
    """SHA-256 of the address lists as sorted JSON: order in a file is not a version."""
    return _sha256_json({asset: sorted(addresses) for asset, addresses in lists.items()})


def _sha256_json(value: object) -> str:
    text = json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=sorted
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_sdn_dir(path: str | Path) -> SdnList:
    """Parse the four CSV files of OFAC's SDN list in ``path`` into an ``SdnList``."""
    directory = Path(path)
    for name in SDN_FILES:
        if not (directory / name).is_file():
            raise ListFormatError(f"{name}: missing from {directory}")

    rows: dict[int, tuple[int, list[str]]] = {}
    for line, row in _rows(directory / "sdn.csv", 12):
        ent_num = _integer(row[0], "sdn.csv", line, "ent_num")
        if ent_num in rows:
            raise ListFormatError(f"sdn.csv, line {line}: ent_num {ent_num} is listed twice")
        rows[ent_num] = (line, row)
    if not rows:
        raise ListFormatError("sdn.csv: the list has no entries")

    aliases: dict[int, list[Alias]] = defaultdict(list)
    for line, row in _rows(directory / "alt.csv", 5):
        ent_num = _known(row[0], rows, "alt.csv", line)
        alt_type = row[2].lower() or "aka"
        if alt_type not in {"aka", "fka", "nka"}:
            raise ListFormatError(f"alt.csv, line {line}: unknown alt_type {row[2]!r}")
        if not row[3]:
            raise ListFormatError(f"alt.csv, line {line}: the alias has no name")
        alt_num = _integer(row[1], "alt.csv", line, "alt_num")
        aliases[ent_num].append(Alias(alt_type, row[3], weak=False, alt_num=alt_num))

    addresses: dict[int, list[Address]] = defaultdict(list)
    for line, row in _rows(directory / "add.csv", 6):
        ent_num = _known(row[0], rows, "add.csv", line)
        add_num = _integer(row[1], "add.csv", line, "add_num")
        addresses[ent_num].append(Address(add_num, row[2], row[3], row[4], row[5]))

    overflow: dict[int, str] = defaultdict(str)
    for line, row in _rows(directory / "sdn_comments.csv", 2, strip=False):
        overflow[_known(row[0], rows, "sdn_comments.csv", line)] += row[1]

    entries = []
    for ent_num, (line, row) in rows.items():
        remarks = (row[11] + overflow.get(ent_num, "")).strip()
        if remarks == EMPTY_FIELD:
            remarks = ""
        entries.append(_entry(ent_num, row, line, remarks, aliases[ent_num], addresses[ent_num]))
    return SdnList(tuple(entries))


def _entry(
    ent_num: int,
    row: list[str],
    line: int,
    remarks: str,
    aliases: list[Alias],
    addresses: list[Address],
) -> Entry:
    sdn_type = row[2].lower() or "entity"
    if sdn_type not in SDN_TYPES:
        raise ListFormatError(f"sdn.csv, line {line}: unknown SDN_Type {row[2]!r}")
    if not row[1]:
        raise ListFormatError(f"sdn.csv, line {line}: entry {ent_num} has no name")
    facts = read_remarks(remarks)
    vessel = Vessel(*row[5:11]) if any(row[5:11]) else None
    places = (
        *facts.nationalities,
        *facts.citizenships,
        *facts.pobs,
        *(address.country for address in addresses),
    )
    return Entry(
        ent_num=ent_num,
        name=row[1],
        sdn_type=sdn_type,
        programs=tuple(p.strip("[] ") for p in row[3].split("] [") if p.strip("[] ")),
        title=row[4],
        remarks=remarks,
        aliases=(*aliases, *facts.weak_aliases),
        addresses=tuple(addresses),
        vessel=vessel,
        dobs=facts.dobs,
        dob_years=facts.dob_years,
        pobs=facts.pobs,
        nationalities=facts.nationalities,
        citizenships=facts.citizenships,
        country_codes=frozenset(code for place in places for code in country_codes(place)),
        digital_currency_addresses=facts.digital_currency_addresses,
    )


def read_remarks(remarks: str) -> Remarks:
    """The DOBs, places of birth, nationalities, citizenships, weak aliases and
    digital-currency addresses in an entry's remarks (``;``-separated items)."""
    found: dict[str, list] = defaultdict(list)
    years: set[int] = set()
    body = remarks[:-1] if remarks.endswith(".") else remarks
    for item in (part.strip() for part in body.split(";")):
        if match := _WEAK_ALIAS.fullmatch(item):
            kind = match.group(1).lower() + "ka"
            name = match.group(2).strip()
            if name:
                found["weak_aliases"].append(Alias(kind, name, weak=True))
        elif match := _DIGITAL_CURRENCY.fullmatch(item):
            asset, address = match.group(1).upper(), match.group(2).rstrip(".,")
            found["digital_currency_addresses"].append((asset, address))
        elif match := _ITEM.fullmatch(item):
            kind, value = match.group(1).lower(), match.group(2).strip()
            if kind == "dob":
                text, allowed = read_dob(value)
                found["dobs"].append(text)
                years.update(allowed)
            else:
                key = {"pob": "pobs", "nationality": "nationalities"}.get(kind, "citizenships")
                found[key].append(value)
    return Remarks(
        dobs=tuple(found["dobs"]),
        dob_years=frozenset(years),
        pobs=tuple(found["pobs"]),
        nationalities=tuple(found["nationalities"]),
        citizenships=tuple(found["citizenships"]),
        weak_aliases=tuple(found["weak_aliases"]),
        digital_currency_addresses=tuple(dict.fromkeys(found["digital_currency_addresses"])),
    )


def read_dob(text: str) -> tuple[str, frozenset[int]]:
    """OFAC's DOB text as ISO 8601 and the years it allows: ``01 Jan 1960``, ``Jan 1960``,
    ``1960``, ``A to B`` ranges of any of those, ``1979-1982`` and ``circa`` any of these
    (``circa 1979-1982`` is one entry's)."""
    value = text.strip()
    if value.lower().startswith("circa "):
        inner, years = read_dob(value[6:])
        if not years:
            return value, years
        around = range(-CIRCA_YEARS, CIRCA_YEARS + 1)
        return f"{inner}~", frozenset(year + offset for year in years for offset in around)
    if " to " in value or _YEAR_RANGE.fullmatch(value):
        start, _, end = value.partition(" to ") if " to " in value else value.partition("-")
        first, last = _iso_date(start), _iso_date(end)
        if first is None or last is None:
            return value, _years_in(value)
        low, high = sorted((int(first[:4]), int(last[:4])))
        years = range(low, high + 1) if high - low <= LONGEST_DOB_RANGE else (low, high)
        return f"{first}/{last}", frozenset(years)
    single = _iso_date(value)
    if single is None:
        return value, _years_in(value)
    return single, frozenset({int(single[:4])})


def _iso_date(text: str) -> str | None:
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    day, month_name, year = match.groups()
    if month_name is None:
        return None if day else year
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    if day is None:
        return f"{year}-{month:02d}"
    return f"{year}-{month:02d}-{int(day):02d}"


def _years_in(text: str) -> frozenset[int]:
    return frozenset(int(year) for year in re.findall(r"\b(1[89]\d\d|20\d\d)\b", text))


_COUNTRY_NAMES = MappingProxyType(
    {
        "russia": ("RU",),
        "the russian federation": ("RU",),
        "ussr": ("RU",),
        "korea, north": ("KP",),
        "north korea": ("KP",),
        "korea, south": ("KR",),
        "south korea": ("KR",),
        "burma": ("MM",),
        "turkey": ("TR",),
        "bosnia-herzegovina": ("BA",),
        "congo, democratic republic of the": ("CD",),
        "democratic republic of the congo": ("CD",),
        "drc": ("CD",),
        "congo, republic of the": ("CG",),
        "palestinian": ("PS",),
        "palestine": ("PS",),
        "palestinian territories": ("PS",),
        "west bank": ("PS",),
        "gaza": ("PS",),
        "gaza strip": ("PS",),
        "the gambia": ("GM",),
        "macedonia": ("MK",),
        "kosovo": ("XK",),
        "xk": ("XK",),
        "cote d ivoire": ("CI",),
        "england": ("GB",),
        "uk": ("GB",),
        "the philippines": ("PH",),
        "serbia and montenegro": ("RS", "ME"),
        "macau": ("MO",),
        "dprk": ("KP",),
        "palestinian authority": ("PS",),
        "bahamas, the": ("BS",),
        "phillipines": ("PH",),
        "st kitts and nevis": ("KN",),
        "comoros islands": ("KM",),
        "bosnia": ("BA",),
        "bosina-herzegovina": ("BA",),
        "macedonia, the former yugoslav republic of": ("MK",),
        "crimea": ("UA",),
        "region: crimea": ("UA",),
    }
)
"""OFAC's spellings that ISO 3166 (``pycountry``) does not know. Kosovo has no ISO code:
``XK`` is the user-assigned code the European Commission and SWIFT use for it."""


@lru_cache(maxsize=4096)
def country_codes(place: str) -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes for a country name or code, or the country at the end of a
    place (``Culiacan, Sinaloa, Mexico``, ``Pyongyang, Korea, North``,
    ``Al-Madinah, (Medina) Saudi Arabia``); empty if none."""
    text = re.sub(r"\s+", " ", place.strip().rstrip(".")).strip()
    if not text:
        return frozenset()
    bare = re.sub(r"\s*\([^)]*\)", "", text).strip()
    parts = [part.strip() for part in bare.split(",") if part.strip()]
    inner = re.findall(r"\(([^)]*)\)", text)
    words = text.split()
    candidates = [text, bare, *inner]
    if len(parts) >= 2:
        candidates += [", ".join(parts[-2:]), parts[-1]]
    if len(words) >= 2:
        candidates.append(words[-1])
    for candidate in candidates:
        known = _COUNTRY_NAMES.get(candidate.lower())
        if known:
            return frozenset(known)
        try:
            return frozenset({pycountry.countries.lookup(candidate).alpha_2})
        except LookupError:
            continue
    return frozenset()


def load_address_dir(path: str | Path) -> dict[str, tuple[str, ...]]:
    """Parse every ``sanctioned_addresses_<ASSET>.json`` in ``path``: asset -> addresses.

    An empty array is refused like an empty SDN list: an exporter writes no file for an
    asset without addresses, so an empty one is more likely a broken export."""
    directory = Path(path)
    if not directory.is_dir():
        raise ListFormatError(f"{directory}: not a directory of address lists")
    lists: dict[str, tuple[str, ...]] = {}
    for file in sorted(directory.iterdir()):
        match = _ADDRESS_FILE.fullmatch(file.name)
        if match is None:
            continue
        asset = match.group(1).upper()
        lists[asset] = _address_file(file, asset)
    if not lists:
        raise ListFormatError(f"{directory}: no sanctioned_addresses_<ASSET>.json files")
    return lists


def _address_file(file: Path, asset: str) -> tuple[str, ...]:
    try:
        addresses = json.loads(_decode(file))
    except json.JSONDecodeError as error:
        raise ListFormatError(
            f"{file.name}, line {error.lineno}: invalid JSON ({error.msg})"
        ) from error
    if not isinstance(addresses, list):
        raise ListFormatError(f"{file.name}, line 1: expected a JSON array of addresses")
    if not addresses:
        raise ListFormatError(f"{file.name}, line 1: the list has no addresses")
    for number, address in enumerate(addresses, start=1):
        if not isinstance(address, str):
            raise ListFormatError(f"{file.name}, item {number}: {address!r} is not a string")
        try:
            normalise_address(asset, address)
        except ValueError as error:
            raise ListFormatError(f"{file.name}, item {number}: {error}") from error
    return tuple(address.strip() for address in addresses)


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _rows(path: Path, columns: int, *, strip: bool = True) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` of a CSV file, ``-0-`` read as empty; a wrong field count or bad
    quoting is a ``ListFormatError``."""
    reader = csv.reader(io.StringIO(_decode(path).rstrip("\x1a"), newline=""), strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ListFormatError(f"{path.name}, line {reader.line_num}: {error}") from error
        if not row or (len(row) == 1 and not row[0].strip("\x1a \t")):
            continue
        if len(row) != columns:
            raise ListFormatError(
                f"{path.name}, line {reader.line_num}: expected {columns} fields, found {len(row)}"
            )
        yield reader.line_num, [_field(value, strip) for value in row]


def _field(value: str, strip: bool) -> str:
    if value.strip() == EMPTY_FIELD:
        return ""
    return value.strip() if strip else value


def _integer(value: str, file: str, line: int, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ListFormatError(f"{file}, line {line}: {what} {value!r} is not an integer") from None


def _known(value: str, rows: Mapping[int, object], file: str, line: int) -> int:
    ent_num = _integer(value.strip(), file, line, "ent_num")
    if ent_num not in rows:
        raise ListFormatError(f"{file}, line {line}: ent_num {ent_num} is not in sdn.csv")
    return ent_num

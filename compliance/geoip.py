"""GeoIP2 readers: the edge where an address becomes ``IpFacts``.

DESIGN.md ("Jurisdiction gating") and RULES.md §7: the request IP is resolved with a GeoIP2
City database (country and subdivision) and, when configured, a GeoIP2 Anonymous IP
database (VPN, hosting, Tor, public and residential proxies). By default the City database
is the GeoLite2 build shipped by the ``maxminddb-geolite2`` package (a 2018 build).

Why it is written this way:

* A reader is opened once per process and per path (``get_locator``) and memory-maps the
  file: opening costs milliseconds, a lookup microseconds. The raw ``maxminddb`` reader is
  used (``MODE_AUTO``, i.e. its C extension over mmap when installed): ``MODE_MMAP`` in
  maxminddb 3 is the pure-Python reader, about ten times slower per lookup.
* The file can be replaced while the service runs. At most once a second a lookup compares
  the file's identity (device, inode, mtime, size) with the one it opened and, when it
  changed, opens the new file and swaps it in. The old reader is not closed: a lookup in
  another thread may still hold it, and it is released when the last one lets go. Replace
  the file atomically (write elsewhere, then rename); overwriting a mapped file in place
  can crash the readers.
* Location is the GeoIP2 ``country`` (where the address is used). ``registered_country``
  (where the block was allocated) is not a fallback: in the shipped build 5.59.38.0/23 is
  in Crimea (UA-43) but registered to CZ, and satellite and anycast blocks carry only a
  registrant. An address without ``country`` is unlocated; the ``ip_unlocated`` signal
  default handles that doubt instead of a guess.
* Private, reserved and unknown addresses have no record and are unlocated.
* Orders come from few client addresses: each locator keeps the facts of the addresses it
  located (at most ``cache_size``, 16,384 by default, the oldest dropped first; measured
  about 380 bytes each, so at most about 6 MB per process) and forgets them all when a
  database file is replaced, so a cached answer is always the open database's.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable

import maxminddb
from geolite2 import geolite2

from compliance.signals import IpFacts

logger = logging.getLogger(__name__)

RECHECK_INTERVAL_NS = 1_000_000_000
"""How often, at most, a lookup looks at the database files for a replacement."""

_CITY_TYPES = ("City", "Enterprise")
_ANONYMOUS_TYPES = ("Anonymous",)
_NO_FLAGS: dict = {}


class GeoIpDatabaseError(RuntimeError):
    """A GeoIP database cannot be opened, is of the wrong kind, or does not answer."""


def shipped_city_database() -> str:
    """Path of the GeoLite2 City database shipped by ``maxminddb-geolite2``."""
    return geolite2.filename


def _identity(path: str) -> tuple[int, int, int, int]:
    status = os.stat(path)
    return (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)


def _open(path: str, kinds: tuple[str, ...]) -> tuple[maxminddb.Reader, tuple[int, ...]]:
    """Open ``path``; its identity is taken *before* opening, so a file replaced in between
    only causes one extra reload, never a missed one."""
    try:
        identity = _identity(path)
        reader = maxminddb.open_database(path, maxminddb.MODE_AUTO)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as error:
        raise GeoIpDatabaseError(f"cannot open GeoIP database {path}: {error}") from error
    database_type = reader.metadata().database_type
    if not any(kind in database_type for kind in kinds):
        reader.close()
        raise GeoIpDatabaseError(f"{path} is a {database_type} database, not {'/'.join(kinds)}")
    return reader, identity


class _Database:
    """One database file, the reader in use and the identity of the file it came from."""

    __slots__ = ("identity", "kinds", "path", "reader", "rejected")

    def __init__(self, path: str, kinds: tuple[str, ...]) -> None:
        self.path = path
        self.kinds = kinds
        self.reader, self.identity = _open(path, kinds)
        self.rejected: tuple[int, ...] | None = None

    def reload_if_replaced(self) -> bool:
        """Open the file again if it was replaced; whether the reader changed."""
        try:
            identity = _identity(self.path)
        except OSError as error:
            logger.warning(
                "GeoIP database %s is not readable (%s); keeping the open one", self.path, error
            )
            return False
        if identity == self.identity or identity == self.rejected:
            return False
        try:
            reader, identity = _open(self.path, self.kinds)
        except GeoIpDatabaseError as error:
            self.rejected = identity
            logger.warning("%s; keeping the open one", error)
            return False
        self.reader, self.identity = reader, identity
        logger.info("GeoIP database %s reloaded", self.path)
        return True


def _lookup(reader: maxminddb.Reader, ip: str) -> dict | None:
    """A record, or None when the address is valid but not in the database; ValueError when
    ``ip`` is not an address (maxminddb also raises ValueError for an IPv6 address in an
    IPv4-only database, which is an unknown address, not a bad request)."""
    try:
        return reader.get(ip)
    except (ValueError, TypeError):
        try:
            ipaddress.ip_address(ip)
        except (ValueError, TypeError):
            raise ValueError(f"not an IP address: {ip!r}") from None
        return None


class IpLocator:
    """Answers ``lookup(ip) -> IpFacts`` from a City and an optional Anonymous IP database."""

    def __init__(
        self,
        city_path: str,
        anonymous_path: str | None = None,
        *,
        clock: Callable[[], int] = time.monotonic_ns,
        cache_size: int = 16_384,
    ) -> None:
        self._located: dict[str, IpFacts] = {}
        self._cache_size = cache_size
        self._city = _Database(city_path, _CITY_TYPES)
        self._anonymous = _Database(anonymous_path, _ANONYMOUS_TYPES) if anonymous_path else None
        self._clock = clock
        self._next_check = clock() + RECHECK_INTERVAL_NS
        self._refreshing = threading.Lock()

    def lookup(self, ip: str) -> IpFacts:
        """The facts about ``ip``; ValueError if it is not an IPv4 or IPv6 address."""
        if self._clock() >= self._next_check:
            self.refresh()
        found = self._located.get(ip)
        if found is None:
            found = self._locate(ip)
            located = self._located
            if len(located) >= self._cache_size:
                try:  # the oldest entry (dicts keep insertion order); another thread may race
                    del located[next(iter(located))]
                except (KeyError, StopIteration, RuntimeError):
                    located.clear()
            located[ip] = found
        return found

    def _locate(self, ip: str) -> IpFacts:
        record = _lookup(self._city.reader, ip)
        country = subdivision = None
        if record is not None:
            located = record.get("country")
            if located is not None:
                country = located.get("iso_code")
                subdivisions = record.get("subdivisions")
                if country and subdivisions and subdivisions[0].get("iso_code"):
                    subdivision = f"{country}-{subdivisions[0]['iso_code']}"
        flags = _NO_FLAGS
        if self._anonymous is not None:
            flags = _lookup(self._anonymous.reader, ip) or _NO_FLAGS
        return IpFacts(
            ip=ip,
            country=country,
            subdivision=subdivision,
            is_anonymous_vpn=bool(flags.get("is_anonymous_vpn")),
            is_hosting_provider=bool(flags.get("is_hosting_provider")),
            is_tor_exit_node=bool(flags.get("is_tor_exit_node")),
            is_public_proxy=bool(flags.get("is_public_proxy")),
            is_residential_proxy=bool(flags.get("is_residential_proxy")),
        )

    def refresh(self) -> None:
        """Reload any database file that was replaced. One thread does it; others carry on
        with the readers they have rather than wait."""
        if not self._refreshing.acquire(blocking=False):
            return
        try:
            self._next_check = self._clock() + RECHECK_INTERVAL_NS
            changed = self._city.reload_if_replaced()
            if self._anonymous is not None:
                changed = self._anonymous.reload_if_replaced() or changed
            if changed:
                self._located = {}
        finally:
            self._refreshing.release()

    def check(self) -> None:
        """Raise GeoIpDatabaseError unless every database file is present and answers."""
        self.refresh()
        for database in (self._city, self._anonymous):
            if database is None:
                continue
            try:
                _identity(database.path)
                database.reader.get("0.0.0.0")  # noqa: S104 (an address to look up, not to bind)
            except (OSError, ValueError, maxminddb.InvalidDatabaseError) as error:
                raise GeoIpDatabaseError(f"GeoIP database {database.path}: {error}") from error


_locators: dict[tuple[str, str | None], IpLocator] = {}
_locators_lock = threading.Lock()


def get_locator(city_path: str | None = None, anonymous_path: str | None = None) -> IpLocator:
    """The process-wide locator for these files (``None`` city: the shipped GeoLite2)."""
    key = (city_path or shipped_city_database(), anonymous_path or None)
    locator = _locators.get(key)
    if locator is None:
        with _locators_lock:
            locator = _locators.get(key)
            if locator is None:
                locator = _locators[key] = IpLocator(key[0], key[1])
    return locator


def probe(city_path: str | None = None, anonymous_path: str | None = None) -> None:
    """For ``/readyz``: raise GeoIpDatabaseError unless the configured databases work."""
    get_locator(city_path, anonymous_path).check()


def probe_configured() -> None:
    """The readiness probe of the configured databases (registered with ``core.registry``)."""
    from django.conf import settings

    probe(settings.GEOIP_CITY_DB, settings.GEOIP_ANONYMOUS_DB)

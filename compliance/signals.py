"""The facts a request brings, resolved to the jurisdictions the rulebook speaks about.

RULES.md §7 ("Signals and how they combine"): the jurisdictions of a request are the IP's
country and subdivision (GeoIP2), the account's residence (country and subdivision), every
nationality and, for entities, every country of a controlling person. The last one is
there because the 2026 PRC notice (银发〔2026〕42号) reaches "境内主体及其控制的境外主体",
domestic entities *and the overseas entities they control* (§(十三)), and RWA business that
domestic entities carry out abroad "直接或间接", directly or indirectly (§(十四)).

Facts are frozen and compute their signals once, when they are built, so the decision on
the hot path only walks tuples (see ``compliance.access.decide``).

Hong Kong, Macau and Taiwan are their own jurisdictions (``HK``, ``MO``, ``TW``), never
``CN``. ISO 3166-2:CN also lists them as ``CN-HK``, ``CN-MO`` and ``CN-TW``; such a code is
read as the territory's own country code so that a mainland rule can never reach it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import pycountry

IP_GEOLOCATION = "ip_geolocation"
RESIDENCE = "residence"
NATIONALITY = "nationality"
CONTROLLING_PERSON = "controlling_person"
"""The name a controlling country's signal carries in decision reasons and records."""

CONTROLLING_COUNTRY = "controlling_country"
"""The name of that signal in a rule's scope (issue 14): a rule reaches controlling countries."""

SCOPES = (IP_GEOLOCATION, RESIDENCE, NATIONALITY, CONTROLLING_COUNTRY)
"""The signals a rule may name as its scope, in the order they are listed."""

SCOPE_OF = {
    IP_GEOLOCATION: IP_GEOLOCATION,
    RESIDENCE: RESIDENCE,
    NATIONALITY: NATIONALITY,
    CONTROLLING_PERSON: CONTROLLING_COUNTRY,
}

INDIVIDUAL = "individual"
ENTITY = "entity"
ENTITY_TYPES = frozenset({INDIVIDUAL, ENTITY})

RETAIL = "retail"
PROFESSIONAL = "professional"
INVESTOR_CATEGORIES = frozenset({RETAIL, PROFESSIONAL})

ACCOUNT_STATUSES = frozenset({"active", "suspended", "closed"})
SANCTIONS_STATUSES = frozenset({"clear", "review", "match"})

OWN_JURISDICTION_TERRITORIES = {"CN-HK": "HK", "CN-MO": "MO", "CN-TW": "TW"}
"""ISO 3166-2:CN codes of territories the rulebook treats as their own countries."""


@functools.lru_cache(maxsize=4096)
def is_known_jurisdiction(code: str) -> bool:
    """Whether ``code`` is a current ISO 3166-1 alpha-2 or ISO 3166-2 code (pycountry).

    CONVENTIONS.md: codes are checked against the real ISO lists, never a hand-written one.
    Only the canonical upper-case spelling counts (pycountry itself ignores case): ``cn``
    would otherwise pass here and then match no rule.
    """
    if not isinstance(code, str) or code != code.upper():
        return False
    if "-" in code:
        return pycountry.subdivisions.get(code=code) is not None
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


@dataclass(frozen=True, slots=True)
class Signal:
    """One jurisdiction a request is attached to, and through which fact (``name``)."""

    name: str
    country: str
    subdivision: str | None = None
    scope: str = field(init=False, repr=False, compare=False)
    """The rule scope this signal falls under (``SCOPE_OF``), looked up once here."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope", SCOPE_OF[self.name])

    @property
    def jurisdiction(self) -> str:
        return self.subdivision or self.country


def jurisdiction_of(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """Normalise a (country, full ISO 3166-2 subdivision) pair; raise ValueError if inconsistent.

    ``CN`` + ``CN-HK`` becomes ``HK`` with no subdivision (HK, MO, TW are their own
    jurisdictions). A subdivision must belong to the country it is given with.
    """
    if subdivision is not None:
        territory = OWN_JURISDICTION_TERRITORIES.get(subdivision)
        if territory is not None:
            return territory, None
        prefix, dash, _ = subdivision.partition("-")
        if not dash or (country is not None and prefix != country):
            raise ValueError(f"subdivision {subdivision!r} is not in country {country!r}")
        return prefix, subdivision
    return country, None


@dataclass(frozen=True, slots=True)
class IpFacts:
    """What GeoIP2 says about the request's address (see ``compliance.geoip``).

    ``subdivision`` is the full ISO 3166-2 code (``UA-43``). ``country`` is the GeoIP2
    *country* (where the address is used), never the *registered* country (where the block
    was allocated): an address with no country is unlocated, not guessed.
    """

    ip: str
    country: str | None = None
    subdivision: str | None = None
    is_anonymous_vpn: bool = False
    is_hosting_provider: bool = False
    is_tor_exit_node: bool = False
    is_public_proxy: bool = False
    is_residential_proxy: bool = False
    signals: tuple[Signal, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        country, subdivision = jurisdiction_of(self.country, self.subdivision)
        object.__setattr__(self, "country", country)
        object.__setattr__(self, "subdivision", subdivision)
        located = (Signal(IP_GEOLOCATION, country, subdivision),) if country else ()
        object.__setattr__(self, "signals", located)

    @property
    def located(self) -> bool:
        """False for private, reserved and unknown addresses (no GeoIP2 country)."""
        return bool(self.signals)

    @property
    def is_anonymizer(self) -> bool:
        """VPN, hosting, Tor or proxy: the address hides where the person is (RULES.md §7)."""
        return (
            self.is_anonymous_vpn
            or self.is_hosting_provider
            or self.is_tor_exit_node
            or self.is_public_proxy
            or self.is_residential_proxy
        )


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """The account's KYC facts (API.md, ``PUT /api/v1/accounts/{account_id}``).

    ``status`` is carried but not decided on here: a suspended or closed account is refused
    by the pre-trade pipeline (``ACCOUNT_SUSPENDED``), whatever the jurisdiction says.
    ``controlling_countries`` only count for entities: for an individual they have no
    legal meaning, so they produce no signal. ``controlling_subdivisions`` (ISO 3166-2,
    ``UA-14``) place a controlling country more exactly: a controlling country with listed
    subdivisions is those subdivisions; one without any is the country with its subdivision
    unknown (which a country with subdivision rules answers with ``review``).

    A Crimean or DNR resident holding Russian documents may be recorded by onboarding as
    residence ``RU`` and nationality ``RU``: the rulebook can express a rule on such a
    profile (a rule for ``RU`` scoped to ``residence``), but none is shipped, since no source
    we follow reaches Russian residents as such. Recorded as ISO 3166-2 puts it
    (``UA`` + ``UA-43``), the resident is caught by the OFAC Crimea rule on residence.

    ``lenient`` is for facts read back from storage: a code that no longer validates (a
    pycountry upgrade retired it) is left out of the signals and named in ``problems``
    instead of raising, so the gate decides such a profile as ``review`` (see
    ``compliance.access``) rather than failing every check. Input is never lenient.
    """

    account_id: str
    residence_country: str
    residence_subdivision: str | None = None
    nationalities: tuple[str, ...] = ()
    entity_type: str = INDIVIDUAL
    controlling_countries: tuple[str, ...] = ()
    investor_category: str = RETAIL
    status: str = "active"
    seq: int = field(default=0, compare=False)
    """The version of these facts (``core.policy``): the id of the history row that wrote them."""
    controlling_subdivisions: tuple[str, ...] = ()
    sanctions: str = "clear"
    """What sanctions screening decided (``compliance.screening_cases``): ``clear``,
    ``review`` or ``match``."""
    sanctions_basis: Mapping[str, object] | None = field(default=None, compare=False)
    """What that status rests on (``screening_cases.Screening.basis``: the case, its list
    version, the entry), named in the decision's reason."""
    lenient: bool = field(default=False, compare=False)
    signals: tuple[Signal, ...] = field(init=False, repr=False, compare=False)
    problems: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.entity_type not in ENTITY_TYPES:
            raise ValueError(f"entity_type must be one of {sorted(ENTITY_TYPES)}")
        if self.investor_category not in INVESTOR_CATEGORIES:
            raise ValueError(f"investor_category must be one of {sorted(INVESTOR_CATEGORIES)}")
        if self.status not in ACCOUNT_STATUSES:
            raise ValueError(f"status must be one of {sorted(ACCOUNT_STATUSES)}")
        if self.sanctions not in SANCTIONS_STATUSES:
            raise ValueError(f"sanctions must be one of {sorted(SANCTIONS_STATUSES)}")
        object.__setattr__(self, "nationalities", tuple(self.nationalities))
        object.__setattr__(self, "controlling_countries", tuple(self.controlling_countries))
        object.__setattr__(self, "controlling_subdivisions", tuple(self.controlling_subdivisions))
        problems: list[str] = []
        object.__setattr__(self, "signals", _profile_signals(self, problems))
        object.__setattr__(self, "problems", tuple(problems))


def _known(code: str | None, field_name: str, *, subdivision: bool = False) -> None:
    """A code the rulebook cannot recognise would silently escape every rule: refuse it."""
    if code is None or not is_known_jurisdiction(code) or (("-" in code) != subdivision):
        raise ValueError(f"{field_name}: {code!r} is not an ISO 3166 code of the right kind")


def _profile_signals(profile: ProfileFacts, problems: list[str]) -> tuple[Signal, ...]:
    def known(code, field_name, *, subdivision=False) -> bool:
        try:
            _known(code, field_name, subdivision=subdivision)
        except ValueError as exc:
            if not profile.lenient:
                raise
            problems.append(str(exc))
            return False
        return True

    found = []
    if known(profile.residence_country, "residence_country"):
        subdivision = profile.residence_subdivision
        if subdivision is not None and not known(
            subdivision, "residence_subdivision", subdivision=True
        ):
            subdivision = None
        country, subdivision = jurisdiction_of(profile.residence_country, subdivision)
        found.append(Signal(RESIDENCE, country, subdivision))
    for nationality in profile.nationalities:
        if known(nationality, "nationalities"):
            found.append(Signal(NATIONALITY, nationality))
    if profile.entity_type == ENTITY:
        placed: dict[str, list[str]] = {}
        for code in profile.controlling_subdivisions:
            if known(code, "controlling_subdivisions", subdivision=True):
                placed.setdefault(code.partition("-")[0], []).append(code)
        for controlling in profile.controlling_countries:
            if not known(controlling, "controlling_countries"):
                continue
            for code in placed.get(controlling) or (None,):
                country, subdivision = jurisdiction_of(controlling, code)
                found.append(Signal(CONTROLLING_PERSON, country, subdivision))
    return tuple(dict.fromkeys(found))


def signals_of(profile: ProfileFacts | None, ip: IpFacts | None) -> tuple[Signal, ...]:
    """Every jurisdiction signal of a request, IP first, in the order reasons are listed."""
    return (ip.signals if ip else ()) + (profile.signals if profile else ())

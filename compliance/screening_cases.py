"""An account's sanctions screening: what of it is screened, the cases a possible match
opens, the officer's decision on a case, and the status the gate decides with.

The subjects of an account (API.md, "Reference data"): the holder's ``full_name`` (with
``date_of_birth`` and the residence and nationalities as countries), each controlling
person's name (with their own date of birth and country), and each of the account's
``wallet_addresses``.

The status (``AccountProfile.sanctions_status``) is a fact of the profile like its
residence, versioned with it, so read-your-writes holds through the same announcement
(``core.policy``): the very next check on any worker decides with it.

* ``match`` — a case an officer confirmed, or an open case on an exact address listing
  (the address is the listed person's property; no score to weigh): every action denied
  (``SANCTIONS_MATCH``), withdrawals too.
* ``review`` — an open name case (``SANCTIONS_REVIEW``: orders rejected, withdrawals held),
  or something to screen while no list is loaded: an account that could not be screened is
  not clear (fail closed).
* ``clear`` — nothing open or confirmed.

A case cleared as a false positive keeps that entry from re-flagging the same screened
text of the account until the entry (its digest) or the text changes. Nothing is released
automatically: a re-screen only opens cases, and an entry delisted since a case was opened
leaves the case for an officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from compliance import sanctions
from compliance.models import ScreeningCase

CLEAR, REVIEW, MATCH = "clear", "review", "match"
OPEN, CLEARED, CONFIRMED = "open", "cleared", "confirmed"
FALSE_POSITIVE, CONFIRM = "false_positive", "confirmed"
DECISIONS = (FALSE_POSITIVE, CONFIRM)
_LIVE = (OPEN, CONFIRMED)


@dataclass(frozen=True, slots=True)
class Subject:
    """One thing of an account that is screened; ``key`` names it in its cases."""

    key: str
    text: str
    kind: str  # "name" or "address"
    entity_type: str | None = None
    date_of_birth: str | None = None
    countries: tuple[str, ...] = ()
    asset: str = ""


def subjects_of(facts: dict) -> list[Subject]:
    """The subjects of a profile's facts (the dict ``services.PROFILE_FIELDS`` names)."""
    found = []
    own_countries = tuple(
        dict.fromkeys([facts.get("residence_country", ""), *facts.get("nationalities", [])])
    )
    if facts.get("full_name"):
        found.append(
            Subject(
                key="holder",
                text=facts["full_name"],
                kind="name",
                entity_type=facts.get("entity_type") or None,
                date_of_birth=facts.get("date_of_birth") or None,
                countries=tuple(code for code in own_countries if code),
            )
        )
    for index, person in enumerate(facts.get("controlling_persons") or []):
        found.append(
            Subject(
                key=f"controlling_person:{index}",
                text=person["name"],
                kind="name",
                entity_type="individual",
                date_of_birth=person.get("date_of_birth") or None,
                countries=(person["country"],) if person.get("country") else (),
            )
        )
    for index, wallet in enumerate(facts.get("wallet_addresses") or []):
        found.append(
            Subject(
                key=f"wallet:{index}",
                text=wallet["address"],
                kind="address",
                asset=wallet["asset"],
            )
        )
    return found


def matches_of(lists: sanctions.LoadedList, subject: Subject) -> list[sanctions.Match]:
    if subject.kind == "address":
        return sanctions.screen_address(lists, subject.asset, subject.text)
    return sanctions.screen_name(
        lists,
        subject.text,
        entity_type=subject.entity_type,
        date_of_birth=subject.date_of_birth,
        countries=subject.countries,
    )


@dataclass(frozen=True, slots=True)
class Screening:
    """An account's status and what it rests on (``basis``, empty when ``clear``): the case
    that decides it and the list version that case was opened under, carried into every
    decision's reason so a past decision stays explained by the version it used."""

    status: str
    basis: dict


def screen_account(account_id: str, facts: dict, now: datetime) -> Screening:
    """Screen an account's subjects against the latest list (inside the caller's
    transaction), open a case for each new possible match, and return the status."""
    subjects = subjects_of(facts)
    try:
        lists = sanctions.loaded()
    except sanctions.ScreeningUnavailable:
        return status_of(account_id, unscreened=bool(subjects))
    for subject in subjects:
        for match in matches_of(lists, subject):
            _open_case(account_id, subject, match, lists, now)
    return status_of(account_id)


def _open_case(account_id, subject: Subject, match, lists, now) -> ScreeningCase | None:
    digest = sanctions.entry_digest(lists.entry(match.entry_id))
    existing = ScreeningCase.objects.filter(
        account_id=account_id, subject_text=subject.text, entry_id=match.entry_id
    )
    if match.matched_on == "address":
        existing = existing.filter(matched_on="address")
    else:
        existing = existing.exclude(matched_on="address")
    if existing.filter(status__in=_LIVE).exists():
        return None
    if existing.filter(status=CLEARED, entry_digest=digest).exists():
        return None
    return ScreeningCase.objects.create(
        account_id=account_id,
        subject=subject.key,
        subject_text=subject.text,
        list_version_id=lists.version_id,
        entry_id=match.entry_id,
        entry_name=match.name[:400],
        entry_digest=digest,
        matched_on=match.matched_on,
        score=match.score,
        result=match.result,
        status=OPEN,
        opened_at=now,
    )


def status_of(account_id: str, *, unscreened: bool = False) -> Screening:
    """The account's status from its cases (see the module docstring), with its basis: the
    newest case that decides it (confirmed or on an address for ``match``, open for
    ``review``), its list version and entry, and how many live cases the account has."""
    live = list(
        ScreeningCase.objects.filter(account_id=account_id, status__in=_LIVE)
        .select_related("list_version")
        .order_by("-opened_at", "-id")
    )
    matching = [case for case in live if case.status == CONFIRMED or case.matched_on == "address"]
    if matching:
        return Screening(MATCH, _basis(matching[0], len(live)))
    if live:
        return Screening(REVIEW, _basis(live[0], len(live)))
    if unscreened:
        return Screening(REVIEW, {"list_version": None, "unscreened": True})
    return Screening(CLEAR, {})


def _basis(case: ScreeningCase, live: int) -> dict:
    return {
        "case": case.pk,
        "list_version": case.list_version.label,
        "entry_id": case.entry_id,
        "matched_on": case.matched_on,
        "live_cases": live,
    }

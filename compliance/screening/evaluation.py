"""How well name screening finds listed people and leaves everyone else alone, measured on
cases built from the list itself, deterministically (fixed seeds, no network).

Positives (``expected`` is the entry the query must find):

- ``alias``: an individual's strong ``alt.csv`` alias, screened as a query;
- ``reordered``: "LAST, First Middle" written "First Middle Last";
- ``middle_dropped``: one given name after the first left out ("Juan RUBENACH ROIG");
- ``diacritics``: accents added the way a non-English keyboard or passport writes them;
- ``romanisation``: a name word swapped for another romanisation of it ("Mohamed" for
  "Muhammad", from ``variants``);
- ``typo``: one letter inserted, deleted, substituted or transposed in one word of five
  letters or more;
- ``entity_typo``: the same for the names of entities, vessels and aircraft.

Every generated query is written in natural order ("First Last"), as an account holder
types it. Negatives are Faker names from locales across the scripts and regions a venue
sees (Cyrillic, Arabic, Persian and Chinese ones transliterated by the engine itself),
dropping any whose normalised tokens equal a listed name's or alias's: those would be real
hits.

A positive is found at a threshold when its entry is among the hits at or above it; a
negative is a false positive when any hit is. Nothing here knows how the engine scores.

Results at the shipped thresholds (``names.DEFAULT_THRESHOLDS``; bench size, 9,985
positives and 10,000 negatives): potential_match 0.85, precision 0.9958, recall 0.9965
(alias 1.000, diacritics 0.999, entity_typo 0.996, middle_dropped 0.993, reordered 0.999,
romanisation 0.999, typo 0.989); match 0.95, precision 0.9992, recall 0.863. The
``alias`` kind is easy by construction (aliases are indexed): it checks that they are;
``romanisation`` swaps spellings from the same table the engine folds with, so it checks
the folding, not unseen spellings. The false positives are mostly real near-namesakes
("Naeem Umar" / "NAEEM, Umair").
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from compliance.screening.names import NameIndex, Thresholds, normalise_name
from compliance.screening.sdn import Entry
from compliance.screening.variants import HONORIFICS, PARTICLES, SPELLING_VARIANTS

SEED = 20210701
EVALUATION_LIMIT = 20
"""Hits kept per query: more than a caller's default, because some names are several
entries' (five "AL-AQSA FOUNDATION"s) and which of equals is shown is not accuracy."""
NEGATIVE_LOCALES = (
    "en_US", "en_GB", "en_IN", "en_PK", "en_NG", "de_DE", "fr_FR", "es_ES", "es_MX",
    "it_IT", "pt_BR", "nl_NL", "pl_PL", "tr_TR", "ru_RU", "uk_UA", "ar_AA", "ar_EG",
    "fa_IR", "zh_CN", "ja_JP", "ko_KR", "id_ID",
)  # fmt: skip
POSITIVE_KINDS = (
    "alias",
    "reordered",
    "middle_dropped",
    "diacritics",
    "romanisation",
    "typo",
    "entity_typo",
)
_ACCENTS = {"a": "áàâä", "e": "éèêë", "i": "íï", "o": "óöô", "u": "úüû", "n": "ñ", "c": "ç"}
_JOINING = PARTICLES | {"abdul", "abdel", "abdal", "abdol", "abou", "ibn", "ben"}
_SPELLINGS: dict[str, tuple[str, ...]] = {}
for _variant, _canonical in SPELLING_VARIANTS.items():
    _SPELLINGS.setdefault(_canonical, (_canonical,))
    _SPELLINGS[_canonical] += (_variant,)


@dataclass(frozen=True, slots=True)
class Case:
    """A query and the entry it must find (``None``: it must find nothing)."""

    query: str
    kind: str
    expected: int | None = None


@dataclass(frozen=True, slots=True)
class Counts:
    """Confusion counts at one threshold, and recall per kind of positive."""

    tp: int
    fp: int
    fn: int
    tn: int
    recall_by_kind: Mapping[str, float] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass(frozen=True, slots=True)
class Report:
    """The evaluation at the potential-match threshold (what the goal is stated at) and at
    the match threshold."""

    potential_match: Counts
    match: Counts
    positives: int
    negatives: int


def evaluation_cases(
    entries: Sequence[Entry], *, positives: int, negatives: int, seed: int = SEED
) -> tuple[Case, ...]:
    """``positives`` cases spread evenly over ``POSITIVE_KINDS`` and ``negatives`` Faker
    names, the same for the same arguments."""
    rng = random.Random(seed)
    per_kind = positives // len(POSITIVE_KINDS)
    cases = [case for kind in POSITIVE_KINDS for case in _positives(entries, kind, per_kind, rng)]
    return (*cases, *negative_cases(entries, negatives, seed=seed))


def _positives(entries: Sequence[Entry], kind: str, count: int, rng: random.Random):
    individuals = [entry for entry in entries if entry.sdn_type == "individual"]
    if kind == "alias":
        pool = [
            Case(alias.name, kind, entry.ent_num)
            for entry in individuals
            for alias in entry.aliases
            if not alias.weak
        ]
        return rng.sample(pool, min(count, len(pool)))
    source = (
        individuals
        if kind != "entity_typo"
        else [entry for entry in entries if entry.sdn_type != "individual"]
    )
    variant = _VARIANTS[kind]
    cases: list[Case] = []
    for entry in rng.sample(source, len(source)):
        query = variant(entry.name, rng)
        if query is not None:
            cases.append(Case(query, kind, entry.ent_num))
        if len(cases) == count:
            break
    return cases


def natural_order(name: str) -> str:
    """OFAC's "LAST, First Middle" as "First Middle Last"; other names unchanged."""
    last, comma, given = name.partition(", ")
    return f"{given} {last}" if comma and given else name


def _reordered(name: str, rng: random.Random) -> str | None:
    return natural_order(name) if ", " in name else None


def _middle_dropped(name: str, rng: random.Random) -> str | None:
    """Drop one given name after the first name. Titles ("Haji") are not names and a
    particle belongs to the word after it ("Abu Sulayman", "Abdul Fatah"), so "KHAN, Haji
    Mohammad" has no middle name to drop."""
    last, comma, given = name.partition(", ")
    names = _given_names(given.split())
    if not comma or len(names) < 2:
        return None
    del names[rng.randrange(1, len(names))]
    return f"{' '.join(names)} {last}"


def _given_names(words: list[str]) -> list[str]:
    names: list[str] = []
    for word in words:
        folded = word.lower().strip(".")
        if folded in HONORIFICS:
            continue
        if names and names[-1].lower() in _JOINING:
            names[-1] = f"{names[-1]} {word}"
        else:
            names.append(word)
    return names


def _diacritics(name: str, rng: random.Random) -> str | None:
    text = natural_order(name)
    places = [i for i, char in enumerate(text) if char.lower() in _ACCENTS]
    if not places:
        return None
    chosen = set(rng.sample(places, max(1, len(places) // 3)))
    return "".join(_accented(char, rng) if i in chosen else char for i, char in enumerate(text))


def _accented(char: str, rng: random.Random) -> str:
    accented = rng.choice(_ACCENTS[char.lower()])
    return accented.upper() if char.isupper() else accented


def _romanisation(name: str, rng: random.Random) -> str | None:
    words = natural_order(name).split()
    swappable = [i for i, word in enumerate(words) if _spellings_of(word)]
    if not swappable:
        return None
    i = rng.choice(swappable)
    others = [s for s in _spellings_of(words[i]) if s != words[i].lower()]
    words[i] = rng.choice(others).capitalize()
    return " ".join(words)


def _spellings_of(word: str) -> tuple[str, ...]:
    folded = word.lower()
    return _SPELLINGS.get(SPELLING_VARIANTS.get(folded, folded), ())


def _typo(name: str, rng: random.Random) -> str | None:
    words = natural_order(name).split()
    long_words = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    if not long_words:
        return None
    i = rng.choice(long_words)
    words[i] = one_typo(words[i], rng)
    return " ".join(words)


def one_typo(word: str, rng: random.Random) -> str:
    """``word`` with one letter inserted, deleted, substituted or two transposed."""
    edit = rng.choice(("insert", "delete", "substitute", "transpose"))
    at = rng.randrange(len(word) - 1)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if word.isupper():
        letter = letter.upper()
    if edit == "insert":
        return word[:at] + letter + word[at:]
    if edit == "delete":
        return word[:at] + word[at + 1 :]
    if edit == "substitute":
        replacement = letter if letter.lower() != word[at].lower() else "x"
        return word[:at] + replacement + word[at + 1 :]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


_VARIANTS = {
    "reordered": _reordered,
    "middle_dropped": _middle_dropped,
    "diacritics": _diacritics,
    "romanisation": _romanisation,
    "typo": _typo,
    "entity_typo": _typo,
}


def negative_cases(entries: Iterable[Entry], count: int, *, seed: int = SEED) -> list[Case]:
    """``count`` Faker names, round-robin over ``NEGATIVE_LOCALES``, none equal (as token
    sets) to a listed name or alias."""
    listed = {
        frozenset(normalise_name(name))
        for entry in entries
        for name in (entry.name, *(alias.name for alias in entry.aliases))
    }
    from faker import Faker  # test tooling (requirements.txt): only the evaluation needs it

    fakers = []
    for offset, locale in enumerate(NEGATIVE_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + offset)
        fakers.append((locale, fake))
    cases: list[Case] = []
    while len(cases) < count:
        for locale, fake in fakers:
            name = fake.name()
            if frozenset(normalise_name(name)) not in listed and len(cases) < count:
                cases.append(Case(name, f"negative:{locale}"))
    return cases


def evaluate(index: NameIndex, thresholds: Thresholds, cases: Iterable[Case]) -> Report:
    """Screen every case once and count, at both thresholds (module docstring)."""
    floor = min(thresholds.potential_match, thresholds.match)
    outcomes = []
    for case in cases:
        hits = index.screen(case.query, floor=floor, limit=EVALUATION_LIMIT)
        expected = max((hit.score for hit in hits if hit.ent_num == case.expected), default=0.0)
        anything = max((hit.score for hit in hits), default=0.0)
        outcomes.append((case, expected, anything))
    return Report(
        potential_match=_counts(outcomes, thresholds.potential_match),
        match=_counts(outcomes, thresholds.match),
        positives=sum(case.expected is not None for case, _, _ in outcomes),
        negatives=sum(case.expected is None for case, _, _ in outcomes),
    )


def _counts(outcomes: list[tuple[Case, float, float]], threshold: float) -> Counts:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    fp = tn = 0
    for case, expected, anything in outcomes:
        if case.expected is None:
            fp += anything >= threshold
            tn += anything < threshold
        else:
            total[case.kind] += 1
            found[case.kind] += expected >= threshold
    tp = sum(found.values())
    return Counts(
        tp=tp,
        fp=fp,
        fn=sum(total.values()) - tp,
        tn=tn,
        recall_by_kind={kind: found[kind] / total[kind] for kind in sorted(total)},
    )

"""Name screening: normalise a name to tokens, find the listed names that could be it, score.

Libraries: ``anyascii`` (ISC licence) transliterates any script to ASCII, so Cyrillic,
Arabic and Chinese names are compared in the Latin form OFAC lists them in; ``rapidfuzz``
(MIT) gives C++ Jaro-Winkler, fast enough to score each candidate token by token;
``jellyfish`` (MIT) gives the Metaphone key that groups spellings which sound alike, used
only for blocking.

**Normalising.** NFKD, combining marks dropped, then anyascii, case-folded. Apostrophes and
the marks that stand for Arabic ayn and hamza (``'`` ``’`` ``ʿ`` ``ʾ`` and anyascii's
`` ` ``) are deleted, not separators: "Sa'id" and "Said" are one spelling. Every other
non-alphanumeric character (hyphens, commas, dots) separates tokens: "Al-Qaida" is
("al", "qaida"), like OFAC's own "AL QAIDA" alias. Titles and generation suffixes are
dropped (``variants.HONORIFICS``), romanisations folded (``variants.SPELLING_VARIANTS``),
and every spelling of the "Abd al-X" compound becomes ("abd", X). Order is kept.

**Blocking.** Each listed token is indexed under its Metaphone key and its one-letter
deletions (``blocking_keys``); a query is compared only with names sharing a key with one
of its tokens, the names sharing the most first (``_candidates``), at most
``MAX_CANDIDATES``. Keys shared by more than ``COMMON_KEY`` names ("al", "muhammad",
"company") do not make candidates on their own, they only rank the candidates a rarer key
made.

**Scoring** (``score_tokens``). Tokens are paired one to one, best Jaro-Winkler first,
pairs under ``TOKEN_FLOOR`` left unpaired, so order does not matter ("WISSER, Gerhard" is
"Gerhard Wisser"). Each token weighs by how rare it is on the list (a shared "Muhammad"
says less than a shared "Wisser") and particles weigh ``PARTICLE_WEIGHT``. The score is
the geometric mean of how much of the query the pairs cover and how much of the listed
name they cover, an unpaired token counting half (``UNPAIRED_WEIGHT``): symmetric, 1.0
only for the same tokens, and a dropped middle name costs what it should (two of three
tokens of equal weight: 0.89).

**Short names.** A name of one word matches only a listed name that is that one word,
every token paired, and names of several words need at least two name words paired
(``_enough_words``): "Ali" is not "ALI, Hassan" nor "ABU ALI", and "John Smith" is not
every Smith.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import jellyfish
from anyascii import anyascii
from rapidfuzz.distance import JaroWinkler

from compliance.screening.sdn import Entry
from compliance.screening.variants import (
    ABD_ARTICLES,
    HONORIFICS,
    PARTICLES,
    SPELLING_VARIANTS,
)

TOKEN_FLOOR = 0.84
"""Jaro-Winkler under which two tokens are not paired: one typo in a five-letter token
keeps about 0.88 ("yusuf"/"yosuf" 0.88), while different names mostly fall below
("maria"/"mario" 0.92 is the kind of pair the rarity weights and thresholds must absorb)."""
PARTICLE_WEIGHT = 0.2
WEAK_ALIAS_PENALTY = 0.08
"""OFAC: a weak ("low quality") a.k.a. is not enough to identify someone on its own, so a
name matching only a weak alias lands at most at 0.92, a potential match for a person to
review, never an automatic match."""
DOB_PENALTY = 0.12
DOB_BONUS = 0.04
DOB_TOLERANCE_YEARS = 1
"""A year either side still agrees: OFAC's dates are often approximate and a date of birth
typed from a document can slip a year (31 Dec / 1 Jan, Hijri-Gregorian conversion)."""
COUNTRY_PENALTY = 0.05
COUNTRY_BONUS = 0.02
"""Smaller than the DOB's: nationality, residence and birth place move, and the list's
countries are incomplete; a country never clears a name on its own."""
UNPAIRED_WEIGHT = 0.5
"""A token left unpaired counts half its weight against its side's coverage: OFAC lists
full names (second given names, patronymics) and account holders give fewer, or the other
way round, so "Pavel LAPSHOV" for "LAPSHOV, Pavel Vladimirovich" scores 0.89, not 0.82.
Measured on ``evaluation``: counting unpaired tokens in full leaves 42% of dropped-middle-
name variants under 0.85."""
ENTITY_TYPES = frozenset({None, "individual", "entity"})
"""``"entity"`` is every entry that is not an individual: entities, vessels, aircraft."""
COMMON_KEY = 300
MAX_CANDIDATES = 48


@dataclass(frozen=True, slots=True)
class NameHit:
    """A listed entry a name may be: the listed ``name`` (or alias) as written, what it was
    (``"name"`` or ``"alias"``), and the score after the DOB and country adjustments."""

    ent_num: int
    name: str
    matched_on: str
    score: float


@dataclass(frozen=True, slots=True)
class Thresholds:
    """``match``: stop the account; ``potential_match``: a person must look."""

    match: float
    potential_match: float


DEFAULT_THRESHOLDS = Thresholds(match=0.95, potential_match=0.85)
"""Chosen on ``evaluation`` (fixed seeds). Bench set, 9,985 variants and 10,000 Faker
names: at potential_match 0.85 precision 0.9958 and recall 0.9965 (the goal: >= 0.98 and
>= 0.95). On the 2,000 + 2,000 set, raising it to 0.88 drops recall of dropped-middle-name
variants to 0.95 and 0.90 to 0.70; lowering it to 0.80 gains 0.0005 recall for half again
as many false positives. At match 0.95 precision is
0.9992 and recall 0.863: exact, re-ordered, accented and re-romanised names reach it,
typos and dropped names mostly go to a person (potential match)."""


def classify(score: float, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str:
    """``"match"``, ``"potential_match"`` or ``"clear"`` for a score."""
    if score >= thresholds.match:
        return "match"
    if score >= thresholds.potential_match:
        return "potential_match"
    return "clear"


_DELETED = re.compile(r"['’‘`ʿʾ′´]")
_SEPARATOR = re.compile(r"[^a-z0-9]+")
_ABD_PREFIX = re.compile(
    r"abd(?:[aeiou]l|[aeiou]([b-df-hj-np-tv-z])(?=\1)|[iu](?=[b-df-hj-np-tv-z]))?(?=[a-z]{2})"
)
"""A fused "Abd" compound: "abdulrahman", "abdelaziz", "abdurrahman" (the article's
consonant assimilated), "abdirahman" (Somali), "abdrahman"."""


def normalise_name(text: str) -> tuple[str, ...]:
    """A name's tokens, in order, in the form names are compared in (module docstring)."""
    return analyse_name(text)[0]


@lru_cache(maxsize=65536)
def analyse_name(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(tokens, spellings)``: the normalised tokens and, position by position, each one
    as written before its romanisation was folded. Scoring compares both, so that a typo in
    "Hossein" is still near the listed "Hossein" although that is folded to "husayn"."""
    raw = _raw_tokens(text)
    named = [token for token in raw if _fold(token) not in HONORIFICS]
    tokens: list[str] = []
    spellings: list[str] = []
    article = None
    for token in named or raw:
        folded = _fold(token)
        while folded != "abdullah" and (match := _ABD_PREFIX.match(folded)):
            tokens.append("abd")
            spellings.append(folded[: match.end()])
            token = folded[match.end() :]
            folded = _fold(token)
        if article is None and tokens and tokens[-1] == "abd" and folded in ABD_ARTICLES:
            article = token
            continue
        article = None
        tokens.append(folded)
        spellings.append(token)
    if article is not None:
        tokens.append(article)
        spellings.append(article)
    return tuple(tokens), tuple(spellings)


def _raw_tokens(text: str) -> tuple[str, ...]:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    ascii_text = _DELETED.sub("", anyascii(_DELETED.sub("", stripped))).lower()
    return tuple(token for token in _SEPARATOR.split(ascii_text) if token)


def _fold(token: str) -> str:
    return SPELLING_VARIANTS.get(token, token)


@lru_cache(maxsize=65536)
def blocking_keys(token: str) -> tuple[str, ...]:
    """The keys a token is indexed and looked up under: its Metaphone (sound) and, for
    tokens of four letters or more, the token with each one letter deleted (SymSpell's
    deletion neighbourhood: two tokens one insertion, deletion, substitution or
    transposition apart always share one), plus the token itself. In a fixed order: the
    order of keys breaks ties between candidates, so it must not depend on the hash seed."""
    if not token.isalpha() or len(token) < 4:
        return (f"d:{token}",)
    deletions = dict.fromkeys(token[:at] + token[at + 1 :] for at in range(len(token)))
    return (f"m:{jellyfish.metaphone(token)}", f"d:{token}", *(f"d:{d}" for d in deletions))


@dataclass(frozen=True, slots=True)
class _ListedName:
    ent_num: int
    name: str
    matched_on: str
    weak: bool
    tokens: tuple[str, ...]
    spellings: tuple[str, ...]
    words: int
    individual: bool


class NameIndex:
    """Every entry's primary name and aliases (weak ones too, see ``WEAK_ALIAS_PENALTY``),
    normalised once, with the blocking keys and the token weights.

    Immutable after ``build``: ``screen`` only reads, so it is safe from many threads."""

    __slots__ = ("_entries", "_listed_weights", "_names", "_postings", "_weights")

    def __init__(self, entries: Sequence[Entry], names: Sequence[_ListedName]) -> None:
        self._entries = {entry.ent_num: entry for entry in entries}
        self._names = tuple(names)
        document_frequency: Counter[str] = Counter()
        postings: dict[str, list[int]] = {}
        for number, listed in enumerate(self._names):
            document_frequency.update(set(listed.tokens))
            for key in {key for token in listed.tokens for key in blocking_keys(token)}:
                postings.setdefault(key, []).append(number)
        self._postings = {key: frozenset(numbers) for key, numbers in postings.items()}
        self._weights = _rarity_weights(document_frequency, len(self._names))
        self._listed_weights = tuple(self._weigh(listed.tokens) for listed in self._names)

    @classmethod
    def build(cls, entries: Iterable[Entry]) -> NameIndex:
        entries = tuple(entries)
        names = [listed for entry in entries for listed in _listed_names(entry) if listed.tokens]
        return cls(entries, names)

    def __len__(self) -> int:
        return len(self._entries)

    def weight(self, token: str) -> float:
        """How much a token says about who someone is (module docstring, Scoring)."""
        if token in PARTICLES:
            return PARTICLE_WEIGHT
        return self._weights.get(token, 1.0)

    def screen(
        self,
        name: str,
        *,
        entity_type: str | None = None,
        date_of_birth: str | None = None,
        countries: Iterable[str] = (),
        floor: float | None = None,
        limit: int = 5,
    ) -> list[NameHit]:
        """The entries ``name`` may be, best first, at most one hit per entry and ``limit``
        hits, each scoring at least ``floor`` (default: the potential-match threshold)."""
        if entity_type not in ENTITY_TYPES:
            raise ValueError(
                f"entity_type {entity_type!r} is not one of {sorted(ENTITY_TYPES - {None})}"
            )
        tokens, spellings = analyse_name(name)
        if not tokens:
            return []
        floor = DEFAULT_THRESHOLDS.potential_match if floor is None else floor
        year = _year(date_of_birth)
        wanted = {code.upper() for code in countries}
        query = _Tokens(tokens, spellings, self._weigh(tokens))
        best: dict[int, NameHit] = {}
        for number in self._candidates(tokens, entity_type):
            listed = self._names[number]
            found = _Tokens(listed.tokens, listed.spellings, self._listed_weights[number])
            score = _score(query, found)
            if score <= 0.0:
                continue
            if listed.weak:
                score -= WEAK_ALIAS_PENALTY
            score = adjust(score, self._entries[listed.ent_num], year, wanted)
            held = best.get(listed.ent_num)
            if score >= floor and (held is None or score > held.score):
                best[listed.ent_num] = NameHit(
                    listed.ent_num, listed.name, listed.matched_on, round(score, 4)
                )
        return sorted(best.values(), key=lambda hit: (-hit.score, hit.ent_num))[:limit]

    def _candidates(self, query: tuple[str, ...], entity_type: str | None) -> list[int]:
        """The listed names sharing most blocking keys with the query, at most
        ``MAX_CANDIDATES``: rare keys nominate, common keys only rank the nominated; when
        nothing rare is shared, the names sharing every query token's keys, those closest
        to the query's length first."""
        per_token = [
            [self._postings.get(key, _NOTHING) for key in blocking_keys(token)]
            for token in dict.fromkeys(query)
        ]
        postings = [found for keys in per_token for found in keys]
        counts = Counter(chain.from_iterable(p for p in postings if len(p) <= COMMON_KEY))
        if counts:
            for common in (p for p in postings if len(p) > COMMON_KEY):
                counts.update(common.intersection(counts))
        else:
            words = _words(query)
            counts = Counter(
                {
                    n: -abs(self._names[n].words - words)
                    for n in self._sharing_every_token(per_token)
                }
            )
        if entity_type is not None:
            individual = entity_type == "individual"
            counts = Counter(
                {n: c for n, c in counts.items() if self._names[n].individual == individual}
            )
        return [number for number, _ in counts.most_common(MAX_CANDIDATES)]

    def _sharing_every_token(self, per_token: list[list[frozenset[int]]]) -> frozenset[int]:
        token_sets = [frozenset().union(*keys) for keys in per_token]
        if len(token_sets) > 1:
            return frozenset.intersection(*token_sets)
        return frozenset(n for n in token_sets[0] if self._names[n].words <= 1)

    def score_tokens(self, query: str, listed: str) -> float:
        """0..1: how well two names are the same name, before any adjustment (module
        docstring)."""
        first, second = analyse_name(query), analyse_name(listed)
        return _score(
            _Tokens(*first, self._weigh(first[0])), _Tokens(*second, self._weigh(second[0]))
        )

    def _weigh(self, tokens: Sequence[str]) -> tuple[float, ...]:
        return tuple(self.weight(token) for token in tokens)


_NOTHING: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class _Tokens:
    tokens: tuple[str, ...]
    spellings: tuple[str, ...]
    weights: tuple[float, ...]


def _score(query: _Tokens, listed: _Tokens) -> float:
    """Pair tokens one to one, best first; the geometric mean of the two coverages, where
    a token left unpaired counts ``UNPAIRED_WEIGHT`` of its weight (module docstring)."""
    pairs = sorted(_pairs(query, listed), reverse=True)
    used_query: set[int] = set()
    used_listed: set[int] = set()
    covered_query = covered_listed = paired_query = paired_listed = 0.0
    words = 0
    for similarity, i, j in pairs:
        if i in used_query or j in used_listed:
            continue
        used_query.add(i)
        used_listed.add(j)
        covered_query += similarity * query.weights[i]
        covered_listed += similarity * listed.weights[j]
        paired_query += query.weights[i]
        paired_listed += listed.weights[j]
        words += query.tokens[i] not in PARTICLES and listed.tokens[j] not in PARTICLES
    everything = len(used_query) == len(query.tokens) and len(used_listed) == len(listed.tokens)
    if not _enough_words(words, _words(query.tokens), _words(listed.tokens), everything):
        return 0.0
    query_coverage = covered_query / _discounted(paired_query, sum(query.weights))
    listed_coverage = covered_listed / _discounted(paired_listed, sum(listed.weights))
    return math.sqrt(query_coverage * listed_coverage)


def _discounted(paired: float, total: float) -> float:
    return paired + UNPAIRED_WEIGHT * (total - paired)


def _pairs(query: _Tokens, listed: _Tokens) -> Iterable[tuple[float, int, int]]:
    similarity = JaroWinkler.normalized_similarity
    for i, token in enumerate(query.tokens):
        spelled = query.spellings[i]
        for j, other in enumerate(listed.tokens):
            score = similarity(token, other, score_cutoff=TOKEN_FLOOR)
            if score < 1.0 and (spelled != token or listed.spellings[j] != other):
                score = max(
                    score,
                    similarity(spelled, listed.spellings[j], score_cutoff=TOKEN_FLOOR),
                )
            if score:
                yield score, i, j


def _words(tokens: Sequence[str]) -> int:
    return sum(token not in PARTICLES for token in tokens)


def _enough_words(paired: int, query_words: int, listed_words: int, everything: bool) -> bool:
    """The short-name rule (module docstring): a name of one word (particles aside) matches
    only when every token on both sides is paired ("Ali" is neither "ALI, Hassan" nor
    "ABU ALI"); otherwise at least two name words must pair."""
    if query_words <= 1 or listed_words <= 1:
        return everything
    return paired >= 2


def adjust(score: float, entry: Entry, year: int | None, countries: set[str]) -> float:
    """The score moved by what the query says besides the name: the date of birth (when
    both sides have one) and the countries (when both sides have some); capped to 0..1."""
    if year is not None and entry.dob_years:
        near = any(abs(year - listed) <= DOB_TOLERANCE_YEARS for listed in entry.dob_years)
        score += DOB_BONUS if near else -DOB_PENALTY
    if countries and entry.country_codes:
        score += COUNTRY_BONUS if countries & entry.country_codes else -COUNTRY_PENALTY
    return min(1.0, max(0.0, score))


def _year(date_of_birth: str | None) -> int | None:
    """The year of ``YYYY-MM-DD`` or ``YYYY``; ``ValueError`` for anything else."""
    if date_of_birth is None:
        return None
    if not re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", date_of_birth.strip()):
        raise ValueError(f"date of birth {date_of_birth!r} is not YYYY-MM-DD or YYYY")
    return int(date_of_birth.strip()[:4])


def _rarity_weights(document_frequency: Counter[str], names: int) -> dict[str, float]:
    """0.4..1.0 by inverse document frequency on the list: a token on five names or fewer
    weighs 1.0, "muhammad" (on about a twentieth of the names) about 0.6."""
    ceiling = math.log(names / 5)
    return {
        token: 0.4 + 0.6 * min(1.0, math.log(names / count) / ceiling)
        for token, count in document_frequency.items()
        if count > 5
    }


def _listed_names(entry: Entry) -> Iterable[_ListedName]:
    individual = entry.sdn_type == "individual"
    yield _listed(entry, entry.name, "name", weak=False, individual=individual)
    for alias in entry.aliases:
        yield _listed(entry, alias.name, "alias", weak=alias.weak, individual=individual)


def _listed(entry: Entry, name: str, matched_on: str, *, weak: bool, individual: bool):
    tokens, spellings = analyse_name(name)
    return _ListedName(
        entry.ent_num, name, matched_on, weak, tokens, spellings, _words(tokens), individual
    )

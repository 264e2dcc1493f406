"""Name normalisation, scoring and screening: table tests on the rules, the real list for
known people and innocuous names, hypothesis for the invariants."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.screening.names import (
    DEFAULT_THRESHOLDS,
    NameHit,
    Thresholds,
    classify,
    normalise_name,
)

pytestmark = pytest.mark.once


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("José Müller-Lüdenscheidt", ("jose", "muller", "ludenscheidt")),
        ("Dr. Mohammed Hussein", ("muhammad", "husayn")),
        ("Shaykh Usama bin Ladin", ("usama", "bin", "ladin")),
        ("Mullah Omar", ("umar",)),
        ("General Haji Yousef", ("yusuf",)),
        ("Al-Qaida", ("al", "qaida")),
        ("AL-'ALI, 'Adnan", ("al", "ali", "adnan")),
        ("Sa'id", ("said",)),
        ("Abd al-Rahman", ("abd", "rahman")),
        ("Abdulrahman", ("abd", "rahman")),
        ("Abdurrahman", ("abd", "rahman")),
        ("Abdel Aziz", ("abd", "aziz")),
        ("Abdallah", ("abdullah",)),
        ("Иванов Иван Иванович", ("ivanov", "ivan", "ivanovich")),
        ("Ахмед Хусейн", ("ahmad", "husayn")),
        ("محمد", ("mhmd",)),
        ("John Smith Jr.", ("john", "smith")),
        ("GENERAL", ("general",)),
        ("  ,;  ", ()),
    ],
)
def test_normalise_name(text, tokens):
    assert normalise_name(text) == tokens


@given(st.text(max_size=40))
def test_normalise_name_is_idempotent_on_its_output(text):
    tokens = normalise_name(text)
    assert normalise_name(" ".join(tokens)) == tokens


@pytest.mark.parametrize(
    ("query", "listed", "low", "high"),
    [
        ("Gerhard Wisser", "WISSER, Gerhard", 1.0, 1.0),
        ("Mohamed Yousef", "MUHAMMAD, Yusuf", 1.0, 1.0),
        ("Pavel Lapshov", "LAPSHOV, Pavel Vladimirovich", 0.85, 0.95),
        ("Gerhard Wiser", "WISSER, Gerhard", 0.95, 0.999),
        ("Gerhadr Wisser", "WISSER, Gerhard", 0.9, 0.999),
        ("Peter Wisser", "WISSER, Gerhard", 0.0, 0.8),
        ("Ali", "ALI, Hassan", 0.0, 0.0),
        ("Ali", "ABU ALI", 0.0, 0.0),
        ("John Smith", "SMITH, Peter", 0.0, 0.8),
    ],
    ids=["reordered", "romanised", "middle-dropped", "typo-deleted", "typo-transposed",
         "other-person", "one-word-vs-two", "one-word-vs-particle", "shared-surname"],
)  # fmt: skip
def test_scores(name_index, query, listed, low, high):
    assert low <= name_index.score_tokens(query, listed) <= high


@settings(max_examples=50, deadline=None)
@given(st.randoms(use_true_random=False))
def test_token_order_does_not_change_the_score(name_index, rng):
    words = list(normalise_name("Mohamed Jamal Rahim Ahmed AL-KASHEF bin Gamal"))
    shuffled = words[:]
    rng.shuffle(shuffled)
    listed = "AL-KASHIF, Muhammad Jamal 'Abd-al Rahim Ahmad"
    assert name_index.score_tokens(" ".join(shuffled), listed) == pytest.approx(
        name_index.score_tokens(" ".join(words), listed)
    )


@pytest.mark.parametrize(
    ("score", "verdict"),
    [(1.0, "match"), (0.95, "match"), (0.9499, "potential_match"), (0.85, "potential_match"),
     (0.8499, "clear"), (0.0, "clear")],
)  # fmt: skip
def test_classify(score, verdict):
    assert classify(score) == verdict


def test_classify_with_other_thresholds():
    assert classify(0.7, Thresholds(match=0.9, potential_match=0.6)) == "potential_match"


def test_wisser_is_a_match_on_his_entry(name_index):
    hits = name_index.screen("Gerhard Wisser", date_of_birth="1939-07-02", countries=["DE"])
    assert hits[0] == NameHit(11366, "WISSER, Gerhard", "name", 1.0)
    assert classify(hits[0].score) == "match"


@pytest.mark.parametrize(
    ("kwargs", "score"),
    [
        ({}, 1.0),
        ({"date_of_birth": "1940"}, 1.0),
        ({"date_of_birth": "1980-01-01"}, 0.88),
        ({"countries": ["FR"]}, 0.95),
        ({"date_of_birth": "1980", "countries": ["FR"]}, 0.83),
    ],
    ids=["name-only", "dob-within-a-year", "dob-differs", "country-differs", "both-differ"],
)
def test_dob_and_country_move_the_score(name_index, kwargs, score):
    hits = name_index.screen("Gerhard Wisser", floor=0.0, **kwargs)
    assert hits[0].ent_num == 11366
    assert hits[0].score == pytest.approx(score)


def test_agreement_raises_a_partial_score(name_index):
    plain = name_index.screen("Gerhard Wiser", floor=0.0)[0].score
    agreeing = name_index.screen(
        "Gerhard Wiser", floor=0.0, date_of_birth="1939", countries=["de"]
    )[0].score
    assert agreeing == pytest.approx(min(1.0, plain + 0.04 + 0.02))


@pytest.mark.parametrize(
    ("query", "ent_num"),
    [
        ("Nasser Maleki", 10609),
        ("Osama bin Laden", 6365),
        ("NATIONAL BANK OF CUBA", 306),
        ("Гeрхард Виссер", 11366),
    ],
)
def test_known_names_and_aliases_are_found(name_index, query, ent_num):
    assert ent_num in {hit.ent_num for hit in name_index.screen(query)}


@pytest.mark.parametrize("query", ["John Smith", "Maria Garcia", "Emma Johnson", "Ali"])
def test_innocuous_common_names_are_clear(name_index, query):
    assert name_index.screen(query) == []


def test_a_weak_alias_alone_is_never_an_automatic_match(name_index):
    hits = name_index.screen("BNC")
    assert [(hit.ent_num, hit.matched_on) for hit in hits] == [(306, "alias")]
    assert classify(hits[0].score) == "potential_match"


def test_entity_type_restricts_the_comparison(name_index):
    assert name_index.screen("Banco Nacional de Cuba", entity_type="individual") == []
    assert name_index.screen("Banco Nacional de Cuba", entity_type="entity")[0].ent_num == 306
    assert name_index.screen("Gerhard Wisser", entity_type="entity") == []
    with pytest.raises(ValueError, match="entity_type"):
        name_index.screen("Gerhard Wisser", entity_type="vessel")


def test_one_hit_per_entry_best_first_within_limit(name_index):
    hits = name_index.screen("Muhammad Ali", limit=3)
    assert len(hits) == 3
    assert len({hit.ent_num for hit in hits}) == 3
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_a_bad_date_of_birth_is_refused(name_index):
    with pytest.raises(ValueError, match="date of birth"):
        name_index.screen("Gerhard Wisser", date_of_birth="02/07/1939")


def test_len_is_the_number_of_entries(name_index, sdn_list):
    assert len(name_index) == len(sdn_list) == 8976


def test_shipped_thresholds_are_ordered():
    assert 0 < DEFAULT_THRESHOLDS.potential_match < DEFAULT_THRESHOLDS.match <= 1


def test_screening_is_deterministic(name_index):
    rng = random.Random(7)
    queries = ["Mohamed Hossein", "Ivan Petrov", "Al Aqsa Foundation", "Juan Luis Roig"]
    first = [name_index.screen(q, floor=0.5) for q in queries]
    rng.shuffle(queries)
    again = {q: name_index.screen(q, floor=0.5) for q in queries}
    assert [
        again[q] for q in ["Mohamed Hossein", "Ivan Petrov", "Al Aqsa Foundation", "Juan Luis Roig"]
    ] == first

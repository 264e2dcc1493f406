"""Issue 15 over the real stack: the shipped OFAC lists loaded as a list version, profiles
written through ``PUT /api/v1/accounts``, the access check, the pre-trade check, custody
withdrawals and deposits, the list versions and their differences, the re-screen.

Real data: ``WISSER, Gerhard`` (SDN entry 11366, DOB 02 Jul 1939, Germany) and
``0x7F367cC41522cE07553e823bf3be79A889DEbe1B``, an ETH address in entry remarks of the July
2021 list; ``0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1`` is in the 2024 address list.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from compliance import decision_log, rescreen, sanctions, services
from compliance.models import (
    AccessDecision,
    AccountProfile,
    AccountProfileVersion,
    SanctionsListChange,
    SanctionsListVersion,
    ScreeningCase,
)
from compliance.screening.sdn import ListFormatError
from core.clock import ManualClock, use_clock
from core.models import AuditEntry
from custody.models import Transfer
from oversight.models import Alert
from tests.conftest import auth

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
IP_SG = "1.32.128.1"
LISTED_ETH = "0x7F367cC41522cE07553e823bf3be79A889DEbe1B"
LISTED_ETH_2024 = "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1"
CLEAN_ETH = "0x1111111111111111111111111111111111111111"


@pytest.fixture(autouse=True)
def clock():
    with use_clock(ManualClock(NOW)) as manual:
        yield manual


@pytest.fixture
def shipped(db):
    version, created = sanctions.load_shipped(actor="test")
    assert created
    return version


@pytest.fixture
def keys(make_key):
    return {
        "reference": make_key("reference"),
        "pretrade": make_key("pretrade"),
        "custody": make_key("custody", "reference"),
    }


@pytest.fixture
def put(api, keys, redis_conn, django_capture_on_commit_callbacks):
    def write(account_id, **extra):
        body = {
            "residence_country": "DE",
            "entity_type": "individual",
            "investor_category": "retail",
            "status": "active",
            **extra,
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = api.put(
                f"/api/v1/accounts/{account_id}", body, format="json", **auth(keys["reference"])
            )
        assert response.status_code in (200, 201), response.content
        return response.json()

    return write


def access(api, keys, account_id, action="open", product="crypto_perp"):
    body = {
        "account_id": account_id,
        "client_ip": IP_SG,
        "product_class": product,
        "action": action,
    }
    response = api.post("/api/v1/access/check", body, format="json", **auth(keys["pretrade"]))
    assert response.status_code == 200, response.content
    return response.json()


def screen(api, keys, body):
    return api.post("/api/v1/screening/check", body, format="json", **auth(keys["reference"]))


# --- POST /api/v1/screening/check ------------------------------------------------------


def test_a_listed_person_matches_with_the_contract_shape(api, keys, shipped):
    answer = screen(
        api,
        keys,
        {
            "name": "Gerhard Wisser",
            "entity_type": "individual",
            "date_of_birth": "1939-07-02",
            "countries": ["DE"],
        },
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["result"] == "match"
    first = body["matches"][0]
    assert first["list"] == "ofac_sdn" and first["entry_id"] == "11366"
    assert first["name"] == "WISSER, Gerhard" and first["matched_on"] == "name"
    assert Decimal(first["score"]) >= Decimal("0.9")
    assert first["programs"] == ["NPWMD", "IFSR"]
    assert body["list_version"] == shipped.label
    assert body["list_version"].startswith("ofac_sdn@2021-07-07")


def test_a_contradicting_date_of_birth_lowers_the_score(api, keys, shipped):
    agreeing = screen(api, keys, {"name": "Gerhard Wisser", "date_of_birth": "1939"}).json()
    contradicting = screen(api, keys, {"name": "Gerhard Wisser", "date_of_birth": "1990"}).json()

    def score(body):
        found = [m for m in body["matches"] if m["entry_id"] == "11366"]
        return Decimal(found[0]["score"]) if found else Decimal(0)

    assert score(contradicting) < score(agreeing)


@pytest.mark.parametrize("name", ["Maria Garcia Lopez", "John Smith", "Ingrid Johansson"])
def test_ordinary_names_are_clear(api, keys, shipped, name):
    body = screen(api, keys, {"name": name, "entity_type": "individual"}).json()
    assert body["result"] == "clear", body


@pytest.mark.parametrize(
    "address", [LISTED_ETH, LISTED_ETH.lower(), LISTED_ETH.upper().replace("0X", "0x")]
)
def test_a_listed_address_matches_in_any_case(api, keys, shipped, address):
    body = screen(api, keys, {"addresses": [{"asset": "ETH", "address": address}]}).json()
    assert body["result"] == "match"
    assert body["matches"][0]["matched_on"] == "address"
    assert body["matches"][0]["entry_id"] is not None


def test_an_address_only_on_the_2024_list_matches_without_an_entry(api, keys, shipped):
    body = screen(api, keys, {"addresses": [{"asset": "USDT", "address": LISTED_ETH_2024}]})
    match = body.json()["matches"][0]
    assert match["matched_on"] == "address" and body.json()["result"] == "match"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "A", "date_of_birth": "02/07/1939"}, "date_of_birth"),
        ({"name": "A", "countries": ["XX"]}, "countries"),
        ({"addresses": [{"asset": "ETH", "address": "0x12 34"}]}, "addresses"),
        ({"name": "A", "favourite": 1}, "favourite"),
    ],
)
def test_bad_screening_requests_are_400(api, keys, shipped, body, field):
    response = screen(api, keys, body)
    assert response.status_code == 400, response.content
    assert field in {name.split(".")[0] for name in response.json()["error"]["fields"]}


def test_without_a_list_screening_answers_503_not_clear(api, keys):
    response = screen(api, keys, {"name": "Gerhard Wisser"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SCREENING_UNAVAILABLE"


def test_the_lists_endpoint_names_the_versions(api, keys, shipped):
    body = api.get("/api/v1/screening/lists", **auth(keys["reference"])).json()
    (only,) = body["lists"]
    assert only["list_version"] == shipped.label and only["in_force"]
    assert only["entries"] == 8976 and only["addresses"] > 600
    assert only["published_on"] == "2021-07-07" and only["addresses_as_of"] == "2024-09-27"


# --- The account's lifecycle -----------------------------------------------------------


def test_a_listed_name_is_reviewed_on_the_very_next_check(api, keys, shipped, put):
    body = put("acc-w", full_name="Gerhard Wisser", date_of_birth="1939-07-02")
    assert body["sanctions_status"] == "review"
    answer = access(api, keys, "acc-w")
    assert answer["effect"] == "review"
    assert answer["reasons"][0]["code"] == "SANCTIONS_REVIEW"
    assert answer["reasons"][0]["check"] == "sanctions"
    case = ScreeningCase.objects.get(account_id="acc-w")
    assert case.entry_id == 11366 and case.status == "open" and case.subject == "holder"
    assert case.list_version == shipped


def test_a_clean_name_is_clear_and_allowed(api, keys, shipped, put):
    assert put("acc-c", full_name="Ingrid Johansson")["sanctions_status"] == "clear"
    assert access(api, keys, "acc-c")["effect"] == "allow"
    assert not ScreeningCase.objects.filter(account_id="acc-c").exists()


def test_a_cleared_false_positive_is_not_flagged_again(api, keys, shipped, put):
    put("acc-fp", full_name="Gerhard Wisser")
    case = ScreeningCase.objects.get(account_id="acc-fp")
    with pytest.raises(services.FourEyesRequired):
        services.decide_screening_case(
            case_id=case.pk, decision="false_positive", note="n", proposed_by="a", actor="a"
        )
    services.decide_screening_case(
        case_id=case.pk,
        decision="false_positive",
        note="different person: born 1985",
        proposed_by="officer:maker",
        actor="officer:checker",
    )
    assert access(api, keys, "acc-fp")["effect"] == "allow"
    # another write of the profile, same name: the cleared entry does not re-flag it
    assert (
        put("acc-fp", full_name="Gerhard Wisser", investor_category="professional")[
            "sanctions_status"
        ]
        == "clear"
    )
    assert ScreeningCase.objects.filter(account_id="acc-fp").count() == 1
    # a re-screen does not either
    services.rescreen_account("acc-fp", actor="test")
    assert ScreeningCase.objects.filter(account_id="acc-fp").count() == 1
    # a changed name is screened afresh
    put("acc-fp", full_name="WISSER, Gerhard")
    assert ScreeningCase.objects.filter(account_id="acc-fp", status="open").count() == 1
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"screening.case.false_positive", "account.screening"} <= actions


def test_a_confirmed_match_denies_every_action(api, keys, shipped, put):
    put("acc-m", full_name="Gerhard Wisser")
    case = ScreeningCase.objects.get(account_id="acc-m")
    services.decide_screening_case(
        case_id=case.pk, decision="confirmed", note="same DOB", proposed_by="a", actor="b"
    )
    for action in ("open", "reduce", "deposit", "withdraw", "view"):
        answer = access(api, keys, "acc-m", action=action)
        assert answer["effect"] == "deny", action
        assert answer["reasons"][0]["code"] == "SANCTIONS_MATCH"
    profile = AccountProfile.objects.get(account_id="acc-m")
    assert profile.sanctions_status == "match"
    last = AccountProfileVersion.objects.filter(account_id="acc-m").order_by("-version").first()
    assert last.facts["sanctions_status"] == "match" and last.changed_by == "b"


def test_a_controlling_person_on_the_list_opens_a_case(api, keys, shipped, put):
    body = put(
        "acc-ent",
        entity_type="entity",
        full_name="Harbour Trading Pte Ltd",
        controlling_persons=[
            {"name": "Gerhard Wisser", "country": "DE", "date_of_birth": "1939-07-02"}
        ],
    )
    assert body["sanctions_status"] == "review"
    assert ScreeningCase.objects.get(account_id="acc-ent").subject == "controlling_person:0"


def test_a_listed_wallet_of_the_account_is_a_match_at_once(api, keys, shipped, put):
    body = put("acc-wal", wallet_addresses=[{"asset": "ETH", "address": LISTED_ETH.lower()}])
    assert body["sanctions_status"] == "match"
    assert access(api, keys, "acc-wal", action="withdraw")["reasons"][0]["code"] == (
        "SANCTIONS_MATCH"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": "1939-13-02"}, "date_of_birth"),
        ({"date_of_birth": "2999"}, "date_of_birth"),
        ({"wallet_addresses": [{"asset": "ETH", "address": "not an address"}]}, "wallet_addresses"),
        ({"wallet_addresses": [{"asset": "ETH"}]}, "wallet_addresses"),
        ({"controlling_persons": [{"name": "X"}]}, "controlling_persons"),
    ],
)
def test_bad_screening_fields_are_400_and_write_nothing(api, keys, shipped, change, field):
    body = {
        "residence_country": "DE",
        "entity_type": "individual",
        "investor_category": "retail",
        "status": "active",
        **change,
    }
    response = api.put("/api/v1/accounts/acc-bad", body, format="json", **auth(keys["reference"]))
    assert response.status_code == 400, response.content
    assert field in {name.split(".")[0] for name in response.json()["error"]["fields"]}
    assert not AccountProfile.objects.filter(account_id="acc-bad").exists()


def test_an_account_written_before_any_list_is_reviewed_until_screened(
    api, keys, put, django_capture_on_commit_callbacks
):
    assert put("acc-early", full_name="Gerhard Wisser")["sanctions_status"] == "review"
    assert put("acc-plain")["sanctions_status"] == "clear"  # nothing to screen
    version, _ = sanctions.load_shipped(actor="test")
    screened, finished = rescreen.rescreen(version.pk, max_seconds=60, chunk=1)
    assert finished and screened == 2
    assert ScreeningCase.objects.filter(account_id="acc-early", status="open").count() == 1
    assert AccountProfile.objects.get(account_id="acc-plain").sanctions_status == "clear"
    # idempotent: asked again, the finished re-screen does nothing more
    assert rescreen.rescreen_chunk(version.pk) == (0, True)
    assert ScreeningCase.objects.filter(account_id="acc-early").count() == 1


def test_a_rescreen_resumes_from_its_cursor(db, put, shipped):
    for index in range(5):
        put(f"acc-{index}", full_name="Ingrid Johansson")
    put("acc-9", full_name="Gerhard Wisser")
    ScreeningCase.objects.all().delete()
    AccountProfile.objects.filter(account_id="acc-9").update(sanctions_status="clear")
    assert rescreen.rescreen_chunk(shipped.pk, chunk=3) == (3, False)
    assert SanctionsListVersion.objects.get(pk=shipped.pk).rescreen_cursor == "acc-2"
    assert rescreen.rescreen_chunk(shipped.pk, chunk=3) == (3, False)
    assert rescreen.rescreen_chunk(shipped.pk, chunk=3) == (0, True)
    assert AccountProfile.objects.get(account_id="acc-9").sanctions_status == "review"


# --- Custody ---------------------------------------------------------------------------


def movement(api, keys, kind, **extra):
    body = {
        "id": extra.pop("id"),
        "account_id": "acc-cus",
        "asset": "USDC",
        "amount": "100.00",
        "custody_wallet": "wallet-a",
        **extra,
    }
    return api.post(f"/api/v1/custody/{kind}", body, format="json", **auth(keys["custody"]))


def test_a_withdrawal_to_a_listed_address_is_refused_and_moves_nothing(
    api, keys, shipped, put, django_capture_on_commit_callbacks
):
    put("acc-cus")
    with django_capture_on_commit_callbacks(execute=True):
        assert movement(api, keys, "deposits", id="d-1").status_code == 201
    before = Transfer.objects.count()
    response = movement(api, keys, "withdrawals", id="w-1", address=LISTED_ETH.lower())
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "SANCTIONS_MATCH"
    assert Transfer.objects.count() == before
    ok = movement(api, keys, "withdrawals", id="w-2", address=CLEAN_ETH, amount="10.00")
    assert ok.status_code == 201, ok.content


def test_a_deposit_from_a_listed_address_is_booked_and_alerted(
    api, keys, shipped, put, django_capture_on_commit_callbacks
):
    put("acc-cus")
    with django_capture_on_commit_callbacks(execute=True):
        response = movement(api, keys, "deposits", id="d-9", address=LISTED_ETH_2024)
    assert response.status_code == 201, response.content
    alert = Alert.objects.latest("id")
    assert alert.severity == "critical" and "frozen as blocked property" in alert.title
    assert "SANCTIONS_MATCH" in json.dumps(alert.detail, default=str)
    assert alert.detail["frozen_by"] == "d-9#blocked"
    # booked and frozen: the client's total includes it, nothing of it is available
    balances = api.get("/api/v1/custody/accounts/acc-cus/balances", **auth(keys["custody"]))
    (usdc,) = [b for b in balances.json()["balances"] if b["asset"] == "USDC"]
    assert Decimal(usdc["total"]) == 100 and Decimal(usdc["available"]) == 0
    assert movement(api, keys, "withdrawals", id="w-9", amount="1.00").status_code == 422
    assert AuditEntry.objects.filter(action="sanctions.address_flagged").count() == 1
    assert AuditEntry.objects.filter(action="custody.deposit_frozen").count() == 1
    # a repeat of the deposit freezes nothing twice
    with django_capture_on_commit_callbacks(execute=True):
        again = movement(api, keys, "deposits", id="d-9", address=LISTED_ETH_2024)
    assert again.status_code in (200, 201)
    assert AuditEntry.objects.filter(action="custody.deposit_frozen").count() == 1
    _, blocked = screening_sections_rows()
    assert ("acc-cus", "frozen_deposit", "USDC", "100.000000", "100.000000") in blocked


def test_a_withdrawal_of_an_account_under_review_is_held(
    api, keys, shipped, put, django_capture_on_commit_callbacks
):
    put("acc-cus", full_name="Gerhard Wisser")
    with django_capture_on_commit_callbacks(execute=True):
        assert movement(api, keys, "deposits", id="d-2").status_code == 201
    response = movement(api, keys, "withdrawals", id="w-3")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "held"
    assert response.json()["reasons"][0]["code"] == "SANCTIONS_REVIEW"


# --- List versions ---------------------------------------------------------------------


def _copy_lists(tmp_path):
    sdn = tmp_path / "sdn"
    addresses = tmp_path / "addresses"
    shutil.copytree(sanctions.SHIPPED_SDN_DIR, sdn)
    shutil.copytree(sanctions.SHIPPED_ADDRESSES_DIR, addresses)
    return sdn, addresses


def test_a_delisted_address_stops_matching_in_the_next_version(api, keys, shipped, tmp_path):
    sdn, addresses = _copy_lists(tmp_path)
    eth = addresses / "sanctioned_addresses_ETH.json"
    listed = json.loads(eth.read_text())
    assert LISTED_ETH_2024 in listed
    eth.write_text(json.dumps([a for a in listed if a != LISTED_ETH_2024]))
    version, created = sanctions.load_version(
        sdn_dir=sdn, addresses_dir=addresses, published_on=date(2025, 3, 21), actor="test"
    )
    assert created and version.version == 2
    removed = SanctionsListChange.objects.get(list_version=version, kind="address_removed")
    assert removed.address == LISTED_ETH_2024.lower()
    assert version.changes_summary == {"address_removed": 1}
    body = screen(api, keys, {"addresses": [{"asset": "ETH", "address": LISTED_ETH_2024}]})
    assert body.json()["result"] == "clear" and body.json()["list_version"] == version.label


def test_a_decision_names_the_case_and_list_version_it_rests_on(api, keys, shipped, put, tmp_path):
    put("acc-v", full_name="Gerhard Wisser")
    case = ScreeningCase.objects.get(account_id="acc-v")
    detail = access(api, keys, "acc-v")["reasons"][0]["detail"]
    assert detail["case"] == case.pk and detail["list_version"] == shipped.label
    assert (detail["entry_id"], detail["matched_on"], detail["live_cases"]) == (11366, "name", 1)
    services.decide_screening_case(
        case_id=case.pk, decision="confirmed", note="same person", proposed_by="a", actor="b"
    )
    # a later list version does not rewrite what the earlier decisions rested on
    sdn, addresses = _copy_lists(tmp_path)
    (sdn / "sdn.csv").write_text(
        (sdn / "sdn.csv").read_text(encoding="utf-8").replace("POB Lohne", "POB Vechta")
    )
    newer, created = sanctions.load_version(
        sdn_dir=sdn, addresses_dir=addresses, published_on=date(2021, 8, 1), actor="test"
    )
    assert created
    services.rescreen_account("acc-v", actor="test")
    detail = access(api, keys, "acc-v", action="withdraw")["reasons"][0]["detail"]
    assert detail["case"] == case.pk and detail["list_version"] == shipped.label
    assert decision_log.drain(claim_idle_ms=0) == 2
    stored = [
        row.reasons[0]["detail"]["list_version"]
        for row in AccessDecision.objects.filter(account_id="acc-v")
    ]
    assert stored == [shipped.label, shipped.label] and newer.label != shipped.label
    versions = AccountProfileVersion.objects.filter(account_id="acc-v").order_by("version")
    assert [v.facts["sanctions_basis"].get("case") for v in versions] == [case.pk, case.pk]
    assert [v.facts["sanctions_status"] for v in versions] == ["review", "match"]


def test_a_clear_account_carries_no_basis(api, keys, shipped, put):
    put("acc-n", full_name="Ingrid Johansson")
    assert AccountProfile.objects.get(account_id="acc-n").sanctions_basis == {}
    assert access(api, keys, "acc-n")["reasons"] == []


def test_the_same_files_again_are_not_a_new_version(shipped):
    again, created = sanctions.load_shipped(actor="test")
    assert not created and again.pk == shipped.pk


def test_an_entry_changed_in_the_next_version_is_a_stored_difference(shipped, tmp_path):
    sdn, addresses = _copy_lists(tmp_path)
    text = (sdn / "sdn.csv").read_text(encoding="utf-8")
    (sdn / "sdn.csv").write_text(text.replace("POB Lohne, Germany", "POB Vechta, Germany"))
    version, _ = sanctions.load_version(
        sdn_dir=sdn, addresses_dir=addresses, published_on=date(2021, 8, 1), actor="test"
    )
    change = SanctionsListChange.objects.get(list_version=version)
    assert (change.kind, change.entry_id, change.name) == (
        "entry_changed",
        11366,
        "WISSER, Gerhard",
    )


def test_a_malformed_list_is_refused_and_the_version_in_force_stays(shipped, tmp_path):
    sdn, addresses = _copy_lists(tmp_path)
    with (sdn / "alt.csv").open("a") as handle:
        handle.write('999999999,1,"aka","NOBODY",-0-\n')
    with pytest.raises(ListFormatError, match=r"alt\.csv, line"):
        sanctions.load_version(
            sdn_dir=sdn, addresses_dir=addresses, published_on=date(2021, 8, 1), actor="test"
        )
    with pytest.raises(CommandError, match="version in force stays"):
        call_command(
            "load_sanctions_list",
            "--csv-dir",
            str(sdn),
            "--addresses-dir",
            str(addresses),
            "--published",
            "2021-08-01",
            "--no-rescreen",
        )
    assert list(SanctionsListVersion.objects.values_list("pk", flat=True)) == [shipped.pk]
    assert sanctions.loaded().version_id == shipped.pk


def test_the_command_loads_and_reports(db, capsys):
    call_command("load_sanctions_list", "--shipped", "--no-rescreen")
    out = capsys.readouterr().out
    assert "loaded ofac_sdn@2021-07-07" in out and "8976 entries" in out
    call_command("load_sanctions_list", "--shipped", "--no-rescreen")
    assert "already loaded" in capsys.readouterr().out


# --- The daily report ------------------------------------------------------------------


def screening_sections_rows():
    from datetime import timedelta

    from compliance import screening_sections

    return screening_sections.blocked_property(NOW - timedelta(hours=1), NOW + timedelta(hours=1))


def test_the_report_sections_count_cases_blocked_property_refusals_and_lists(
    api, keys, shipped, put, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from compliance import screening_sections

    put("acc-cus", full_name="Gerhard Wisser")
    with django_capture_on_commit_callbacks(execute=True):
        assert movement(api, keys, "deposits", id="d-r1").status_code == 201
    assert movement(api, keys, "withdrawals", id="w-r1", address=LISTED_ETH).status_code == 422
    case = ScreeningCase.objects.get(account_id="acc-cus")
    services.decide_screening_case(
        case_id=case.pk, decision="confirmed", note="", proposed_by="a", actor="b"
    )
    start, end = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    _, cases = screening_sections.screening_cases(start, end)
    assert ("opened", "name", case.result, 1) in cases
    assert ("confirmed", "name", case.result, 1) in cases
    _, blocked = screening_sections.blocked_property(start, end)
    assert blocked == [("acc-cus", "account_match", "USDC", "100.000000", "0.000000")]
    _, refused = screening_sections.sanctions_refused_transactions(start, end)
    assert refused == [("sanctions.address_refused", "withdraw", "USDC", 1)]
    _, lists = screening_sections.sanctions_lists_in_force(start, end)
    assert [row[0] for row in lists] == [shipped.label] and lists[0][-1] is True


def test_the_thresholds_are_configuration(api, keys, shipped, settings):
    from django.core.exceptions import ImproperlyConfigured

    typo = {"name": "Gerhard Wiser", "entity_type": "individual"}
    assert screen(api, keys, typo).json()["result"] != "clear"
    settings.SCREENING_MATCH_THRESHOLD = 0.999
    settings.SCREENING_POTENTIAL_MATCH_THRESHOLD = 0.999
    assert screen(api, keys, typo).json()["result"] == "clear"
    settings.SCREENING_MATCH_THRESHOLD = 0.5
    with pytest.raises(ImproperlyConfigured):
        sanctions.thresholds()

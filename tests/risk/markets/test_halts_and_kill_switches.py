"""Operators' halts and resumes, kill switches and corporate-action halts: audited, durable,
mirrored where the pre-trade check reads them, in force the moment the request answers."""

from datetime import timedelta

import pytest

from core.clock import ManualClock, isoformat_z, use_clock
from core.models import AuditEntry
from core.redis_client import ACCOUNT_BUCKETS, account_key, global_key, instrument_key
from risk.markets import kill_switches
from risk.models import KillSwitch, KillSwitchEvent, MarketEvent
from tests.conftest import auth
from tests.risk.clock import et

pytestmark = pytest.mark.django_db

T0 = et("2026-11-24 10:00")


@pytest.fixture
def operator(make_key, demo_instruments):
    return make_key("operator")


def state(api, key, symbol="AAPL-PERP"):
    return api.get(f"/api/v1/markets/{symbol}/state", **auth(key)).json()


def test_halt_and_resume_are_audited_and_recorded(api, operator):
    with use_clock(ManualClock(T0)):
        halted = api.post(
            "/api/v1/markets/AAPL-PERP/halt",
            {"reason": "erroneous prints"},
            format="json",
            **auth(operator),
        )
        assert halted.status_code == 200, halted.json()
        assert (halted.json()["state"], halted.json()["reason"]) == ("halted", "MANUAL_HALT")
        assert state(api, operator)["state"] == "halted"
        again = api.post(
            "/api/v1/markets/AAPL-PERP/halt", {"reason": "twice"}, format="json", **auth(operator)
        )
        assert again.status_code == 409
        resumed = api.post(
            "/api/v1/markets/AAPL-PERP/resume",
            {"reason": "prints busted"},
            format="json",
            **auth(operator),
        )
        assert resumed.status_code == 200 and resumed.json()["reason"] != "MANUAL_HALT"
    events = list(MarketEvent.objects.order_by("id").values_list("to_status", "reason", "detail"))
    assert events[0] == ("halted", "MANUAL_HALT", "erroneous prints")
    assert events[1][1:] == ("MANUAL_HALT_ENDED", "prints busted")
    assert all(e.actor.startswith("key:") for e in MarketEvent.objects.all())
    actions = list(AuditEntry.objects.filter(object_type="market").values_list("action", flat=True))
    assert actions == ["market.halt", "market.resume"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/markets/AAPL-PERP/halt", {}, 400),
        ("/api/v1/markets/AAPL-PERP/halt", {"reason": "   "}, 400),
        ("/api/v1/markets/AAPL-PERP/halt", {"reason": "x", "until": "never"}, 400),
        ("/api/v1/markets/NOPE/halt", {"reason": "x"}, 404),
        ("/api/v1/markets/AAPL-PERP/resume", {"reason": "not halted"}, 409),
    ],
)
def test_halt_errors(api, operator, path, body, status):
    assert api.post(path, body, format="json", **auth(operator)).status_code == status


def test_halts_need_the_operator_scope(api, make_key, demo_instruments):
    key = make_key("marketdata", "reference")
    response = api.post(
        "/api/v1/markets/AAPL-PERP/halt", {"reason": "x"}, format="json", **auth(key)
    )
    assert response.status_code == 403


def switch(api, key, **body):
    return api.post("/api/v1/kill-switch", body, format="json", **auth(key))


def test_kill_switches_are_mirrored_where_the_pre_trade_check_reads(api, operator, redis_conn):
    assert switch(api, operator, scope="global", target="", engaged=True).status_code == 200
    assert redis_conn.exists(global_key("kill"))
    assert switch(api, operator, scope="account", target="acc-sg", engaged=True).status_code == 200
    assert redis_conn.exists(account_key("acc-sg", "kill"))
    response = switch(api, operator, scope="instrument", target="AAPL-PERP", engaged=True)
    assert response.status_code == 200 and response.json()["engaged"] is True
    assert redis_conn.hget(instrument_key("AAPL-PERP", "market"), "kill_status") == b"halted"
    assert (state(api, operator)["state"], state(api, operator)["reason"]) == (
        "halted",
        "KILL_SWITCH",
    )
    assert kill_switches.engaged_scopes(account_id="acc-sg", symbol="AAPL-PERP") == [
        "global",
        "account",
        "instrument",
    ]
    listed = api.get("/api/v1/kill-switch", **auth(operator)).json()
    assert {(s["scope"], s["target"]) for s in listed} == {
        ("global", ""),
        ("account", "acc-sg"),
        ("instrument", "AAPL-PERP"),
    }
    for scope, target in (("global", ""), ("account", "acc-sg"), ("instrument", "AAPL-PERP")):
        assert switch(api, operator, scope=scope, target=target, engaged=False).status_code == 200
    assert kill_switches.engaged_scopes(account_id="acc-sg", symbol="AAPL-PERP") == []
    assert state(api, operator)["reason"] != "KILL_SWITCH"
    assert KillSwitchEvent.objects.count() == 6
    assert KillSwitch.objects.filter(engaged=True).count() == 0
    audited = AuditEntry.objects.filter(object_type="kill_switch").values_list("action", flat=True)
    assert sorted(audited) == ["kill_switch.engage"] * 3 + ["kill_switch.release"] * 3


def test_engaging_twice_records_once(api, operator, redis_conn):
    switch(api, operator, scope="account", target="acc-hk", engaged=True)
    switch(api, operator, scope="account", target="acc-hk", engaged=True)
    assert KillSwitchEvent.objects.filter(target="acc-hk").count() == 1


def test_a_flushed_redis_cannot_release_a_switch(api, operator, redis_conn):
    switch(api, operator, scope="global", target="", engaged=True)
    redis_conn.delete(global_key("kill"))
    redis_conn.delete(kill_switches.bucket_kill_key(7))
    kill_switches.sync_to_redis()
    assert redis_conn.exists(global_key("kill"))
    assert redis_conn.exists(kill_switches.bucket_kill_key(7))


def test_the_global_switch_is_copied_into_every_account_bucket(api, operator, redis_conn):
    """A check reads its own bucket's copy (no key every check must visit on a cluster)."""
    switch(api, operator, scope="global", target="", engaged=True)
    copies = [kill_switches.bucket_kill_key(b) for b in range(ACCOUNT_BUCKETS)]
    assert sum(redis_conn.exists(key) for key in copies) == ACCOUNT_BUCKETS
    switch(api, operator, scope="global", target="", engaged=False)
    assert sum(redis_conn.exists(key) for key in copies) == 0
    assert not redis_conn.exists(global_key("kill"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "desk", "target": "x", "engaged": True}, "scope"),
        ({"scope": "account", "target": "", "engaged": True}, "target"),
        ({"scope": "account", "target": "{acct:x}", "engaged": True}, "target"),
        ({"scope": "instrument", "target": "NOPE", "engaged": True}, "target"),
        ({"scope": "global", "target": "acc-1", "engaged": True}, "target"),
        ({"scope": "global", "target": "", "engaged": "yes"}, "engaged"),
        ({"scope": "global", "engaged": True, "extra": 1}, "extra"),
    ],
)
def test_kill_switch_validation(api, operator, redis_conn, body, field):
    response = switch(api, operator, **body)
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_corporate_action_halts_exactly_in_its_window(api, operator, make_key):
    feed = make_key("marketdata")
    clock = ManualClock(T0)
    starts, ends = T0 + timedelta(minutes=10), T0 + timedelta(minutes=40)
    with use_clock(clock):
        response = api.post(
            "/api/v1/markets/AAPL-PERP/corporate-actions",
            {
                "corporate_action": "split",
                "starts_at": isoformat_z(starts),
                "ends_at": isoformat_z(ends),
                "detail": "4-for-1",
            },
            format="json",
            **auth(operator),
        )
        assert response.status_code == 201, response.json()
        action_id = response.json()["id"]
        api.post(
            "/api/v1/market-data/ticks",
            {
                "ticks": [
                    {
                        "instrument": "AAPL-PERP",
                        "price": "100",
                        "ts": isoformat_z(T0),
                        "source": "external",
                    }
                ]
            },
            format="json",
            **auth(feed),
        )
        clock.set(starts - timedelta(milliseconds=1))
        assert state(api, operator)["reason"] != "CORPORATE_ACTION"
        clock.set(starts)
        halted = state(api, operator)
        assert (halted["state"], halted["reason"], halted["until"]) == (
            "halted",
            "CORPORATE_ACTION",
            isoformat_z(ends),
        )
        clock.set(ends)
        assert state(api, operator)["reason"] != "CORPORATE_ACTION"
        clock.set(starts)
        cancelled = api.delete(
            f"/api/v1/markets/AAPL-PERP/corporate-actions/{action_id}", **auth(operator)
        )
        assert cancelled.status_code == 200 and cancelled.json()["cancelled_at"]
        assert state(api, operator)["reason"] != "CORPORATE_ACTION"
    assert AuditEntry.objects.filter(object_type="corporate_action").count() == 2


def test_corporate_action_window_must_end_after_it_starts(api, operator):
    with use_clock(ManualClock(T0)):
        response = api.post(
            "/api/v1/markets/AAPL-PERP/corporate-actions",
            {
                "corporate_action": "earnings",
                "starts_at": isoformat_z(T0 + timedelta(hours=2)),
                "ends_at": isoformat_z(T0 + timedelta(hours=1)),
                "detail": "Q4",
            },
            format="json",
            **auth(operator),
        )
    assert response.status_code == 400 and "ends_at" in response.json()["error"]["fields"]

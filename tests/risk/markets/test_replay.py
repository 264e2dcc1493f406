"""Both shipped tapes replay through the live controller's code on a virtual clock with
exactly the expected transitions (RULES.md §1, §2, §4-§6)."""

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from risk import demo
from risk.markets import replay
from risk.markets.replay import TapeError, read_tape, snapshot_for

TAPES = Path(__file__).resolve().parents[3] / "risk" / "markets" / "tapes"


def run(name: str, **options) -> replay.ReplayResult:
    rows = read_tape(TAPES / name)
    snapshot = snapshot_for({row.instrument for row in rows}, {}, demo.definitions())
    return replay.replay(rows, snapshot, **options)


def summary(result):
    return [
        (event.at.strftime("%H:%M:%S.%f")[:-3], event.instrument, event.to_status, event.reason)
        if event.kind == "transition"
        else (event.at.strftime("%H:%M:%S.%f")[:-3], event.instrument, "ignored", event.reason)
        for event in result.events
    ]


QUIET = [
    ("16:00:10.000", "AAPL-PERP", "limit_state", "LULD_LIMIT_STATE_UPPER"),
    ("16:00:18.000", "AAPL-PERP", "open", "LULD_LIMIT_STATE_UPPER_ENDED"),
    ("22:02:00.000", "AAPL-PERP", "close_only", "ORACLE_STALE"),
    ("22:03:00.000", "AAPL-PERP", "open", "ORACLE_STALE_ENDED"),
]

EQUITIES = ("AAPL-PERP", "NVDA-PERP", "SPY-PERP", "TSLA-PERP")
CRASH = [
    ("13:24:00.000", "TSLA-PERP", "close_only", "ORACLE_DIVERGENCE"),
    ("13:24:10.000", "TSLA-PERP", "limit_state", "LULD_LIMIT_STATE_LOWER"),
    ("13:24:25.000", "TSLA-PERP", "paused", "LULD_PAUSE"),
    ("13:29:25.000", "TSLA-PERP", "open", "LULD_PAUSE_ENDED"),
    *[("17:57:40.000", symbol, "halted", "MWCB_LEVEL_1") for symbol in EQUITIES],
    *[("18:12:40.000", symbol, "open", "MWCB_LEVEL_1_ENDED") for symbol in EQUITIES],
    *[("18:41:00.000", symbol, "halted", "MWCB_LEVEL_2") for symbol in EQUITIES],
    *[("18:56:00.000", symbol, "open", "MWCB_LEVEL_2_ENDED") for symbol in EQUITIES],
    ("19:00:10.000", "NVDA-PERP", "close_only", "ORACLE_STALE"),
    ("19:10:00.000", "NVDA-PERP", "open", "ORACLE_STALE_ENDED"),
    ("21:15:00.600", "BTC-PERP", "paused", "VELOCITY_PAUSE"),
    ("21:15:10.600", "BTC-PERP", "open", "VELOCITY_PAUSE_ENDED"),
    ("21:15:15.000", "BTC-PERP", "limit_state", "LULD_LIMIT_STATE_LOWER"),
    ("21:15:30.000", "BTC-PERP", "paused", "LULD_PAUSE"),
    ("21:16:01.000", "USTB-RWA", "ignored", "ABSURD_PRICE"),
    ("21:17:01.000", "USTB-RWA", "close_only", "ORACLE_DIVERGENCE"),
    ("21:17:06.000", "USTB-RWA", "open", "ORACLE_DIVERGENCE_ENDED"),
    ("21:20:30.000", "BTC-PERP", "open", "LULD_PAUSE_ENDED"),
]


def test_quiet_week_has_only_its_two_small_events():
    result = run("quiet_week.csv")
    assert summary(result) == QUIET
    assert result.rows > 7000


def test_crash_of_10_october_2025():
    result = run("crash_2025_10_10.csv")
    assert summary(result) == CRASH
    halts = [e for e in result.transitions if e.reason == "MWCB_LEVEL_1"]
    assert {e.until - e.at for e in halts} == {timedelta(minutes=15)}
    pause = next(
        e for e in result.transitions if e.reason == "LULD_PAUSE" and e.instrument == "BTC-PERP"
    )
    assert pause.until - pause.at == timedelta(minutes=5)


def test_the_tapes_are_reproducible(tmp_path, monkeypatch):
    from risk.markets.tapes import make_tapes

    monkeypatch.setattr(make_tapes, "HERE", tmp_path)
    make_tapes.crash()
    make_tapes.quiet_week()
    for name in ("crash_2025_10_10.csv", "quiet_week.csv"):
        assert (tmp_path / name).read_bytes() == (TAPES / name).read_bytes()


SMALL_TAPE = """# a limit state that pauses
ts,instrument,source,price
2026-11-24T15:00:00.000Z,AAPL-PERP,external,100.00
2026-11-24T15:00:00.000Z,AAPL-PERP,book,100.00
2026-11-24T15:00:00.000Z,AAPL-PERP,close,100.00
2026-11-24T15:00:05.000Z,AAPL-PERP,book,95.00
2026-11-24T15:00:20.000Z,AAPL-PERP,external,99.00
"""


@pytest.mark.django_db
def test_the_command_prints_transitions_and_writes_a_report(tmp_path):
    tape = tmp_path / "small.csv"
    tape.write_text(SMALL_TAPE)
    report = tmp_path / "report.csv"
    out = StringIO()
    call_command("replay_tape", str(tape), "--report", str(report), stdout=out)
    text = out.getvalue()
    assert "open -> limit_state" in text and "LULD_LIMIT_STATE_LOWER" in text
    assert "limit_state -> paused" in text and "until 2026-11-24T15:05:20.000Z" in text
    rows = report.read_text().splitlines()
    assert rows[0].startswith("at,new_york,elapsed_s,instrument,event")
    assert rows[2].startswith("2026-11-24T15:00:20.000Z")


def test_speed_sleeps_the_tape_time_scaled():
    rows = read_tape_text(SMALL_TAPE)
    slept = []
    snapshot = snapshot_for({"AAPL-PERP"}, {}, demo.definitions())
    replay.replay(rows, snapshot, speed=10, sleep=slept.append)
    assert slept == [0.5, 1.5]


def test_a_tape_out_of_order_is_refused(tmp_path):
    tape = tmp_path / "bad.csv"
    lines = SMALL_TAPE.splitlines()
    tape.write_text("\n".join([*lines[:2], lines[5], lines[2]]) + "\n")
    with pytest.raises(TapeError, match="time order"):
        read_tape(tape)


def read_tape_text(text: str):
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
        handle.write(text)
    return read_tape(Path(handle.name))

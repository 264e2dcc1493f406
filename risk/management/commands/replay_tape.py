"""``python manage.py replay_tape FILE [--speed N] [--report out.csv]``: replay a price tape
through the market controller on a virtual clock and print every transition."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from risk import demo
from risk.markets import replay, selectors
from risk.markets.config import DEFAULT_MARKET_CONFIG, load_market_config
from risk.markets.ticks import parse_instant


class Command(BaseCommand):
    help = "Replay a CSV tape (ts,instrument,source,price) and print every market transition."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--speed",
            type=float,
            default=0.0,
            help="tape seconds per wall second; 0 (default) replays as fast as possible",
        )
        parser.add_argument("--report", type=Path, help="write every event to this CSV")
        parser.add_argument("--until", help="keep the virtual clock running to this instant")
        parser.add_argument(
            "--instruments",
            choices=["auto", "database", "demo"],
            default="auto",
            help="definitions: the database's, the demo's, or the database's with the "
            "demo's for symbols it lacks (auto, the default)",
        )

    def handle(self, *args, file: Path, speed, report, until, instruments, **options):
        if speed < 0:
            raise CommandError("--speed must be 0 or more")
        try:
            rows = replay.read_tape(file)
        except (OSError, replay.TapeError) as exc:
            raise CommandError(str(exc)) from exc
        try:
            definitions = {} if instruments == "demo" else selectors.instrument_definitions()
            config = load_market_config()
        except DatabaseError:
            definitions, config = {}, DEFAULT_MARKET_CONFIG
        fallback = {} if instruments == "database" else demo.definitions()
        symbols = sorted({row.instrument for row in rows})
        snapshot = replay.snapshot_for(symbols, definitions, fallback, config)
        self.stdout.write(
            f"tape {file.name}: {len(rows)} ticks, {len(symbols)} instruments "
            f"({', '.join(symbols)}), speed {'max' if not speed else speed}"
        )
        started_at = rows[0].at if rows else None
        try:
            result = replay.replay(
                rows,
                snapshot,
                speed=speed,
                until=parse_instant(until) if until else None,
                on_event=lambda event: self.stdout.write(replay.format_event(event, started_at)),
            )
        except (replay.TapeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        counts = Counter(event.reason for event in result.events)
        summary = ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items()))
        self.stdout.write(
            f"{len(result.transitions)} transitions, {len(result.ignored)} ticks ignored"
            + (f": {summary}" if summary else "")
        )
        if report:
            replay.write_report(report, result)
            self.stdout.write(f"report written to {report}")

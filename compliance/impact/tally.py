"""The flips of a measurement, counted as an officer reads them: by source, jurisdiction,
product, action and signal, each with its from → to effects and a few decisions to open.
Pure and JSON-shaped, so a chunk adds to what the chunks before it stored.

Its size is bounded whatever the log's: one bucket per (dimension, value, from, to) and
at most ``EXAMPLES`` decisions in each (the first met, in the log's order, so a re-run
picks the same ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from compliance.impact.replay import Replayed

DIMENSIONS = ("source", "jurisdiction", "product", "action", "signal")
EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class BucketRow:
    """One line of a dimension's table."""

    value: str
    effect_from: str
    effect_to: str
    count: int
    approximate: int
    examples: tuple[Mapping[str, str], ...]


def _bump(counts: dict[str, int], name: str, by: int = 1) -> None:
    counts[name] = counts.get(name, 0) + by


class Tally:
    """Counts of one measurement; ``as_json()`` is what ``RuleImpact.result`` stores.

    ``replayed`` per source; ``approximate`` per source: replayed on an input derived
    again now (an address located with today's GeoIP database, where the log kept only the
    address); ``skipped`` per reason: decisions whose inputs could not be recovered, never
    guessed; ``not_reproduced``: replays under the rulebook they were decided with that do
    not give the recorded effect (something outside the rulebook moved since, such as the
    signal defaults: not the draft's doing, so never a flip by itself).
    """

    def __init__(self, state: Mapping | None = None) -> None:
        state = state or {}
        self.replayed: dict[str, int] = dict(state.get("replayed") or {})
        self.approximate: dict[str, int] = dict(state.get("approximate") or {})
        self.skipped: dict[str, int] = dict(state.get("skipped") or {})
        self.not_reproduced: int = state.get("not_reproduced", 0)
        self.flips: int = state.get("flips", 0)
        self.approximate_flips: int = state.get("approximate_flips", 0)
        buckets = state.get("buckets") or {}
        self.buckets: dict[str, dict[str, dict]] = {
            dimension: {key: dict(bucket) for key, bucket in (buckets.get(dimension) or {}).items()}
            for dimension in DIMENSIONS
        }

    def skip(self, reason: str) -> None:
        _bump(self.skipped, reason)

    def add(
        self,
        *,
        source: str,
        key: str,
        at: datetime,
        product: str,
        replayed: Replayed,
        approximate: bool = False,
        recorded_effect: str | None = None,
    ) -> None:
        """Count one replayed decision, and its flip when the draft changes it."""
        _bump(self.replayed, source)
        if approximate:
            _bump(self.approximate, source)
        if recorded_effect is not None and replayed.before.effect != recorded_effect:
            self.not_reproduced += 1
        flip = replayed.flip
        if flip is None:
            return
        self.flips += 1
        if approximate:
            self.approximate_flips += 1
        values = {
            "source": source,
            "jurisdiction": flip.jurisdiction,
            "product": product,
            "action": flip.action,
            "signal": flip.signal,
        }
        example = {"source": source, "key": key, "at": at.isoformat()}
        for dimension, value in values.items():
            bucket_key = f"{value}|{flip.effect_from}|{flip.effect_to}"
            bucket = self.buckets[dimension].setdefault(
                bucket_key, {"count": 0, "approximate": 0, "examples": []}
            )
            bucket["count"] += 1
            if approximate:
                bucket["approximate"] += 1
            if len(bucket["examples"]) < EXAMPLES:
                bucket["examples"].append(example)

    @property
    def total_replayed(self) -> int:
        return sum(self.replayed.values())

    @property
    def total_approximate(self) -> int:
        return sum(self.approximate.values())

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def rows(self, dimension: str) -> list[BucketRow]:
        """A dimension's buckets, most flips first."""
        found = []
        for bucket_key, bucket in self.buckets[dimension].items():
            value, effect_from, effect_to = bucket_key.rsplit("|", 2)
            found.append(
                BucketRow(
                    value,
                    effect_from,
                    effect_to,
                    bucket["count"],
                    bucket["approximate"],
                    tuple(bucket["examples"]),
                )
            )
        return sorted(found, key=lambda row: (-row.count, row.value, row.effect_from))

    def as_json(self) -> dict:
        return {
            "replayed": dict(sorted(self.replayed.items())),
            "approximate": dict(sorted(self.approximate.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "not_reproduced": self.not_reproduced,
            "flips": self.flips,
            "approximate_flips": self.approximate_flips,
            "buckets": self.buckets,
        }

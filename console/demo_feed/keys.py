"""The demo feed's own API keys: one with the ``marketdata`` scope for its ticks, one with
``pretrade`` for its traders -- the least each side needs, as a real feed and a real order
gateway would hold.

Keys are stored hashed, so the feed keeps the secrets it created in ``var/`` (development
only, like the demo credentials) and uses them again after a restart while they are valid.
When they are not (first start, a revoked key, a fresh database), it revokes the feed's older
keys and creates new ones, named with the instant so every key's name stays unique.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core import api_keys
from core.models import ApiKey

ACTOR = "system:demo-feed"
MARKETDATA_KEY_PREFIX = "demo-feed-marketdata"
PRETRADE_KEY_PREFIX = "demo-feed-traders"


@dataclass(frozen=True, slots=True)
class FeedKeys:
    marketdata: str
    pretrade: str


def _valid(raw_key: str, scope: str) -> bool:
    principal = api_keys.resolve(raw_key)
    return principal is not None and principal.has_scope(scope)


def feed_keys(keys_file: Path, now: datetime) -> FeedKeys:
    """The keys of the feed: those kept in ``keys_file`` if both still work, else new ones."""
    if keys_file.exists():
        kept = json.loads(keys_file.read_text())
        keys = FeedKeys(kept.get("marketdata", ""), kept.get("pretrade", ""))
        if _valid(keys.marketdata, "marketdata") and _valid(keys.pretrade, "pretrade"):
            return keys
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    keys = FeedKeys(
        _replace_key(MARKETDATA_KEY_PREFIX, f"{MARKETDATA_KEY_PREFIX}-{stamp}", "marketdata"),
        _replace_key(PRETRADE_KEY_PREFIX, f"{PRETRADE_KEY_PREFIX}-{stamp}", "pretrade"),
    )
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.write_text(json.dumps({"marketdata": keys.marketdata, "pretrade": keys.pretrade}))
    keys_file.chmod(0o600)
    return keys


def _replace_key(prefix: str, name: str, scope: str) -> str:
    for old in ApiKey.objects.filter(name__startswith=prefix, revoked_at__isnull=True):
        api_keys.revoke_api_key(name=old.name, actor=ACTOR)
    _, raw_key = api_keys.create_api_key(name=name, scopes=[scope], actor=ACTOR)
    return raw_key

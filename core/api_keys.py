"""API keys: creation, revocation and the per-process lookup cache.

Authentication must not cost an SQL query per request, so a resolved key is cached in the
process for ``API_KEY_CACHE_SECONDS`` (1 s by default): a revocation is seen by every worker
within that second. Unknown keys are cached negatively for the same time, so a client
spraying random keys cannot turn each request into a query.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from core import audit, clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import SCOPES, ApiKey

KEY_PREFIX = "gh_"
LAST_USED_RESOLUTION = timedelta(seconds=60)
_CACHE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class ApiPrincipal:
    """Who is calling: the authenticated key. DRF sets it as ``request.user``."""

    key_id: int
    name: str
    scopes: frozenset[str]
    is_authenticated: bool = True

    @property
    def actor(self) -> str:
        return f"key:{self.name}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    names = text.split(",") if isinstance(text, str) else list(text)
    scopes = sorted({name.strip() for name in names if name.strip()})
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ValidationFailed(
            f"scopes must be a non-empty subset of {', '.join(SCOPES)}",
            fields={"scopes": [f"unknown scope {s!r}" for s in unknown] or ["required"]},
        )
    return scopes


def create_api_key(*, name: str, scopes: list[str], actor: str) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is shown once and never stored."""
    scopes = parse_scopes(scopes)
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        if ApiKey.objects.filter(name=name).exists():
            raise Conflict(f"an API key named {name!r} already exists", code="CONFLICT")
        key = ApiKey.objects.create(
            name=name,
            prefix=raw_key[: len(KEY_PREFIX) + 6],
            secret_sha256=digest(raw_key),
            scopes=scopes,
            created_at=clock.now(),
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="api_key.create",
            object_type="api_key",
            object_id=name,
            after={"name": name, "prefix": key.prefix, "scopes": scopes},
        )
    return key, raw_key


def revoke_api_key(*, name: str, actor: str) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().filter(name=name).first()
        if key is None:
            raise NotFound(f"no API key named {name!r}")
        if key.revoked_at is None:
            key.revoked_at = clock.now()
            key.save(update_fields=["revoked_at"])
            audit.record(
                actor=actor,
                action="api_key.revoke",
                object_type="api_key",
                object_id=name,
                before={"revoked_at": None},
                after={"revoked_at": key.revoked_at.isoformat()},
            )
    _cache.clear()
    return key


class _KeyCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, ApiPrincipal | None]] = {}
        self._lock = threading.Lock()

    def get(self, key_digest: str) -> tuple[bool, ApiPrincipal | None]:
        entry = self._entries.get(key_digest)
        if entry is None or time.monotonic() - entry[0] > settings.API_KEY_CACHE_SECONDS:
            return False, None
        return True, entry[1]

    def put(self, key_digest: str, principal: ApiPrincipal | None) -> None:
        with self._lock:
            if len(self._entries) >= _CACHE_MAX:
                self._entries.clear()
            self._entries[key_digest] = (time.monotonic(), principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _KeyCache()


def resolve(raw_key: str) -> ApiPrincipal | None:
    """The principal for a presented key, or None when it is unknown or revoked."""
    key_digest = digest(raw_key)
    hit, principal = _cache.get(key_digest)
    if hit:
        return principal
    key = ApiKey.objects.filter(secret_sha256=key_digest, revoked_at__isnull=True).first()
    principal = None
    if key is not None:
        principal = ApiPrincipal(key.pk, key.name, frozenset(key.scopes))
        now = clock.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    _cache.put(key_digest, principal)
    return principal

"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz``: the process answers. ``/readyz``: the database, Redis and the GeoIP database
all answer; otherwise 503 naming each one that does not (the gate would fail closed).
"""

from __future__ import annotations

import orjson
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from core import redis_client, registry
from core.errors import json_error


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def checks() -> dict:
    """The database and Redis, then every probe a part registered (GeoIP: compliance)."""
    return {"database": _database, "redis": redis_client.probe, **registry.health_probes.items()}


@require_GET
def healthz(request) -> HttpResponse:
    return HttpResponse(orjson.dumps({"status": "ok"}), content_type="application/json")


@require_GET
def readyz(request) -> HttpResponse:
    results: dict[str, str] = {}
    # Any failure at all means "not ready"; each one is named in the answer.
    for name, check in checks().items():
        try:
            check()
        except Exception as exc:
            results[name] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
        else:
            results[name] = "ok"
    failing = [name for name, result in results.items() if result != "ok"]
    if failing:
        return json_error(
            503,
            "NOT_READY",
            f"not ready: {', '.join(failing)} unavailable",
            extra={"checks": results},
        )
    return HttpResponse(
        orjson.dumps({"status": "ready", "checks": results}), content_type="application/json"
    )

"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz``: the process answers. ``/readyz``: the database, Redis and the GeoIP database
all answer; otherwise 503 naming each one that does not (the gate would fail closed). Its
``redis`` names the mode (``REDIS_MODE``) and what answered; a failure names the node (a
cluster's primary, the primary the Sentinels named, or that none was named).
"""

from __future__ import annotations

import orjson
from django.conf import settings
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
    redis = {"mode": settings.REDIS_MODE}
    # Any failure at all means "not ready"; each one is named in the answer.
    for name, check in checks().items():
        try:
            answered = check()
        except Exception as exc:
            results[name] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
        else:
            results[name] = "ok"
            if name == "redis":
                redis["answered"] = answered
    failing = [name for name, result in results.items() if result != "ok"]
    if failing:
        return json_error(
            503,
            "NOT_READY",
            f"not ready: {', '.join(failing)} unavailable",
            extra={"checks": results, "redis": redis},
        )
    return HttpResponse(
        orjson.dumps({"status": "ready", "checks": results, "redis": redis}),
        content_type="application/json",
    )

"""Run by ``bench_middleware`` in a subprocess: CPU per ``GET /healthz`` through Django's
WSGI handler with the project's middleware, or with some of it left out (the arguments name
the classes to drop; ``all`` drops every one). Prints one JSON object on its last line."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")

import django
from django.conf import settings

CALLS, ROUNDS = 10_000, 5


def main(drop: list[str]) -> dict:
    django.setup()
    if drop == ["all"]:
        settings.MIDDLEWARE = []
    else:
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m.rsplit(".", 1)[-1] not in drop]
    from django.core.handlers.wsgi import WSGIHandler

    application = WSGIHandler()

    def call() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/healthz",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        statuses = []
        b"".join(application(environ, lambda status, headers, exc=None: statuses.append(status)))
        if not statuses[0].startswith("200"):
            raise SystemExit(f"/healthz answered {statuses[0]} without {drop}")

    for _ in range(2_000):
        call()
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(CALLS):
            call()
        rounds.append((time.process_time() - started) / CALLS * 1e6)
    return {"cpu_us": min(rounds), "middleware": len(settings.MIDDLEWARE)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))

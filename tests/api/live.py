"""A real Gatehouse process for black-box tests: migrated database, real Redis, granian
serving the WSGI app on a free loopback port, talked to over HTTP only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from core import embedded_redis
from scripts import redis_topology

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen

    def request(
        self,
        method: str,
        path: str,
        body=None,
        key: str | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.base_url + path, data=data, method=method)  # noqa: S310 (http to our own server)
        if data is not None:
            request.add_header("Content-Type", content_type)
        if key:
            request.add_header("Authorization", f"Api-Key {key}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                payload = response.read()
                return response.status, dict(response.headers), payload
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, body=None, key: str | None = None):
        status, _, payload = self.request(method, path, body, key)
        return status, json.loads(payload)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout


LIVE_REDIS_DB = int(os.environ.get("TEST_LIVE_REDIS_DB", "10"))
"""The logical database live servers use by default; ``TEST_LIVE_REDIS_DB`` moves it when
several checkouts share one Redis server."""


def cluster_run() -> bool:
    """The suite's cluster pass (``scripts/run_tests.py``): Redis is a real Redis Cluster."""
    return os.environ.get("REDIS_MODE", "standalone") == "cluster"


def own_topology(directory: Path) -> redis_topology.Topology:
    """A Redis of a live server's own that the test may kill and restart: in the cluster
    pass a real three-primary Redis Cluster, else one standalone server."""
    if cluster_run():
        return redis_topology.start_cluster(directory)
    return redis_topology.start_standalone(directory)


def own_redis(url: str, db: int = LIVE_REDIS_DB) -> str:
    """A logical database of the test Redis for a live server alone, flushed: the tests'
    own fixtures flush database 9, and must never wipe a running server's state."""
    import redis

    own = url.rsplit("/", 1)[0] + f"/{db}"
    redis.Redis.from_url(own).flushdb()
    return own


def restart(server: LiveServer, workers: int = 2, threads: int = 4) -> LiveServer:
    """A new server process on the same database and Redis (the old one must be stopped)."""
    return _serve(server.env, workers, threads)


def start(
    var_dir: Path,
    redis_url: str,
    workers: int = 1,
    threads: int = 4,
    extra_env: dict[str, str] | None = None,
) -> LiveServer:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="settings.dev",
        GATEHOUSE_VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'live.sqlite3'}",
        REDIS_URL=redis_url,
        SIGNING_KEY_FILE=str(var_dir / "signing.pem"),
    )
    env.update(extra_env or {})
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return _serve(env, workers, threads)


def _serve(env: dict[str, str], workers: int, threads: int) -> LiveServer:
    port = embedded_redis.free_port()
    process = subprocess.Popen(
        [
            str(BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--no-ws",
            "--log-level",
            "warning",
            "settings.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", env, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if server.request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not answer /healthz within 30 s")


def stop(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()

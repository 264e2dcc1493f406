"""``make run``'s supervisor and the demo feed: which processes it starts (the feed only with
the demo, never with ``DEMO_FEED=0`` or production settings), the real feed process started
and stopped with the others, and a feed that exits started again after a pause while any
other child that exits stops the stack."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core import embedded_redis
from core.management.commands.runstack import (
    DEMO_FEED,
    RESTART_DELAYS,
    ChildSpec,
    Command,
    child_specs,
    wants_demo_feed,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_processes_make_run_starts_and_what_each_serves():
    specs = child_specs(8123, demo_feed=True)
    assert [s.name for s in specs] == [
        "web",
        "worker-realtime",
        "worker-default",
        "worker-reports",
        "beat",
        DEMO_FEED,
    ]
    assert "http://127.0.0.1:8123/" in specs[0].serves
    assert [s.name for s in specs if s.restart] == [DEMO_FEED]
    feed = specs[-1].command
    assert feed[1:] == ["manage.py", "run_demo_feed", "--url", "http://127.0.0.1:8123"]
    for spec in specs[1:5]:  # Celery's children log at CELERY_LOG_LEVEL (WARNING)
        assert spec.command[spec.command.index("--loglevel") + 1] == "warning"


def test_without_the_demo_feed_there_is_no_feed_process():
    assert DEMO_FEED not in [s.name for s in child_specs(8123, demo_feed=False)]


@pytest.mark.parametrize(
    ("demo_feed", "no_demo", "wanted"),
    [(True, False, True), (False, False, False), (True, True, False)],
    ids=["default", "DEMO_FEED=0", "--no-demo"],
)
def test_when_make_run_wants_the_feed(settings, demo_feed, no_demo, wanted):
    settings.DEMO_FEED = demo_feed
    assert wants_demo_feed(no_demo) is wanted


def _django(settings_module: str, extra: dict[str, str], *args: str):
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DEMO_FEED", "DJANGO_"))}
    env = {**keep, **extra, "DJANGO_SETTINGS_MODULE": settings_module}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PLANNED = (
    "from core.management.commands.runstack import child_specs, wants_demo_feed; "
    "print([s.name for s in child_specs(8000, demo_feed=wants_demo_feed(False))])"
)


def test_demo_feed_0_in_the_environment_starts_no_feed(tmp_path):
    on = _django("settings.dev", {"GATEHOUSE_VAR_DIR": str(tmp_path)}, "shell", "-c", PLANNED)
    off = _django(
        "settings.dev",
        {"GATEHOUSE_VAR_DIR": str(tmp_path), "DEMO_FEED": "0"},
        "shell",
        "-c",
        PLANNED,
    )
    assert "'demo-feed'" in on.stdout, on.stderr
    assert "'demo-feed'" not in off.stdout and "'beat'" in off.stdout, off.stderr


@pytest.fixture
def prod_env(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = tmp_path / "signing.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {
        "SECRET_KEY": "x" * 40 + "-prod-secret-with-enough-entropy-1234567890",
        "ALLOWED_HOSTS": "gate.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "SIGNING_KEY_FILE": str(key),
        "GEOIP_CITY_DB": str(tmp_path / "city.mmdb"),
        "POR_SALT_SECRET": "por-salt-secret-for-the-test-0123456789abcdef",
        "DEMO_FEED": "1",  # asked for, and still off
    }


def test_production_settings_start_no_feed_even_when_asked(prod_env):
    planned = _django("settings.prod", prod_env, "shell", "-c", PLANNED)
    assert "'beat'" in planned.stdout, planned.stderr
    assert "'demo-feed'" not in planned.stdout
    refused = _django("settings.prod", prod_env, "run_demo_feed", "--steps", "1")
    assert refused.returncode != 0
    assert "the demo feed is off" in refused.stderr


def _command() -> Command:
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    command.children = []
    command._echo_lock = threading.Lock()
    return command


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_the_supervisor_starts_the_real_feed_and_stops_it_with_the_others(settings, tmp_path):
    """The feed waits for the web server to be ready; with no server on its port it waits,
    alive, until the supervisor stops it."""
    settings.VAR_DIR = tmp_path
    port = embedded_redis.free_port()  # nothing listens there
    spec = next(s for s in child_specs(port, demo_feed=True) if s.name == DEMO_FEED)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "GATEHOUSE_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    command = _command()
    child = command._start(spec, env)
    command.children.append(child)
    assert f"started {DEMO_FEED}" in command.stdout.getvalue()
    assert f"pid {child.process.pid}" in command.stdout.getvalue()
    time.sleep(2)
    assert child.process.poll() is None, (tmp_path / "log" / "demo-feed.log").read_text()
    command._check_children(env, time.monotonic())  # alive: nothing to do
    started = time.monotonic()
    command._stop_all()
    assert child.process.poll() is not None and _gone(child.process.pid)
    assert time.monotonic() - started < 5
    assert (tmp_path / "log" / "demo-feed.log").exists()


EXITS = [sys.executable, "-c", "import sys; print('CommandError: boom'); sys.exit(3)"]


def test_a_feed_that_exits_is_started_again_after_a_growing_pause(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    command = _command()
    env = dict(os.environ)
    first = command._start(ChildSpec(DEMO_FEED, EXITS, "a feed that fails", restart=True), env)
    command.children.append(first)
    first.process.wait(timeout=30)
    now = time.monotonic()
    command._check_children(env, now)
    assert command.children[0].restart_at == now + RESTART_DELAYS[0]
    assert "exited with code 3; starting it again in 1 s" in command.stderr.getvalue()
    command._check_children(env, now + 0.5)  # not yet
    assert command.children[0] is first
    command._check_children(env, now + RESTART_DELAYS[0])
    second = command.children[0]
    assert second is not first and second.process.pid != first.process.pid
    second.process.wait(timeout=30)
    command._check_children(env, now + 2)
    assert second.restart_at == now + 2 + RESTART_DELAYS[1]
    time.sleep(0.5)  # the pumps echo the child's error line
    assert "demo-feed: CommandError: boom" in command.stderr.getvalue()
    assert (tmp_path / "log" / "demo-feed.log").read_text().count("CommandError: boom") == 2
    command._stop_all()


def test_any_other_child_that_exits_stops_the_stack(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    command = _command()
    child = command._start(ChildSpec("web", EXITS, "a web server that fails"), dict(os.environ))
    command.children.append(child)
    child.process.wait(timeout=30)
    with pytest.raises(SystemExit):
        command._check_children({}, time.monotonic())
    assert "web exited with code 3; stopping everything" in command.stderr.getvalue()
    command._stop_all()

"""``make run``: everything in the foreground — embedded Redis (unless ``REDIS_URL`` is set),
migrations, demo data, then the web server (granian, WSGI), a Celery worker for every queue,
Celery beat and the demo market feed. Ctrl-C stops all of them.

The terminal says what was started and where it serves, one line per process, and ends with
the console URL, the officers and the API key (issue 18); each process's own output goes to
``var/log/<process>.log``, and only its errors are echoed here (``core.process_output``).
A child that exits stops the whole stack -- a half-running service is worse than none --
except the demo feed, which is only a demo: it is started again, after a growing pause."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core import embedded_redis
from core.process_output import pump

EMBEDDED_REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "6390"))
DEMO_FEED = "demo-feed"
RESTART_DELAYS = (1, 2, 5, 10, 30, 60)
"""Seconds before a restartable child is started again, after its 1st, 2nd, ... exit."""
STEADY_SECONDS = 300
"""A restartable child that ran this long counts as healthy again: its next exit restarts
it after the first delay."""


def _interrupt(signum, frame):
    """SIGTERM stops the stack the same way Ctrl-C does; further signals while stopping
    (make passes its own on) do not interrupt the orderly stop.

    They are absorbed by a Python handler that does nothing, not by ``SIG_IGN``: a second
    signal that arrived before this handler ran would otherwise find ``SIG_IGN`` installed
    when Python gets to it and raise ``OSError: Signal 15 ignored due to race condition``
    in the middle of the stop (seen in ``test_make_run`` when ``killpg`` reached make and
    this process at once)."""
    signal.signal(signal.SIGTERM, _absorb)
    signal.signal(signal.SIGINT, _absorb)
    raise KeyboardInterrupt


def _absorb(signum, frame):
    """A signal while stopping: the stop already under way is the answer to it."""


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """A process ``make run`` supervises: its name (and log file), how to start it, what
    it serves (printed when it starts), and whether it is started again when it exits."""

    name: str
    command: list[str]
    serves: str
    restart: bool = False


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen
    started_at: float = field(default_factory=time.monotonic)
    exits: int = 0
    restart_at: float | None = None
    """When a restartable child that exited is started again (monotonic seconds)."""


def wants_demo_feed(no_demo: bool) -> bool:
    """The demo feed runs with the demo data, unless ``DEMO_FEED=0``; production settings
    force ``DEMO_FEED`` off (made-up prices and orders never run beside real ones)."""
    return bool(settings.DEMO_FEED) and not no_demo


def child_specs(port: int, *, demo_feed: bool) -> list[ChildSpec]:
    """The processes ``make run`` starts after its set-up, in order."""
    python = sys.executable
    bin_dir = os.path.dirname(python)
    celery_level = settings.CELERY_LOG_LEVEL.lower()
    specs = [
        ChildSpec(
            "web",
            [
                os.path.join(bin_dir, "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(settings.WEB_WORKERS),
                "--blocking-threads",
                str(settings.WEB_THREADS),
                "--no-ws",
                # A worker that will not stop gracefully is killed by granian itself, before
                # the supervisor's own deadline (STOP_SECONDS).
                "--workers-kill-timeout",
                "10",
                "--log-level",
                "warning",
                "settings.wsgi:application",
            ],
            f"HTTP on http://127.0.0.1:{port}/ (granian, {settings.WEB_WORKERS} workers "
            f"x {settings.WEB_THREADS} threads)",
        ),
    ]
    queues = {
        "realtime": "decision drains, market sweeper, risk-state watchdog",
        "default": "monitors, notifications, ledger housekeeping",
        "reports": "signed reports, proof of reserves",
    }
    for queue, work in queues.items():
        specs.append(
            ChildSpec(
                f"worker-{queue}",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "settings",
                    "worker",
                    "-Q",
                    queue,
                    "-n",
                    f"{queue}@%h",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    celery_level,
                    "--without-gossip",
                    "--without-mingle",
                ],
                f"Celery queue {queue}: {work}",
            )
        )
    specs.append(
        ChildSpec(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "settings",
                "beat",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--loglevel",
                celery_level,
                "--pidfile",
                str(settings.VAR_DIR / "celerybeat.pid"),
            ],
            "Celery beat: the schedules kept in the database",
        )
    )
    if demo_feed:
        specs.append(
            ChildSpec(
                DEMO_FEED,
                [python, "manage.py", "run_demo_feed", "--url", f"http://127.0.0.1:{port}"],
                "demo market feed and traders through the API (DEMO_FEED=0 turns it off)",
                restart=True,
            )
        )
    return specs


class Command(BaseCommand):
    help = (
        "Run Gatehouse: web + Celery workers + beat (+ embedded Redis, + the demo feed), "
        "in the foreground."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument(
            "--no-demo", action="store_true", help="skip the demo data and the demo feed"
        )

    def handle(self, *args, port, no_demo, **options):
        self.children: list[Child] = []
        self._echo_lock = threading.Lock()
        signal.signal(signal.SIGTERM, _interrupt)
        # The terminal is for what was started and what went wrong: this process's own log
        # records below WARNING (the set-up commands print their one-line summaries) stay out.
        logging.getLogger().setLevel(max(logging.getLogger().level, logging.WARNING))
        try:
            # Every configuration starts from a fresh clone: the SQLite file, the signing
            # key, static files, logs and beat's pid live here whichever Redis is used.
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            env = self._redis_environment()
            call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write("database migrated, static files collected")
            # The shipped sanctions lists before any account is screened (a list already
            # loaded is not loaded again).
            call_command("load_sanctions_list", "--shipped", "--rescreen-now")
            if not no_demo:
                call_command("load_demo_data", "--no-credentials")
            call_command("resync_risk_state", "--if-needed")
            demo_feed = wants_demo_feed(no_demo)
            for spec in child_specs(port, demo_feed=demo_feed):
                self.children.append(self._start(spec, env))
            self.stdout.write(
                f"logs: {self.log_dir}/<process>.log (errors are shown here too)"
                + ("" if demo_feed else "; demo feed off")
            )
            self._print_welcome(port)
            self._supervise(env)
        except KeyboardInterrupt:
            self.stdout.write("\nstopping...")
        finally:
            self._stop_all()

    @property
    def log_dir(self):
        return settings.VAR_DIR / "log"

    def _redis_environment(self) -> dict[str, str]:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if "REDIS_URL" in os.environ:
            self.stdout.write(f"using Redis at {settings.REDIS_URL}")
            return env
        url = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
        if embedded_redis.answers(url):
            self.stdout.write(f"reusing the Redis already answering at {url}")
        else:
            process = embedded_redis.start(
                settings.VAR_DIR / "redis", EMBEDDED_REDIS_PORT, log_file=self.log_dir / "redis.log"
            )
            spec = ChildSpec("redis", [], f"Redis on {url} (embedded, data in var/redis)")
            self.children.append(Child(spec, process))
            self._announce(spec, process)
        env["REDIS_URL"] = url
        settings.REDIS_URL = url
        return env

    def _start(self, spec: ChildSpec, env: dict[str, str]) -> Child:
        # Each child in its own session: Ctrl-C reaches this supervisor only, which stops
        # them in order (web first, workers and beat, Redis last) instead of all at once.
        process = subprocess.Popen(
            spec.command,
            env=env,
            cwd=settings.BASE_DIR,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        pump(process.stdout, self.log_dir / f"{spec.name}.log", spec.name, self._echo)
        self._announce(spec, process)
        return Child(spec, process)

    def _announce(self, spec: ChildSpec, process: subprocess.Popen) -> None:
        self.stdout.write(f"started {spec.name:<16} pid {process.pid:<8} {spec.serves}")

    def _echo(self, line: str) -> None:
        with self._echo_lock:
            self.stderr.write(line)

    def _print_welcome(self, port: int) -> None:
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(
            self.style.SUCCESS(
                f"Gatehouse is serving on {url} (API docs: /api/v1/docs/, readiness: /readyz)"
            )
        )
        credentials_file = settings.VAR_DIR / "demo-credentials.json"
        if credentials_file.exists():
            credentials = json.loads(credentials_file.read_text())
            self.stdout.write(f"  console:  {url} (enrol a TOTP app at the first sign-in)")
            self.stdout.write(
                f"  officers: {credentials['username']} / {credentials['password']} (maker), "
                f"{credentials['checker_username']} / {credentials['checker_password']} (checker)"
            )
            self.stdout.write(f"  operator API key (all scopes): {credentials['api_key']}")
        self.stdout.write("Ctrl-C stops everything.")

    def _supervise(self, env: dict[str, str]) -> None:
        while True:
            self._check_children(env, time.monotonic())
            time.sleep(0.5)

    def _check_children(self, env: dict[str, str], now: float) -> None:
        """Restart a restartable child whose pause is over; note one that just exited;
        stop everything when any other child exits."""
        for position, child in enumerate(self.children):
            name = child.spec.name
            if child.restart_at is not None:
                if now >= child.restart_at:
                    restarted = self._start(child.spec, env)
                    restarted.exits = child.exits
                    self.children[position] = restarted
                continue
            code = child.process.poll()
            if code is None:
                continue
            log = self.log_dir / f"{name}.log"
            if not child.spec.restart:
                self.stderr.write(f"{name} exited with code {code}; stopping everything ({log})")
                raise SystemExit(1)
            if now - child.started_at >= STEADY_SECONDS:
                child.exits = 0
            delay = RESTART_DELAYS[min(child.exits, len(RESTART_DELAYS) - 1)]
            child.exits += 1
            child.restart_at = now + delay
            self.stderr.write(
                f"{name} exited with code {code}; starting it again in {delay} s ({log})"
            )

    STOP_SECONDS = 15

    @staticmethod
    def _kill_group(process: subprocess.Popen) -> None:
        """SIGKILL the child's whole session (each child leads its own): killing the child
        alone left granian's worker processes running, holding ``make run``'s output open,
        so ``make run`` never ended (seen in CI)."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def _stop_all(self) -> None:
        """Web, workers, beat and the feed first (a worker finishes the task it is running);
        the embedded Redis only once nothing that writes to it is left."""
        services = [c for c in self.children if c.spec.name != "redis"]
        redis = [c for c in self.children if c.spec.name == "redis"]
        for group in (services, redis):
            for child in group:
                if child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + self.STOP_SECONDS
            for child in group:
                try:
                    child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.stderr.write(f"{child.spec.name} did not stop in time; killing it")
                    self._kill_group(child.process)

"""``make run``: everything in the foreground — embedded Redis (unless ``REDIS_URL`` is set),
migrations, demo data, then the web server (granian, WSGI), a Celery worker for every queue
and Celery beat. Ctrl-C stops all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core import embedded_redis

EMBEDDED_REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "6390"))


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


class Command(BaseCommand):
    help = "Run Gatehouse: web + Celery worker + beat (+ embedded Redis), in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--no-demo", action="store_true", help="skip the demo data")

    def handle(self, *args, port, no_demo, **options):
        self.children: list[tuple[str, subprocess.Popen]] = []
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            # Every configuration starts from a fresh clone: the SQLite file, the signing
            # key, static files and beat's pid live here whichever Redis is used.
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            env = self._redis_environment()
            call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write("database migrated, static files collected")
            # The shipped sanctions lists before any account is screened (a list already
            # loaded is not loaded again).
            call_command("load_sanctions_list", "--shipped", "--rescreen-now")
            if not no_demo:
                call_command("load_demo_data")
            call_command("resync_risk_state", "--if-needed")
            self._start_processes(env, port)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Gatehouse is serving on http://127.0.0.1:{port}/ "
                    f"(API docs: /api/v1/docs/, readiness: /readyz). Ctrl-C stops everything."
                )
            )
            self._supervise()
        except KeyboardInterrupt:
            self.stdout.write("\nstopping...")
        finally:
            self._stop_all()

    def _redis_environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if "REDIS_URL" in os.environ:
            self.stdout.write(f"using Redis at {settings.REDIS_URL}")
            return env
        url = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
        if embedded_redis.answers(url):
            self.stdout.write(f"reusing the Redis already answering at {url}")
        else:
            process = embedded_redis.start(settings.VAR_DIR / "redis", EMBEDDED_REDIS_PORT)
            self.children.append(("redis", process))
            self.stdout.write(f"embedded Redis started at {url}")
        env["REDIS_URL"] = url
        settings.REDIS_URL = url
        return env

    def _start_processes(self, env: dict[str, str], port: int) -> None:
        python = sys.executable
        bin_dir = os.path.dirname(python)
        commands = {
            "web": [
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
            **{
                f"worker-{queue}": [
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
                    settings.LOG_LEVEL.lower(),
                    "--without-gossip",
                    "--without-mingle",
                ]
                for queue in ("realtime", "default", "reports")
            },
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "settings",
                "beat",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--loglevel",
                settings.LOG_LEVEL.lower(),
                "--pidfile",
                str(settings.VAR_DIR / "celerybeat.pid"),
            ],
        }
        for name, command in commands.items():
            # Each child in its own session: Ctrl-C reaches this supervisor only, which stops
            # them in order (web first, workers and beat, Redis last) instead of all at once.
            process = subprocess.Popen(
                command, env=env, cwd=settings.BASE_DIR, start_new_session=True
            )
            self.children.append((name, process))

    def _supervise(self) -> None:
        while True:
            for name, process in self.children:
                code = process.poll()
                if code is not None:
                    self.stderr.write(f"{name} exited with code {code}; stopping everything")
                    raise SystemExit(1)
            time.sleep(0.5)

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
        """Web, workers and beat first (a worker finishes the task it is running); the
        embedded Redis only once nothing that writes to it is left."""
        services = [(name, p) for name, p in self.children if name != "redis"]
        redis = [(name, p) for name, p in self.children if name == "redis"]
        for group in (services, redis):
            for _, process in group:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + self.STOP_SECONDS
            for name, process in group:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.stderr.write(f"{name} did not stop in time; killing it")
                    self._kill_group(process)

"""``make run``'s supervisor (runstack) stops a child that ignores SIGTERM by killing its
whole session: killing the child alone had left its worker processes (granian's) running
and holding ``make run``'s output open, so ``make run`` never ended (seen in CI)."""

import subprocess
import sys
import time
from pathlib import Path

from core.management.commands.runstack import Child, ChildSpec, Command

STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
worker = subprocess.Popen([sys.executable, "-c", "import signal, time; "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"])
print(worker.pid, flush=True)
time.sleep(300)
"""


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State"))
    except FileNotFoundError:
        return False
    return "zombie" not in state


def test_a_child_that_ignores_sigterm_is_killed_with_its_workers():
    child = subprocess.Popen(
        [sys.executable, "-c", STUBBORN],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # as runstack starts each child
    )
    worker = int(child.stdout.readline())
    command = Command()
    command.children = [Child(ChildSpec("web", [], "a stubborn web server"), child)]
    command.STOP_SECONDS = 1
    started = time.monotonic()
    command._stop_all()
    assert child.poll() is not None
    deadline = time.monotonic() + 5
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(worker), "the child's worker outlived the stop"
    assert time.monotonic() - started < 10

"""What ``make run``'s children print: all of it into their own log file, only their errors
on the terminal.

Issue 18: the console URL, the officers and the API key were buried under three Celery
banners, root-privilege warnings and a line per task every second. Each child's output now
goes through a pipe to a thread of the supervisor that writes every line to
``var/log/<name>.log`` and echoes to the terminal, prefixed with the child's name, only the
records at ``ERROR`` or ``CRITICAL`` (with their tracebacks) and any traceback printed
outside a log record (a crash at start-up).

Which lines are a record's first line is read from the formats the children use: Django's
``settings.LOGGING`` (``2026-12-05 21:41:01,025 ERROR name message``), Celery's
(``[2026-12-05 21:41:34,289: ERROR/MainProcess] ...``) and granian's (``[ERROR] ...``); every
other line belongs to the record before it (a traceback, a multi-line message).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

_RECORD = re.compile(
    r"^(?:\[?\d{4}-\d{2}-\d{2}[ T][\d:,.]+:? |\[)"
    r"(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b"
)
_SHOWN_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})
_TRACEBACK = "Traceback (most recent call last)"
_EXCEPTION = re.compile(r"^[A-Z]\w*(?:Error|Exception): ")
"""A management command's ``CommandError: ...``, or an exception printed on its own."""


class ErrorLines:
    """Decides, line by line, whether a child's line is part of an error (pure but for the
    record it is in)."""

    def __init__(self) -> None:
        self._in_error = False

    def shown(self, line: str) -> bool:
        record = _RECORD.match(line)
        if record is not None:
            self._in_error = record["level"] in _SHOWN_LEVELS
        elif line.startswith(_TRACEBACK) or _EXCEPTION.match(line):
            self._in_error = True
        return self._in_error


def pump(
    stream: IO[bytes], log_file: Path, name: str, echo: Callable[[str], None]
) -> threading.Thread:
    """Copy ``stream`` into ``log_file`` (appended) and echo its errors, on a daemon thread
    that ends when every holder of the stream's other end has closed it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)

    def run() -> None:
        errors = ErrorLines()
        with stream, log_file.open("a", encoding="utf-8", errors="replace") as log:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                log.write(line + "\n")
                log.flush()
                if errors.shown(line):
                    echo(f"{name}: {line}")

    thread = threading.Thread(target=run, name=f"output-{name}", daemon=True)
    thread.start()
    return thread

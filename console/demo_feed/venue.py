"""How the demo feed reaches the venue: the public HTTP API, as an outside feed and traders
would. One kept-alive connection (``http.client``); tests hand the feed another ``Venue``
that calls the same views in process."""

from __future__ import annotations

import http.client
import json
import time
from typing import Protocol
from urllib.parse import urlsplit


class Venue(Protocol):
    def request(self, method: str, path: str, key: str, body: dict | None = None):
        """(status, decoded JSON body) of one API call; raises ``OSError`` when the venue
        cannot be reached."""


class HttpVenue:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, key: str, body: dict | None = None):
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Api-Key {key}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                status, raw = response.status, response.read()
                break
            except (OSError, http.client.HTTPException):
                # A kept connection the server closed while idle: one fresh try.
                self.close()
                if attempt == 2:
                    raise ConnectionError(f"{method} {path}: the venue did not answer") from None
        return status, json.loads(raw) if raw else {}

    def ready(self) -> bool:
        """Whether ``/readyz`` answers 200 (database, Redis and GeoIP all reachable)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request("GET", "/readyz")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def wait_until_ready(self, seconds: float, poll: float = 0.5) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.ready():
                return True
            time.sleep(poll)
        return False

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

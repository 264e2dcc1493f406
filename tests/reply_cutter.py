"""A TCP relay in front of the real test Redis that can lose replies: once armed with a
marker, every request carrying it is passed on, Redis's reply is awaited and thrown away,
and the client's connection is closed — what a reset connection or a primary killed between
its write and its answer looks like to the client (the command was applied)."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class ReplyCutter:
    def __init__(self, redis_url: str) -> None:
        parts = urlsplit(redis_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        netloc = parts.netloc.rsplit("@", 1)
        netloc[-1] = f"127.0.0.1:{port}"
        self.url = urlunsplit(parts._replace(netloc="@".join(netloc)))
        self.marker: bytes | None = None
        self.cut = 0  # replies thrown away
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, marker: bytes) -> None:
        self.marker = marker

    def disarm(self) -> None:
        self.marker = None

    def close(self) -> None:
        self._closed.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        cutting = threading.Event()
        threading.Thread(target=self._replies, args=(client, server, cutting), daemon=True).start()
        tail = b""
        try:
            while data := client.recv(65536):
                seen, tail = tail + data, data[-64:]
                if self.marker is not None and self.marker in seen:
                    cutting.set()  # before Redis can answer
                server.sendall(data)
        except OSError:
            pass

    def _replies(self, client: socket.socket, server: socket.socket, cutting) -> None:
        """One request is in flight per connection (redis-py), so the first reply after a
        marked request is its reply."""
        try:
            while data := server.recv(65536):
                if cutting.is_set():
                    self.cut += 1
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            for end in (client, server):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

"""The WSGI application: the hot endpoints (the pre-trade checks and the access check) are
served by a second Django handler whose middleware leaves out what they never use.

Those views (``core.hot_api.HotApiView``) authenticate by API key, are exempt from CSRF and
never touch a session, a user, a message or a static file, yet every request paid for
sessions, authentication, OTP, messages, CSRF and WhiteNoise:
measured by ``bench_middleware``, the whole stack costs ~51 µs of CPU per request over none,
the session-bound four ~24 µs of it. The hot handler keeps every other middleware —
security headers, the content-security policy, X-Frame-Options, the common middleware's
``Content-Length`` and the contract's error bodies — so its answers carry the same headers
and errors as before (``tests/core/test_hot_path.py``). Every other path goes through the
full stack.
"""

from __future__ import annotations

import weakref

from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.handlers.base import reset_urlconf
from django.core.handlers.wsgi import WSGIHandler, get_script_name
from django.db import close_old_connections, reset_queries
from django.urls import get_resolver, reverse, set_script_prefix

HOT_VIEWS = ("pretrade-check", "pretrade-batch", "access-check")

SKIPPED = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django_otp.middleware.OTPMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    }
)


def hot_paths() -> list[str]:
    return [reverse(name) for name in HOT_VIEWS]


def hot_middleware() -> list[str]:
    return [name for name in settings.MIDDLEWARE if name not in SKIPPED]


STARTED = (reset_queries, close_old_connections)
FINISHED = (close_old_connections, close_caches, reset_urlconf)
"""What Django connects to ``request_started`` and ``request_finished``: the hot handler calls
them directly instead of dispatching the signals (their dispatch, weak references resolved
and receivers sorted per request, was 8% of a worker's CPU on the single check, with the
response's close). Only while the signals' receivers are exactly these: anything else
connected makes the hot handler dispatch them as Django does (``direct_receivers``)."""


def direct_receivers() -> bool:
    """Whether the request signals' receivers are exactly ``STARTED`` and ``FINISHED`` (in
    any order: none depends on another)."""

    def live(signal) -> set:
        found = (entry[1] for entry in signal.receivers)  # (key, receiver or its weakref, async)
        return {r() if isinstance(r, weakref.ReferenceType) else r for r in found}

    started, finished = live(signals.request_started), live(signals.request_finished)
    return started == set(STARTED) and finished == set(FINISHED)


class HotPathHandler(WSGIHandler):
    """Django's WSGI handler with ``hot_middleware()`` (loaded once, at start), the hot
    views' URL matches resolved once, and the request signals' receivers called directly
    (``STARTED``, ``FINISHED``) while they are Django's own."""

    def __init__(self) -> None:
        super().__init__()
        resolver = get_resolver()
        self.matches = {path: resolver.resolve(path) for path in hot_paths()}

    def load_middleware(self, is_async: bool = False) -> None:
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = hot_middleware()
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full

    def resolve_request(self, request):
        match = self.matches.get(request.path_info)
        if match is None:
            return super().resolve_request(request)
        request.resolver_match = match
        return match

    def __call__(self, environ, start_response):
        if not direct_receivers():
            return super().__call__(environ, start_response)
        set_script_prefix(get_script_name(environ))
        for receiver in STARTED:
            receiver(sender=HotPathHandler)
        request = self.request_class(environ)
        response = self.get_response(request)
        try:
            # The hot views answer whole JSON bodies (never a stream or a file).
            body = response.content
            headers = [
                *response.items(),
                *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
            ]
            start_response(f"{response.status_code} {response.reason_phrase}", headers)
        finally:
            for closer in response._resource_closers:
                closer()
            response._resource_closers.clear()
            for receiver in FINISHED:
                receiver(sender=HotPathHandler)
        return [body]


class Application:
    """Route each request by its path: the hot endpoints to ``HotPathHandler``, the rest to
    the full handler."""

    def __init__(self, full: WSGIHandler) -> None:
        self.full = full
        self.hot = HotPathHandler()
        self.hot_paths = frozenset(hot_paths())

    def __call__(self, environ, start_response):
        handler = self.hot if environ.get("PATH_INFO") in self.hot_paths else self.full
        return handler(environ, start_response)

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

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.urls import reverse

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


def hot_middleware() -> list[str]:
    return [name for name in settings.MIDDLEWARE if name not in SKIPPED]


class HotPathHandler(WSGIHandler):
    """Django's WSGI handler with ``hot_middleware()`` (loaded once, at start)."""

    def load_middleware(self, is_async: bool = False) -> None:
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = hot_middleware()
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class Application:
    """Route each request by its path: the hot endpoints to ``HotPathHandler``, the rest to
    the full handler."""

    def __init__(self, full: WSGIHandler) -> None:
        self.full = full
        self.hot = HotPathHandler()
        self.hot_paths = frozenset(reverse(name) for name in HOT_VIEWS)

    def __call__(self, environ, start_response):
        handler = self.hot if environ.get("PATH_INFO") in self.hot_paths else self.full
        return handler(environ, start_response)

"""The hot endpoints' own handler (core/hot_path.py) answers as the full stack does: the same
status, body and headers for every kind of answer, through the project's real WSGI
application; other paths still take the full stack."""

import io
import json
import sys

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from core.hot_path import SKIPPED, Application, direct_receivers, hot_middleware
from tests.risk.pretrade.test_check_api import key as key
from tests.risk.pretrade.test_check_api import order
from tests.risk.pretrade.test_check_api import venue as venue

pytestmark = pytest.mark.django_db

VARYING = {"Date"}
JSON = {"KEY": 1, "CONTENT_TYPE": "application/json"}


@pytest.fixture(scope="module")
def application():
    return Application(WSGIHandler())


def call(handler, method, path, body=b"", headers=None, direct=False):
    """One request through ``handler``. ``direct``: with Django's request receivers in place
    (a transactional test: they close the test's connection otherwise)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        **(headers or {}),
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = {k: v for k, v in response_headers if k not in VARYING}

    if direct:  # as a WSGI server: read the body, then close the iterable
        iterable = handler(environ, start_response)
        answer["body"] = b"".join(iterable)
        getattr(iterable, "close", lambda: None)()
        return answer
    # As Django's test client does: the test's database connection outlives the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer["body"] = b"".join(handler(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer


def test_only_the_hot_views_take_the_lean_handler(application):
    assert application.hot_paths == {
        "/api/v1/pretrade/check",
        "/api/v1/pretrade/check-batch",
        "/api/v1/access/check",
    }
    kept = hot_middleware()
    assert not SKIPPED & set(kept)
    assert "core.middleware.ApiErrorMiddleware" in kept
    assert "django.middleware.security.SecurityMiddleware" in kept


@pytest.mark.parametrize(
    "method, path, body, headers",
    [
        ("POST", "/api/v1/pretrade/check", b"{}", {}),  # no key: 401
        ("POST", "/api/v1/access/check", b"{}", {"HTTP_AUTHORIZATION": "Api-Key nope"}),
        ("GET", "/api/v1/pretrade/check-batch", b"", {"KEY": 1}),  # 405
        ("POST", "/api/v1/pretrade/check", b"{", dict(JSON)),
        ("POST", "/api/v1/pretrade/check", b"{}", {"KEY": 1, "CONTENT_TYPE": "text/plain"}),
        (
            "POST",
            "/api/v1/pretrade/check",
            b'{"x": 1}',
            {"KEY": 1, "CONTENT_TYPE": "application/json"},
        ),
    ],
)
def test_errors_are_the_same_as_through_the_full_stack(
    application, make_key, method, path, body, headers
):
    headers = dict(headers)
    if headers.pop("KEY", None):
        headers["HTTP_AUTHORIZATION"] = f"Api-Key {make_key('pretrade')}"
    lean = call(application, method, path, body, headers)
    full = call(application.full, method, path, body, headers)
    assert lean == full
    assert lean["status"][:1] == "4" and "error" in json.loads(lean["body"])


def test_an_accepted_check_is_the_same_as_through_the_full_stack(application, key, venue):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}", "CONTENT_TYPE": "application/json"}
    answers = []
    for handler, order_id in ((application, "o-lean"), (application.full, "o-full")):
        body = json.dumps(order(order_id=order_id)).encode()
        answers.append(call(handler, "POST", "/api/v1/pretrade/check", body, headers))
    lean, full = answers
    assert lean["status"] == full["status"] == "200 OK"
    assert lean["headers"].keys() == full["headers"].keys()  # lengths differ (latency_us)
    assert {k: v for k, v in lean["headers"].items() if k != "Content-Length"} == {
        k: v for k, v in full["headers"].items() if k != "Content-Length"
    }
    assert lean["headers"]["X-Content-Type-Options"] == "nosniff"  # security middleware ran
    assert lean["headers"]["X-Frame-Options"] == "DENY"
    decided = [json.loads(a["body"]) for a in answers]
    assert [d["decision"] for d in decided] == ["accept", "accept"]


def test_other_paths_take_the_full_stack(application):
    login = call(application, "GET", "/sign-in/")
    assert login["status"].startswith("200")
    assert "csrftoken" in login["headers"].get("Set-Cookie", "")  # CSRF middleware ran


@pytest.mark.django_db(transaction=True)
def test_the_request_receivers_are_called_without_the_signals(application, make_key):
    """Django's own receivers of ``request_started``/``request_finished`` are called
    directly; the answers stay those of the full stack, and a connection past its lifetime
    is closed at the end of a hot request as the signals would."""
    from django.db import connection

    assert direct_receivers()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {make_key('pretrade')}", **dict(JSON)}
    headers.pop("KEY")
    lean = call(application, "POST", "/api/v1/pretrade/check", b'{"x": 1}', headers, True)
    full = call(application.full, "POST", "/api/v1/pretrade/check", b'{"x": 1}', headers, True)
    assert lean == full and lean["status"].startswith("400")
    connection.ensure_connection()
    connection.close_at = 0  # its CONN_MAX_AGE is over
    call(application, "POST", "/api/v1/pretrade/check", b'{"x": 1}', headers, True)
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_another_receiver_makes_the_hot_handler_send_the_signals(application, make_key):
    heard = []

    def receiver(sender, **kwargs):
        heard.append(sender)

    request_finished.connect(receiver)
    try:
        assert not direct_receivers()
        call(application, "POST", "/api/v1/pretrade/check", b"{}", {}, True)
    finally:
        request_finished.disconnect(receiver)
    assert heard and direct_receivers()

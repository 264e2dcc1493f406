"""Every error kind answers with the contract's body: {"error": {code, message, fields}}."""

import json

import pytest

from tests.conftest import auth

pytestmark = [pytest.mark.urls("tests.core.urls"), pytest.mark.django_db]


def error_of(response):
    body = response.json()
    assert set(body) >= {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]


def test_unknown_api_path_is_a_json_404(api, make_key):
    response = api.get("/api/v1/no/such/thing", **auth(make_key("operator")))
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_unknown_api_path_without_a_key_is_still_json(api):
    response = api.get("/api/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unknown_api_path_is_a_json_404_for_every_method(method, make_key):
    """A client that is not a browser sends no CSRF cookie: an unknown path under /api/ is
    still the contract's 404, not Django's HTML CSRF page (a PUT to a mistyped profile path
    answered an HTML 403 from make run)."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(
        "/api/v1/accounts/acc-sg/profile",
        data=b"{}",
        content_type="application/json",
        **auth(make_key("operator")),
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_a_csrf_refusal_under_api_is_the_contracts_403(rf):
    """Whatever view under /api/ the CSRF check refuses, the answer is the contract's body."""
    from django.middleware.csrf import CsrfViewMiddleware

    def view(request):
        raise AssertionError("not reached")

    request = rf.post("/api/v1/anything", data=b"{}", content_type="application/json")
    response = CsrfViewMiddleware(lambda r: None).process_view(request, view, (), {})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "PERMISSION_DENIED"


def test_a_csrf_refusal_of_a_console_page_stays_djangos_page(rf):
    from django.middleware.csrf import CsrfViewMiddleware

    request = rf.post("/sign-in/", data={})
    response = CsrfViewMiddleware(lambda r: None).process_view(request, lambda r: None, (), {})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_missing_key_is_401_with_challenge(api):
    response = api.post("/api/v1/test/echo", {}, format="json")
    assert response.status_code == 401
    assert error_of(response)["code"] == "NOT_AUTHENTICATED"
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize(
    "header",
    ["Api-Key gh_not_a_real_key", "Bearer something", "Api-Key", "Api-Key a b"],
    ids=["unknown-key", "wrong-keyword", "empty-key", "two-tokens"],
)
def test_bad_credentials_are_401(api, header):
    response = api.get("/api/v1/auth/whoami", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert error_of(response)["code"] == "AUTHENTICATION_FAILED"


def test_key_without_the_scope_is_403(api, make_key):
    response = api.post(
        "/api/v1/test/echo",
        {"quantity": "1", "side": "buy"},
        format="json",
        **auth(make_key("pretrade")),
    )
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "PERMISSION_DENIED"
    assert "operator" in error["message"]


def test_malformed_json_is_400(api, make_key):
    response = api.generic(
        "POST",
        "/api/v1/test/echo",
        '{"quantity": "1",',
        content_type="application/json",
        **auth(make_key("operator")),
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "MALFORMED_REQUEST"


def test_non_object_body_is_400(api, make_key):
    response = api.post("/api/v1/test/echo", [1, 2], format="json", **auth(make_key("operator")))
    assert response.status_code == 400
    assert error_of(response)["code"] == "VALIDATION_ERROR"


def test_unknown_field_is_400_naming_it(api, make_key):
    response = api.post(
        "/api/v1/test/echo",
        {"quantity": "1", "side": "buy", "reduceOnly": True},
        format="json",
        **auth(make_key("operator")),
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert error["fields"] == {"reduceOnly": ["Unknown field."]}


def test_field_errors_are_listed_per_field(api, make_key):
    response = api.post(
        "/api/v1/test/echo",
        {"quantity": "ten", "side": "up"},
        format="json",
        **auth(make_key("operator")),
    )
    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert set(fields) == {"quantity", "side"}


def test_valid_request_passes(api, make_key):
    response = api.post(
        "/api/v1/test/echo",
        {"quantity": "1.5", "side": "buy"},
        format="json",
        **auth(make_key("operator")),
    )
    assert response.status_code == 200
    assert response.json() == {"quantity": "1.50000000"}


def test_unsupported_media_type_is_415(api, make_key):
    response = api.generic(
        "POST",
        "/api/v1/test/echo",
        "quantity=1",
        content_type="text/plain",
        **auth(make_key("operator")),
    )
    assert response.status_code == 415
    assert error_of(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_wrong_method_is_405(api, make_key):
    response = api.delete("/api/v1/auth/whoami", **auth(make_key("operator")))
    assert response.status_code == 405
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"


def test_throttled_is_429_with_retry_after(api, make_key):
    response = api.get("/api/v1/test/throttled", **auth(make_key("operator")))
    assert response.status_code == 429
    assert error_of(response)["code"] == "THROTTLED"
    assert response["Retry-After"] == "8"


def test_domain_rule_violation_keeps_its_code(api, make_key):
    response = api.get("/api/v1/test/rule", **auth(make_key("operator")))
    assert response.status_code == 422
    assert error_of(response)["code"] == "INSUFFICIENT_FUNDS"


def test_unexpected_exception_in_api_view_is_a_json_500(api, make_key):
    response = api.get("/api/v1/test/explode", **auth(make_key("operator")))
    assert response.status_code == 500
    assert error_of(response)["code"] == "INTERNAL_ERROR"
    assert "boom" not in response.content.decode()


def test_unexpected_exception_in_plain_api_view_is_a_json_500(api):
    response = api.get("/api/v1/test/plain-explode")
    assert response.status_code == 500
    assert error_of(response)["code"] == "INTERNAL_ERROR"


def test_outside_the_api_django_keeps_html_404(api):
    response = api.get("/definitely-not-a-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")

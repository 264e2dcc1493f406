"""One error vocabulary and one place that turns every error into the contract's body.

Every 4xx/5xx answered under ``/api/`` is
``{"error": {"code": ..., "message": ..., "fields": {...}}}``. Domain code raises
``GatehouseError`` subclasses carrying a contract code; DRF's own exceptions, Django's 404 and
parse errors are mapped here so that no client ever sees an HTML page or a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger("gatehouse.errors")


class GatehouseError(Exception):
    """Base of every error the service answers on purpose."""

    status = 400
    code = "VALIDATION_ERROR"
    default_message = "The request is not valid."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields or {}
        super().__init__(self.message)


class ValidationFailed(GatehouseError):
    status = 400
    code = "VALIDATION_ERROR"


class NotFound(GatehouseError):
    status = 404
    code = "NOT_FOUND"
    default_message = "Not found."


class IdempotencyConflict(GatehouseError):
    """The same client id was used before with a different body."""

    status = 409
    code = "IDEMPOTENCY_CONFLICT"
    default_message = "This id was already used with a different request body."


class Conflict(GatehouseError):
    status = 409
    code = "CONFLICT"
    default_message = "The request conflicts with the current state."


class BusinessRuleViolation(GatehouseError):
    """Well-formed but refused by a rule (``INSUFFICIENT_FUNDS``, ``SEGREGATION_VIOLATION``)."""

    status = 422
    code = "UNPROCESSABLE"


class ServiceUnavailable(GatehouseError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "A dependency is unavailable."


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def json_error(
    status: int,
    code: str,
    message: str,
    fields: dict[str, Any] | None = None,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """The contract's error body as a plain Django response (for non-DRF paths)."""
    body = error_body(code, message, fields)
    if extra:
        body.update(extra)
    response = HttpResponse(orjson.dumps(body), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {msg}" for key, value in detail.items() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def validation_fields(detail: Any) -> dict[str, list[str]]:
    """DRF's nested error detail → ``{"field": ["message", ...]}``; nested objects and list
    items are named with dots (``orders.3.quantity``)."""
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, messages in validation_fields(value).items():
                    fields[f"{key}.{sub_key}"] = messages
            elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
                for index, item in enumerate(value):
                    if item:
                        for sub_key, messages in validation_fields(item).items():
                            fields[f"{key}.{index}.{sub_key}"] = messages
            else:
                fields[key] = _flatten(value)
        return fields
    return {"non_field_errors": _flatten(detail)}


_DRF_CODES: list[tuple[type[Exception], str]] = [
    (drf.ParseError, "MALFORMED_REQUEST"),
    (drf.NotAuthenticated, "NOT_AUTHENTICATED"),
    (drf.AuthenticationFailed, "AUTHENTICATION_FAILED"),
    (drf.PermissionDenied, "PERMISSION_DENIED"),
    (drf.NotFound, "NOT_FOUND"),
    (drf.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (drf.NotAcceptable, "NOT_ACCEPTABLE"),
    (drf.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (drf.Throttled, "THROTTLED"),
]


def _drf_code(exc: drf.APIException) -> str:
    for cls, code in _DRF_CODES:
        if isinstance(exc, cls):
            return code
    return str(exc.default_code).upper()


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every exception of an API view becomes the contract body,
    and the transaction is rolled back so an error never leaves a partial write."""
    from rest_framework.views import set_rollback  # here: DRF's views import this module

    set_rollback()
    if isinstance(exc, GatehouseError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(error_body("VALIDATION_ERROR", "Invalid input.", fields), status=400)

    if isinstance(exc, drf.ValidationError):
        fields = validation_fields(exc.detail)
        first = next(iter(fields.items()), ("", ["Invalid input."]))
        message = f"{first[0]}: {first[1][0]}" if first[0] != "non_field_errors" else first[1][0]
        return Response(error_body("VALIDATION_ERROR", message, fields), status=400)
    if isinstance(exc, drf.APIException):
        headers = {}
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            headers["WWW-Authenticate"] = "Api-Key"
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        message = " ".join(_flatten(exc.detail))
        return Response(
            error_body(_drf_code(exc), message), status=exc.status_code, headers=headers
        )

    request = context.get("request")
    logger.exception("unhandled error in %s", getattr(request, "path", "?"), exc_info=exc)
    return Response(
        error_body("INTERNAL_ERROR", "An unexpected error occurred; it has been logged."),
        status=500,
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt  # an API client sends no CSRF cookie: an unknown path is a 404 for every method
def api_not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return json_error(404, "NOT_FOUND", f"No API endpoint at {request.path}.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: under /api/ the contract's 403, elsewhere Django's page."""
    if _is_api(request):
        return json_error(
            403, "PERMISSION_DENIED", "Refused by the CSRF check; API calls carry an API key."
        )
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return json_error(400, "BAD_REQUEST", "The request could not be understood.")
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return json_error(403, "PERMISSION_DENIED", "Not allowed.")
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return json_error(
            500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged."
        )
    from django.views.defaults import server_error

    return server_error(request)

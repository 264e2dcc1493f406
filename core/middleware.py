"""Error middleware for ``/api/`` paths served by plain Django views (the hot path does not
go through DRF): a ``GatehouseError`` becomes the contract body, and anything unexpected a
logged 500 in the same shape, never Django's HTML page."""

from __future__ import annotations

import logging

from django.db import transaction

from core.errors import GatehouseError, json_error

logger = logging.getLogger("gatehouse.errors")


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        if transaction.get_connection().in_atomic_block:
            transaction.set_rollback(True)
        if isinstance(exception, GatehouseError):
            return json_error(exception.status, exception.code, exception.message, exception.fields)
        logger.exception("unhandled error in %s", request.path, exc_info=exception)
        return json_error(
            500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged."
        )

"""``Authorization: Api-Key <key>`` authentication and scope permission for the API.

A view names the scope it needs in ``required_scope``; ``None`` means any valid key.
Missing, unknown or revoked key → 401; a key without the scope → 403.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from core import api_keys

KEYWORD = "Api-Key"


def principal_from_header(header: str | None) -> api_keys.ApiPrincipal | None:
    """Parse the header and resolve the key. Returns None when no header was sent; raises
    AuthenticationFailed when one was sent and is not a valid, unrevoked key."""
    if not header:
        return None
    keyword, _, raw_key = header.partition(" ")
    raw_key = raw_key.strip()
    if keyword != KEYWORD or not raw_key or " " in raw_key:
        raise exceptions.AuthenticationFailed(f"Use 'Authorization: {KEYWORD} <key>'.")
    principal = api_keys.resolve(raw_key)
    if principal is None:
        raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
    return principal


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        principal = principal_from_header(request.META.get("HTTP_AUTHORIZATION"))
        if principal is None:
            return None
        return principal, principal

    def authenticate_header(self, request) -> str:
        return KEYWORD


class HasScope(BasePermission):
    """Grants access when the key carries the view's ``required_scope``."""

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if not getattr(principal, "is_authenticated", False):
            raise exceptions.NotAuthenticated("An API key is required.")
        scope = getattr(view, "required_scope", None)
        if scope is not None and not principal.has_scope(scope):
            raise exceptions.PermissionDenied(f"This API key lacks the '{scope}' scope.")
        return True

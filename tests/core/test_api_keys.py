"""API keys: created by the command, stored hashed, scoped, revocable, cached per process."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from core import api_keys, clock
from core.models import ApiKey, AuditEntry
from tests.conftest import auth

pytestmark = pytest.mark.django_db


def create_with_command(name, scopes):
    out = StringIO()
    call_command("create_api_key", name, "--scopes", scopes, stdout=out)
    return out.getvalue().strip().splitlines()


def test_command_prints_the_key_alone_on_the_last_line():
    lines = create_with_command("venue-gateway", "pretrade,marketdata")
    raw = lines[-1]
    assert raw.startswith("gh_") and " " not in raw
    key = ApiKey.objects.get(name="venue-gateway")
    assert key.scopes == ["marketdata", "pretrade"]
    assert key.secret_sha256 == hashlib.sha256(raw.encode()).hexdigest()


def test_the_secret_is_never_stored_in_clear():
    raw = create_with_command("k1", "custody")[-1]
    secret_part = raw[len(api_keys.KEY_PREFIX) + 6 :]
    for row in ApiKey.objects.values_list("name", "prefix", "secret_sha256", "scopes"):
        assert all(secret_part not in str(value) for value in row)


def test_unknown_scope_is_refused():
    with pytest.raises(CommandError, match="scopes"):
        create_with_command("k2", "pretrade,superuser")
    assert not ApiKey.objects.filter(name="k2").exists()


def test_duplicate_name_is_refused():
    create_with_command("k3", "reports")
    with pytest.raises(CommandError, match="already exists"):
        create_with_command("k3", "reports")


def test_key_creation_and_revocation_are_audited():
    create_with_command("k4", "operator")
    call_command("revoke_api_key", "k4", stdout=StringIO())
    actions = list(AuditEntry.objects.filter(object_id="k4").values_list("action", flat=True))
    assert actions == ["api_key.create", "api_key.revoke"]


def test_whoami_names_the_key_and_its_scopes(api):
    raw = create_with_command("gateway", "pretrade,reference")[-1]
    response = api.get("/api/v1/auth/whoami", **auth(raw))
    assert response.status_code == 200
    assert response.json() == {"name": "gateway", "scopes": ["pretrade", "reference"]}


def test_revoked_key_is_refused(api):
    raw = create_with_command("soon-gone", "pretrade")[-1]
    assert api.get("/api/v1/auth/whoami", **auth(raw)).status_code == 200
    call_command("revoke_api_key", "soon-gone", stdout=StringIO())
    response = api.get("/api/v1/auth/whoami", **auth(raw))
    assert response.status_code == 401


def test_revocation_behind_the_process_is_seen_after_the_cache_window(api):
    """Another process revokes the key (here: a direct UPDATE); this process must refuse it
    once its cache entry is older than API_KEY_CACHE_SECONDS."""
    raw = create_with_command("other-process", "pretrade")[-1]
    with override_settings(API_KEY_CACHE_SECONDS=0):
        assert api.get("/api/v1/auth/whoami", **auth(raw)).status_code == 200
        ApiKey.objects.filter(name="other-process").update(revoked_at=clock.now())
        assert api.get("/api/v1/auth/whoami", **auth(raw)).status_code == 401


def test_a_cached_key_costs_no_sql(api, django_assert_num_queries):
    raw = create_with_command("hot", "pretrade")[-1]
    assert api.get("/api/v1/auth/whoami", **auth(raw)).status_code == 200
    with django_assert_num_queries(0):
        assert api.get("/api/v1/auth/whoami", **auth(raw)).status_code == 200


def test_unknown_keys_are_cached_negatively(api, django_assert_num_queries):
    api.get("/api/v1/auth/whoami", HTTP_AUTHORIZATION="Api-Key gh_guess")
    with django_assert_num_queries(0):
        response = api.get("/api/v1/auth/whoami", HTTP_AUTHORIZATION="Api-Key gh_guess")
    assert response.status_code == 401


def test_last_used_is_recorded():
    raw = create_with_command("used", "pretrade")[-1]
    assert ApiKey.objects.get(name="used").last_used_at is None
    assert api_keys.resolve(raw) is not None
    assert ApiKey.objects.get(name="used").last_used_at is not None

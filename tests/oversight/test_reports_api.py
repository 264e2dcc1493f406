"""GET /api/v1/reports/, /reports/{id} and /reports/{id}/files/{name} (scope ``reports``)."""

import hashlib
from datetime import UTC, date, datetime

import orjson
import pytest

from core import signing
from oversight import reports
from tests.conftest import auth

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def reports_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def three_reports():
    made = [
        reports.generate_report(kind="daily", period=day, generated_by="test", now=NOW)
        for day in (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 23))
    ]
    return made


@pytest.fixture
def key(make_key):
    return make_key("reports")


def test_the_list_is_newest_first_and_filters(api, key, three_reports):
    response = api.get("/api/v1/reports/", **auth(key))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == [r.pk for r in reversed(three_reports)]
    first = body["results"][0]
    assert (first["kind"], first["period"], first["version"]) == ("daily", "2026-11-23", 2)
    assert first["url"] == f"/api/v1/reports/{first['id']}"

    by_period = api.get("/api/v1/reports/?period=2026-11-24&kind=daily", **auth(key)).json()
    assert [r["period"] for r in by_period["results"]] == ["2026-11-24"]
    limited = api.get("/api/v1/reports/?limit=1", **auth(key)).json()
    assert limited["count"] == 3 and len(limited["results"]) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [("kind=weekly", "kind"), ("period=23-11-2026", "period"), ("perod=2026-11-23", "perod")],
)
def test_bad_filters_are_field_errors(api, key, query, field):
    response = api.get(f"/api/v1/reports/?{query}", **auth(key))
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_the_detail_names_every_file_with_its_digest_and_the_signature(api, key, three_reports):
    report = three_reports[0]
    response = api.get(f"/api/v1/reports/{report.pk}", **auth(key))
    assert response.status_code == 200
    body = response.json()
    assert body["signature"] == report.signature and body["key_id"] == report.key_id
    assert body["signature_algorithm"] == "Ed25519"
    assert body["public_key_id"] == signing.get_signer().key_id
    assert body["public_key_url"] == "/api/v1/signing/public-key"
    names = [f["name"] for f in body["files"]]
    assert "manifest.json" in names and "manifest.sig" in names and len(names) == 30
    manifest = next(f for f in body["files"] if f["name"] == "manifest.json")
    assert manifest["sha256"] == body["manifest_sha256"]


def test_a_download_is_the_file_the_digest_names(api, key, three_reports):
    report = three_reports[0]
    detail = api.get(f"/api/v1/reports/{report.pk}", **auth(key)).json()
    for listed in detail["files"]:
        response = api.get(listed["url"], HTTP_ACCEPT="text/csv", **auth(key))
        assert response.status_code == 200, listed["name"]
        content = b"".join(response.streaming_content)
        assert hashlib.sha256(content).hexdigest() == listed["sha256"]
        assert response["Content-Type"] == listed["media_type"]
        assert listed["name"] in response["Content-Disposition"]
    manifest = api.get(f"/api/v1/reports/{report.pk}/files/manifest.json", **auth(key))
    signature = api.get(f"/api/v1/reports/{report.pk}/files/manifest.sig", **auth(key))
    manifest_bytes = b"".join(manifest.streaming_content)
    sig = orjson.loads(b"".join(signature.streaming_content))
    assert signing.verify(signing.get_signer().public_key, manifest_bytes, sig["signature"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/999999",
        "/api/v1/reports/999999/files/manifest.json",
        "/api/v1/reports/{id}/files/secrets.txt",
        "/api/v1/reports/{id}/files/..%2F..%2Fsigning.pem",
    ],
)
def test_unknown_reports_and_files_are_404(api, key, three_reports, path):
    response = api.get(path.format(id=three_reports[0].pk), **auth(key))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "path", ["/api/v1/reports/", "/api/v1/reports/{id}", "/api/v1/reports/{id}/files/manifest.json"]
)
def test_a_key_is_required_and_needs_the_reports_scope(api, make_key, three_reports, path):
    path = path.format(id=three_reports[0].pk)
    anonymous = api.get(path)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "NOT_AUTHENTICATED"
    wrong_scope = api.get(path, **auth(make_key("pretrade", "custody")))
    assert wrong_scope.status_code == 403
    assert wrong_scope.json()["error"]["code"] == "PERMISSION_DENIED"
    unknown = api.get(path, HTTP_AUTHORIZATION="Api-Key not-a-key")
    assert unknown.status_code == 401

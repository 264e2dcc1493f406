"""PUT/GET /api/v1/accounts/{id}: ISO codes from pycountry, history kept, audited."""

import pytest

from compliance.models import AccountProfileVersion
from core.models import AuditEntry
from tests.conftest import auth

pytestmark = pytest.mark.django_db

GOOD = {
    "residence_country": "SG",
    "nationalities": ["SG", "MY"],
    "entity_type": "individual",
    "investor_category": "retail",
    "status": "active",
}


@pytest.fixture
def ref_key(make_key):
    return make_key("reference")


def put(api, key, account_id, body):
    return api.put(f"/api/v1/accounts/{account_id}", body, format="json", **auth(key))


def test_create_then_read_back(api, ref_key, redis_conn):
    response = put(api, ref_key, "acc-1", GOOD)
    assert response.status_code == 201
    body = api.get("/api/v1/accounts/acc-1", **auth(ref_key)).json()
    assert body["residence_country"] == "SG"
    assert body["nationalities"] == ["MY", "SG"]
    assert body["version"] == 1


def test_replace_keeps_history_and_audits(api, ref_key, redis_conn):
    put(api, ref_key, "acc-2", GOOD)
    response = put(api, ref_key, "acc-2", {**GOOD, "residence_country": "CN"})
    assert response.status_code == 200 and response.json()["version"] == 2
    history = list(AccountProfileVersion.objects.filter(account_id="acc-2").order_by("version"))
    assert [h.facts["residence_country"] for h in history] == ["SG", "CN"]
    actions = list(AuditEntry.objects.filter(object_id="acc-2").values_list("action", flat=True))
    assert actions == ["account.create", "account.update"]


def test_same_facts_again_writes_no_new_version(api, ref_key, redis_conn):
    put(api, ref_key, "acc-3", GOOD)
    assert put(api, ref_key, "acc-3", GOOD).json()["version"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"residence_country": "XX"}, "residence_country"),
        ({"residence_subdivision": "UA-99", "residence_country": "UA"}, "residence_subdivision"),
        ({"residence_subdivision": "UA-43", "residence_country": "SG"}, "residence_subdivision"),
        ({"nationalities": ["SG", "ZZ"]}, "nationalities"),
        ({"entity_type": "trust"}, "entity_type"),
        ({"investor_category": "whale"}, "investor_category"),
        ({"status": "frozen"}, "status"),
        ({"controlling_countries": ["CN"]}, "controlling_countries"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
    ids=[
        "unknown-country",
        "unknown-subdivision",
        "subdivision-of-another-country",
        "unknown-nationality",
        "entity-type",
        "investor-category",
        "status",
        "individual-with-controllers",
        "unknown-field",
    ],
)
def test_bad_input_is_400_naming_the_field(api, ref_key, change, field):
    response = put(api, ref_key, "acc-bad", {**GOOD, **change})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert any(name.startswith(field) for name in error["fields"]), error
    assert not AccountProfileVersion.objects.filter(account_id="acc-bad").exists()


def test_crimea_subdivision_and_entity_controllers_are_accepted(api, ref_key, redis_conn):
    assert (
        put(
            api,
            ref_key,
            "acc-ua",
            {**GOOD, "residence_country": "UA", "residence_subdivision": "UA-43"},
        ).status_code
        == 201
    )
    assert (
        put(
            api,
            ref_key,
            "acc-fund",
            {**GOOD, "entity_type": "entity", "controlling_countries": ["CN", "HK"]},
        ).status_code
        == 201
    )


def test_scope_is_required(api, make_key):
    response = put(api, make_key("pretrade"), "acc-x", GOOD)
    assert response.status_code == 403


def test_unknown_account_is_404(api, ref_key):
    response = api.get("/api/v1/accounts/nobody", **auth(ref_key))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"

"""Issue 14 over the real stack: profiles written through ``PUT /api/v1/accounts``, checks
through ``POST /api/v1/access/check``, the shipped GeoLite2, the migrated rulebook and a real
Redis.

Addresses, as the shipped GeoLite2 places them (``compliance.geoip``, no anonymizer flag):
``1.32.192.1`` HK, ``1.32.128.1`` SG, ``114.114.114.114`` CN (CN-JS), ``8.8.8.8`` US,
``5.62.56.193`` PR and ``5.62.56.109`` GU (GeoIP2 reports territories as countries),
``5.1.4.1`` UA with no subdivision.
"""

import pytest

from compliance import services
from tests.conftest import auth

pytestmark = pytest.mark.django_db

IP_HK, IP_SG, IP_CN, IP_US = "1.32.192.1", "1.32.128.1", "114.114.114.114", "8.8.8.8"
IP_PR, IP_GU, IP_UA = "5.62.56.193", "5.62.56.109", "5.1.4.1"


@pytest.fixture
def key(make_key):
    return make_key("pretrade")


@pytest.fixture
def reference_key(make_key):
    return make_key("reference")


@pytest.fixture
def profile(api, reference_key, redis_conn, django_capture_on_commit_callbacks):
    """Write a profile through the contract; returns its account id."""

    def put(account_id, residence, **extra):
        body = {
            "residence_country": residence,
            "entity_type": "individual",
            "investor_category": "retail",
            "status": "active",
            **extra,
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = api.put(
                f"/api/v1/accounts/{account_id}", body, format="json", **auth(reference_key)
            )
        assert response.status_code in (200, 201), response.content
        return account_id

    return put


def check(api, key, ip, product="crypto_perp", action="open", account=None):
    body = {"client_ip": ip, "product_class": product, "action": action}
    if account:
        body["account_id"] = account
    response = api.post("/api/v1/access/check", body, format="json", **auth(key))
    assert response.status_code == 200, response.content
    return response.json()


def deciding(answer):
    first = answer["reasons"][0]["detail"] if answer["reasons"] else {}
    return answer["effect"], first.get("signal"), first.get("rule"), first.get("jurisdiction")


def test_hk_resident_with_cn_nationality_on_an_hk_ip_is_not_denied(api, key, profile):
    account = profile("hk-1", "HK", nationalities=["CN"])
    answer = check(api, key, IP_HK, account=account)
    # Venue policy: a mainland nationality alone is enhanced due diligence, not the notice.
    assert deciding(answer) == ("review", "nationality", "prc-vc-2026", "CN")
    assert check(api, key, IP_HK, "stablecoin", "withdraw", account=account)["effect"] == "allow"


def test_a_mainland_national_resident_in_singapore_is_reviewed(api, key, profile):
    account = profile("sg-cn", "SG", nationalities=["CN"])
    assert deciding(check(api, key, IP_SG, "rwa_token", account=account)) == (
        "review",
        "nationality",
        "prc-rwa-2026",
        "CN",
    )
    assert check(api, key, IP_SG, action="reduce", account=account)["effect"] == "allow"


@pytest.mark.parametrize("ip", [IP_HK, IP_SG, IP_CN, IP_US, IP_UA])
def test_a_cn_resident_is_denied_from_any_ip(api, key, profile, ip):
    account = profile("cn-1", "CN")
    answer = check(api, key, ip, account=account)
    assert answer["effect"] == "deny"
    assert {"signal": "residence", "rule": "prc-vc-2026", "jurisdiction": "CN"}.items() <= {
        **next(r["detail"] for r in answer["reasons"] if r["detail"]["signal"] == "residence")
    }.items()


@pytest.mark.parametrize(("ip", "territory"), [(IP_PR, "PR"), (IP_GU, "GU"), (IP_US, "US")])
def test_an_ip_in_the_us_or_its_territories_is_the_us(api, key, ip, territory):
    assert deciding(check(api, key, ip)) == ("deny", "ip_geolocation", "us-perps", territory)


@pytest.mark.parametrize("territory", ["PR", "GU", "VI", "AS", "MP"])
def test_a_residence_in_a_us_territory_is_the_us(api, key, profile, territory):
    account = profile(f"res-{territory}", territory)
    assert deciding(check(api, key, IP_SG, account=account)) == (
        "deny",
        "residence",
        "us-perps",
        territory,
    )


def test_a_us_citizen_resident_abroad_is_allowed(api, key, profile):
    account = profile("us-abroad", "SG", nationalities=["US"])
    assert check(api, key, IP_SG, account=account)["effect"] == "allow"
    assert check(api, key, IP_SG, "rwa_token", account=account)["effect"] == "allow"


def test_a_uk_national_abroad_and_an_iranian_national_in_germany_are_allowed(api, key, profile):
    uk = profile("gb-abroad", "SG", nationalities=["GB"])
    ir = profile("ir-in-de", "DE", nationalities=["IR"])
    assert check(api, key, IP_SG, account=uk)["effect"] == "allow"
    assert check(api, key, IP_SG, "crypto_spot", "reduce", account=ir)["effect"] == "allow"
    assert check(api, key, IP_SG, "crypto_spot", "deposit", account=ir)["effect"] == "allow"


def test_a_cuban_national_abroad_is_denied(api, key, profile):
    account = profile("cu-abroad", "ES", nationalities=["CU"])
    assert deciding(check(api, key, IP_SG, "crypto_spot", account=account)) == (
        "deny",
        "nationality",
        "ofac-cuba",
        "CU",
    )


@pytest.mark.parametrize(
    ("subdivision", "effect", "rule", "jurisdiction"),
    [
        ("", "review", "ofac-comprehensive", "UA"),
        ("UA-43", "deny", "ofac-comprehensive", "UA-43"),
        ("UA-30", "allow", None, None),
    ],
    ids=["no-subdivision-review", "crimea-denied", "kyiv-allowed"],
)
def test_ukrainian_residence_by_subdivision(
    api, key, profile, subdivision, effect, rule, jurisdiction
):
    account = profile(f"ua{subdivision}", "UA", residence_subdivision=subdivision)
    answer = check(api, key, IP_SG, "crypto_spot", account=account)
    assert deciding(answer) == (effect, "residence" if rule else None, rule, jurisdiction)
    if subdivision == "":
        reason = answer["reasons"][0]
        assert reason["code"] == "JURISDICTION_REVIEW"
        assert reason["detail"]["subdivision"] == "unknown"
        assert "subdivision of UA is unknown" in reason["message"]


def test_an_ip_located_only_to_ukraine_is_reviewed(api, key):
    answer = check(api, key, IP_UA, "crypto_spot")
    assert deciding(answer) == ("review", "ip_geolocation", "ofac-comprehensive", "UA")
    assert answer["reasons"][0]["detail"]["subdivision"] == "unknown"


@pytest.mark.parametrize(
    ("subdivisions", "effect"),
    [([], "review"), (["UA-14"], "deny"), (["UA-30"], "allow")],
    ids=["ua-unknown-review", "donetsk-denied", "kyiv-allowed"],
)
def test_a_controlling_country_with_and_without_its_subdivision(
    api, key, profile, subdivisions, effect
):
    account = profile(
        f"fund-{'-'.join(subdivisions) or 'ua'}",
        "SG",
        entity_type="entity",
        controlling_countries=["UA"],
        controlling_subdivisions=subdivisions,
    )
    answer = check(api, key, IP_SG, "crypto_spot", account=account)
    assert answer["effect"] == effect
    if effect != "allow":
        assert answer["reasons"][0]["detail"]["signal"] == "controlling_person"


def test_a_controlling_subdivision_outside_the_controlling_countries_is_refused(
    api, reference_key, redis_conn
):
    body = {
        "residence_country": "SG",
        "entity_type": "entity",
        "controlling_countries": ["CN"],
        "controlling_subdivisions": ["UA-14"],
        "investor_category": "professional",
        "status": "active",
    }
    response = api.put("/api/v1/accounts/fund-x", body, format="json", **auth(reference_key))
    assert response.status_code == 400
    assert "controlling_subdivisions" in response.json()["error"]["fields"]


def test_a_profile_that_no_longer_validates_is_reviewed_not_a_500(
    api, key, redis_conn, django_capture_on_commit_callbacks
):
    """A code retired by a pycountry upgrade (here ``AN``, Netherlands Antilles, already
    gone) in a stored profile: decided on what still validates, ``review`` to open."""
    with django_capture_on_commit_callbacks(execute=True):
        services.put_account_profile(
            account_id="old-1",
            facts={
                "residence_country": "AN",
                "residence_subdivision": "",
                "nationalities": ["CN"],
                "entity_type": "individual",
                "controlling_countries": [],
                "investor_category": "retail",
                "status": "active",
            },
            actor="test",
        )
    answer = check(api, key, IP_SG, account="old-1")
    assert answer["effect"] == "review"
    assert "default-profile-invalid" in {r["detail"]["rule"] for r in answer["reasons"]}
    assert "prc-vc-2026" in {r["detail"]["rule"] for r in answer["reasons"]}
    assert check(api, key, IP_SG, "stablecoin", "withdraw", account="old-1")["effect"] == "allow"


def test_a_decision_that_raises_fails_closed(api, key, redis_conn, monkeypatch):
    from compliance import gate

    def broken(*args, **kwargs):
        raise LookupError("retired code")

    monkeypatch.setattr(gate, "decide", broken)
    answer = check(api, key, IP_SG)
    assert answer["effect"] == "deny"
    assert answer["reasons"][0]["code"] == "DEGRADED_FAIL_CLOSED"

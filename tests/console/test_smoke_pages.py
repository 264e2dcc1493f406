import pytest

pytestmark = pytest.mark.django_db


def test_pages_render_for_an_officer(officer_client):
    client, _ = officer_client("compliance_officer", "risk_officer", "administrator")
    for path in [
        "/",
        "/rules/",
        "/rules/explain/",
        "/decisions/",
        "/accounts/",
        "/audit/",
        "/schedules/",
        "/proposals/",
        "/officers/",
        "/markets/board",
        "/kill-switches/",
        "/alerts/",
        "/rules/propose/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:2000])

"""Issue 15 in the console: the screening page lists open cases with the account's facts
beside the list entry's and the list versions with their differences; a decision is
proposed by one compliance officer and approved by another (maker-checker, over HTTP), and
the account page shows its status and history."""

from __future__ import annotations

import pytest

from compliance import sanctions
from compliance import services as compliance_services
from compliance.models import AccountProfile, ScreeningCase
from console.models import Proposal
from tests.console.conftest import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(django_capture_on_commit_callbacks):
    sanctions.load_shipped(actor="test")
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.put_account_profile(
            account_id="acc-gw",
            facts={
                "residence_country": "DE",
                "residence_subdivision": "",
                "nationalities": ["DE"],
                "entity_type": "individual",
                "controlling_countries": [],
                "investor_category": "retail",
                "status": "active",
                "full_name": "Gerhard Wisser",
                "date_of_birth": "1985-04-01",
            },
            actor="test",
        )
    return ScreeningCase.objects.get(account_id="acc-gw")


@pytest.fixture
def officers(make_officer):
    return make_officer("carla", "compliance_officer"), make_officer("cody", "compliance_officer")


def test_the_screening_page_puts_the_account_beside_the_entry(case, officers):
    page = signed_in_client(officers[0]).get("/screening/")
    assert page.status_code == 200
    html = page.content.decode()
    row = html[html.index(f'data-testid="case-{case.pk}"') :].split("</tr>")[0]
    assert "acc-gw" in row and "born 1985-04-01" in row and "Gerhard Wisser" in row
    assert "WISSER, Gerhard" in row and "#11366" in row and "DOB 1939-07-02" in row
    assert "POB Lohne, Germany" in row and "NPWMD" in row
    assert f"/proposals/new/screening.false_positive/?id={case.pk}" in row
    assert 'data-testid="list-1"' in html and "8976" in html


def test_a_false_positive_is_proposed_by_one_officer_and_approved_by_another(case, officers):
    carla, cody = officers
    maker, checker = signed_in_client(carla), signed_in_client(cody)
    response = maker.post(
        "/proposals/new/screening.false_positive/", {"id": case.pk, "reason": "born 1985"}
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    proposal = Proposal.objects.get(kind="screening.false_positive")
    maker.post(f"/proposals/{proposal.pk}/approve")  # the maker cannot approve their own
    assert ScreeningCase.objects.get(pk=case.pk).status == "open"
    checker.post(f"/proposals/{proposal.pk}/approve", {"note": "checked"})
    proposal.refresh_from_db()
    assert proposal.status == "executed", proposal.result
    decided = ScreeningCase.objects.get(pk=case.pk)
    assert (decided.status, decided.proposed_by, decided.decided_by, decided.note) == (
        "cleared",
        "officer:carla",
        "officer:cody",
        "born 1985",
    )
    assert AccountProfile.objects.get(account_id="acc-gw").sanctions_status == "clear"
    account = checker.get("/accounts/acc-gw/").content.decode()
    assert 'data-testid="sanctions-status"' in account
    assert f'data-testid="account-case-{case.pk}"' in account and "cleared" in account
    # a decided case cannot be proposed again
    again = maker.post("/proposals/new/screening.confirm/", {"id": case.pk, "reason": "x"})
    assert again.status_code == 200 and not Proposal.objects.filter(kind="screening.confirm")


def test_a_confirmed_match_is_shown_on_the_account(case, officers):
    from console import maker_checker

    carla, cody = officers
    proposal = maker_checker.propose(
        kind="screening.confirm", payload={"id": case.pk}, reason="same person", maker=carla
    )
    done = maker_checker.approve(proposal_id=proposal.pk, checker=cody)
    assert done.status == "executed", done.result
    page = signed_in_client(cody).get("/accounts/acc-gw/").content.decode()
    status = page[page.index('data-testid="sanctions-status"') :].split("</dd>")[0]
    assert "match" in status

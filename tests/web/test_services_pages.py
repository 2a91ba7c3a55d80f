"""Find a service (/services) and the referral page with a service, through the Flask client
(both engines): search by need, postcode and name; "Refer the claimant" only where the
organisation shares information with the user's, signposting (with contacts, nothing about
the claimant) otherwise; the referral page preselects the service's organisation and shows
what it will and will not read, and the referral records the service."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.case_plan.models import Referral
from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import COACH, Demo
from tests.web.test_frontline_pages import refer_kerry, text
from tests.web.test_pages import sign_in


def _cards(page: str) -> dict[str, str]:
    parts = page.split('data-testid="service" data-service-id="')[1:]
    return {part.split('"', 1)[0]: part for part in parts}


def test_a_coach_finds_budgeting_services_near_the_claimant(client: FlaskClient, rt: Runtime,
                                                            demo: Demo) -> None:
    sign_in(client, COACH)
    before = len(events(rt))
    resp = client.get(f"/services?service_line=personal_budgeting_support&postcode=de1+2fs"
                      f"&subject_id={demo.kerry}")
    assert resp.status_code == 200
    page = text(resp)
    cards = _cards(page)
    assert {"ca-derby-budgeting", "ca-derby-debt", "midlands-money-line-phone",
            "derwent-cu-loans"} <= set(cards)
    assert "ca-carmarthenshire-money" not in cards  # another area
    # What was typed stays in the form.
    assert 'value="de1 2fs"' in page and 'value="personal_budgeting_support" selected' in page
    # A Citizens Advice service: refer, with the service preselected on the referral page.
    budgeting = cards["ca-derby-budgeting"]
    assert (f'href="/claimants/{demo.kerry}/referrals/new?service_id=ca-derby-budgeting"'
            in budgeting)
    assert "Shares information" in budgeting and 'data-testid="signposting"' not in budgeting
    assert "01632 960 303" in budgeting and "Monday to Friday, 09:30 to 16:30" in budgeting
    # A helpline outside every protocol: signposting only, its contacts, no referral.
    helpline = cards["midlands-money-line-phone"]
    assert 'data-testid="refer"' not in helpline and "Signposting only" in helpline
    assert "no information about the claimant will go with it" in helpline
    assert "01632 960 871" in helpline and "By phone or online" in helpline
    # The page names no claimant and writes no audit event (the directory holds no claimant
    # data).
    assert "Kerry" not in page
    assert len(events(rt)) == before


def test_search_by_name_without_a_claimant_offers_no_referral(client: FlaskClient,
                                                              demo: Demo) -> None:
    sign_in(client, COACH)
    page = text(client.get("/services?q=cymorth"))
    cards = _cards(page)
    assert set(cards) == {"jcp-sww-llanelli-online", "tywi-recovery-support"}
    assert '<span class="govuk-!-font-weight-regular" lang="cy">(Cymorth cyffuriau ac alcohol)' \
        in cards["tywi-recovery-support"]
    assert 'data-testid="refer"' not in page
    assert "start from the claimant\u2019s page" in page
    empty = text(client.get("/services?q=nothing+like+this"))
    assert 'data-testid="no-services"' in empty


def test_a_bad_postcode_is_explained_and_keeps_what_was_typed(client: FlaskClient,
                                                              demo: Demo) -> None:
    sign_in(client, COACH)
    resp = client.get("/services?postcode=nowhere&q=food&service_line=triage")
    assert resp.status_code == 422
    page = text(resp)
    assert 'href="#postcode"' in page and "Enter a full postcode or a postcode district" in page
    assert 'value="nowhere"' in page and 'value="food"' in page
    assert 'value="triage" selected' in page
    assert 'data-testid="service"' not in page
    unknown = client.get("/services?service_line=knitting")
    assert unknown.status_code == 422 and 'href="#service_line"' in text(unknown)


def test_the_referral_page_preselects_the_service_and_says_what_is_shared(
        client: FlaskClient, rt: Runtime, demo: Demo) -> None:
    sign_in(client, COACH)
    page = text(client.get(f"/claimants/{demo.kerry}/referrals/new?service_id=ca-derby-budgeting"))
    chosen = page[page.index('data-testid="chosen-service"'):]
    assert "Money advice and budgeting support, provided by Citizens Advice Derby" in chosen
    assert 'name="service_id" value="ca-derby-budgeting"' in page
    assert 'value="ca-derby" checked' in page
    table = page[page.index('data-testid="readable"'):page.index("Send referral")]
    # Only the service's organisation; what it will read and what it will not, and why.
    assert 'data-org="ca-derby"' in table and 'data-org="derby-housing"' not in table
    row = table[table.index('data-purpose="budgeting_support"'):]
    can = row[row.index('data-testid="can-read"'):row.index('data-testid="cannot-read"')]
    cannot = row[row.index('data-testid="cannot-read"'):row.index("</tr>")]
    assert "Money and debts" in can and "Identity details" in can
    assert "Drug and alcohol treatment" not in can
    assert ("Drug and alcohol treatment: the information sharing agreements do not pass this "
            "to Citizens Advice Derby for budgeting support") in cannot.replace(
                "Universal Credit claim details, ", "")
    assert "Citizens Advice Derby is not given access to this for budgeting support" in cannot
    [explained] = [e for e in events(rt, type="access:decision:explain", subject_id=demo.kerry)
                   if e.details["action"] == "refer_sharing"]
    assert sorted(explained.details["targets"]) == ["ca-derby/budgeting_support",
                                                    "ca-derby/case_management"]

    assert refer_kerry(client, demo, service_id="ca-derby-budgeting").status_code == 302
    with rt.session_factory() as s:
        [referral] = s.scalars(select(Referral).where(Referral.subject_id == demo.kerry))
        assert referral.service_id == "ca-derby-budgeting" and referral.to_org == "ca-derby"


def test_a_service_of_another_organisation_keeps_what_was_typed(client: FlaskClient,
                                                                rt: Runtime,
                                                                demo: Demo) -> None:
    sign_in(client, COACH)
    resp = refer_kerry(client, demo, to_org="ca-derby", service_id="derby-housing-apa")
    assert resp.status_code == 422
    page = text(resp)
    assert 'href="#to_org"' in page
    assert ("Rent and Alternative Payment Arrangements is provided by Derby City Council "
            "Housing Options") in page
    assert "Kerry would like help with a budget around her UC payment date." in page
    assert events(rt, type="referral:referral:create") == []


def test_a_signposting_service_on_the_referral_page_sends_nothing(client: FlaskClient,
                                                                 demo: Demo) -> None:
    sign_in(client, COACH)
    page = text(client.get(f"/claimants/{demo.kerry}/referrals/new"
                           "?service_id=midlands-money-line-phone"))
    sign = page[page.index('data-testid="signposting"'):]
    assert "no information about the claimant will go with it" in sign
    assert "01632 960 871" in sign
    assert 'name="service_id"' not in page
    # From the plain referral page, a link to the directory with the claimant in context.
    plain = text(client.get(f"/claimants/{demo.kerry}/referrals/new"))
    assert f'href="/services?subject_id={demo.kerry}"' in plain

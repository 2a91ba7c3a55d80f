"""Who will see an entry, with why the law allows each share and how long it is kept: the
explanation on the plan's add-an-action form (Flask client, both engines), and its wording."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from caseshare.consent.lawful_basis import Basis
from caseshare.web.explanations import basis_sentences
from tests.conftest import KEY_WORKER, Demo
from tests.web.test_pages import sign_in


def test_basis_sentences_say_each_part_that_the_protocol_gives() -> None:
    full = Basis(org="jcp-x", art6_basis="6(1)(e) public task",
                 art9_condition="Art 9(2)(b) employment and social security",
                 statutory_functions=("Welfare Reform Act 2012 s.14",), retention_days=365,
                 categories=("substance_misuse",))
    assert basis_sentences(full) == [
        "Lawful basis (UK GDPR Article 6): 6(1)(e) public task.",
        "Special category condition (UK GDPR Article 9): Art 9(2)(b) employment and social "
        "security.",
        "Statutory function: Welfare Reform Act 2012 s.14.",
        "Kept for 365 days after the case closes or consent ends."]
    assert basis_sentences(Basis("x", None, None, (), None, ())) == []


def test_who_will_see_it_says_the_recipients_basis_and_retention(client: FlaskClient,
                                                                 demo: Demo) -> None:
    sign_in(client, KEY_WORKER, "case_management")
    page = client.get(f"/claimants/{demo.lee}/plan/entries/new").get_data(as_text=True)
    jcp = re.search(r'data-testid="basis-substance_misuse-jcp-derby">(.*?)</span>', page, re.S)
    assert jcp is not None
    assert "Special category condition (UK GDPR Article 9): Art 9(2)(a) explicit consent." in (
        jcp.group(1))
    assert "Statutory function: Welfare Reform Act 2012 s.14 claimant commitment." in jcp.group(1)
    assert "Kept for 730 days after the case closes or consent ends." in jcp.group(1)

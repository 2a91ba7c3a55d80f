"""The lawful basis and retention behind a recipient's share, from the shipped protocols."""

from __future__ import annotations

from pathlib import Path

from caseshare.consent.lawful_basis import Basis, bases_for
from caseshare.policy.loader import load_directory

POLICIES = Path(__file__).resolve().parents[3] / "policies"
PROTOCOLS = load_directory(POLICIES)


def test_special_category_gets_its_article_9_condition_and_the_flow_retention() -> None:
    found = bases_for(PROTOCOLS, org="jcp-derby", purposes=["case_management"],
                      categories=["substance_misuse"], default_retention_days=999)
    assert found == [Basis(org="jcp-derby", art6_basis=None,
                           art9_condition="Art 9(2)(a) explicit consent",
                           statutory_functions=("Welfare Reform Act 2012 s.14 claimant "
                                                "commitment",),
                           retention_days=730, categories=("substance_misuse",))]


def test_a_flow_without_retention_uses_the_default_and_ordinary_data_no_article_9() -> None:
    found = bases_for(PROTOCOLS, org="derby-housing", purposes=["tenancy_sustainment"],
                      categories=["housing_tenancy", "employment"], default_retention_days=999)
    assert {b.retention_days for b in found} == {999}
    assert all(b.art9_condition is None for b in found)
    assert {f for b in found for f in b.statutory_functions} == {
        "Housing Act 1996 Part 7 homelessness prevention"}
    assert set().union(*(b.categories for b in found)) == {"housing_tenancy", "employment"}
    # Without a default the figure is left unknown rather than invented.
    assert {b.retention_days for b in bases_for(
        PROTOCOLS, org="derby-housing", purposes=["tenancy_sustainment"],
        categories=["housing_tenancy"])} == {None}


def test_each_party_has_its_own_article_6_basis_and_retention_differs_by_flow() -> None:
    jcp = bases_for(PROTOCOLS, org="jcp-south-west-wales", purposes=["case_management"],
                    categories=sorted(PROTOCOLS.categories), default_retention_days=999)
    assert jcp and all(b.art6_basis and b.art6_basis.startswith("6(1)(e)") for b in jcp)
    assert len({b.retention_days for b in jcp}) > 1  # flows keep for different periods


def test_nothing_for_an_organisation_no_flow_reaches() -> None:
    assert bases_for(PROTOCOLS, org="ca-derby", purposes=["case_management"],
                     categories=["substance_misuse"], default_retention_days=730) == []
    assert bases_for(PROTOCOLS, org="jcp-derby", purposes=["case_management"],
                     categories=["substance_misuse"], from_org="jcp-derby") == []

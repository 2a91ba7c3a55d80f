"""The protocol's Welsh names (parties' `name_cy`, purposes' and categories' `description_cy`)
survive loading, and `ProtocolSet.display_name` gives them in Welsh, falling back to English."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from caseshare.policy.loader import load_directory, load_files
from caseshare.policy.models import NAME_KINDS
from tests.conftest import ROOT
from tests.unit.policy.test_loader import VALID, write


def test_the_carmarthenshire_protocol_keeps_its_welsh_names() -> None:
    protocols = load_directory(ROOT / "policies")
    welsh = protocols.get("carmarthenshire-support", 1)
    assert welsh is not None
    names = {p.code: p.description_cy for p in welsh.purpose_names}
    assert names["tenancy_sustainment"] == "Cadw'r hawlydd yn ei gartref"
    category = welsh.category("housing_tenancy")
    assert category is not None
    assert category.description_cy == "Tenantiaeth, cyfrif rhent ac ôl-ddyledion"
    assert protocols.display_name("organisation", "tywi-recovery", "cy") == (
        "Gwasanaeth Adferiad Tywi")
    assert protocols.display_name("purpose", "case_management", "cy") == (
        "Cydlynu taith unigol yr hawlydd")
    # Derby's protocol declares the category first, in English only: the Welsh name still
    # comes from the Carmarthenshire protocol, which gives it.
    assert protocols.display_name("category", "substance_misuse", "cy") == (
        "Triniaeth cyffuriau ac alcohol")


def test_english_is_the_default_and_the_fallback() -> None:
    protocols = load_directory(ROOT / "policies")
    assert protocols.display_name("organisation", "tywi-recovery") == "Tywi Recovery Service"
    assert protocols.display_name("category", "housing_tenancy", "en") == (
        "Tenancy, rent account and arrears")
    # Derby's protocols give no Welsh: a Welsh page still names them, in English.
    assert protocols.display_name("organisation", "jcp-derby", "cy") == "Derby Jobcentre Plus"
    english = protocols.display_name("category", "finances", "en")
    assert english and protocols.display_name("category", "finances", "cy") == english


def test_an_undeclared_code_has_no_name_and_an_unknown_kind_is_an_error() -> None:
    protocols = load_directory(ROOT / "policies")
    for kind in NAME_KINDS:
        assert protocols.display_name(kind, "no_such_code", "cy") is None
    with pytest.raises(ValueError, match="role"):
        protocols.display_name("role", "work_coach")


def test_the_first_welsh_name_given_is_kept_whichever_protocol_gives_it(
        tmp_path: Path) -> None:
    english_only = copy.deepcopy(VALID)
    bilingual = copy.deepcopy(VALID) | {"id": "other-isp", "framework": "local"}
    bilingual["purposes"] = [{"code": "case_management", "description": "Coordination",
                              "description_cy": "Cydlynu"}]
    bilingual["categories"][0] = {"code": "contact", "description": "Contact",
                                  "description_cy": "Manylion cyswllt"}
    protocols = load_files([write(tmp_path, english_only),
                            write(tmp_path, bilingual, "other-isp.v1.yaml")])
    # English from the first protocol that declares the code; Welsh from the one that has it.
    assert protocols.display_name("purpose", "case_management") == "Coordinating"
    assert protocols.display_name("purpose", "case_management", "cy") == "Cydlynu"
    assert protocols.display_name("category", "contact") == "Contact details"
    assert protocols.display_name("category", "contact", "cy") == "Manylion cyswllt"
    # Merging keeps the flags too.
    assert protocols.is_sensitive("substance_misuse")

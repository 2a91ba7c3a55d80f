"""Consent form files: a form offers only what some flow of its protocols carries (each problem
names the option); a published version that does not is a warning asking for a new version,
since consents rely on it; a form is retired by a new version, never by an edit."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from caseshare.consent.forms import (
    ConsentForm,
    FormSet,
    Retirement,
    load_forms,
    load_forms_directory,
    uncarried_options,
)
from caseshare.errors import PolicyFileError
from caseshare.policy.loader import load_directory
from caseshare.policy.models import ProtocolSet

ROOT = Path(__file__).resolve().parents[3]
FORMS = ROOT / "consent_forms"


@pytest.fixture(scope="module")
def protocols() -> ProtocolSet:
    return load_directory(ROOT / "policies")


@pytest.fixture(scope="module")
def shipped(protocols: ProtocolSet) -> FormSet:
    return load_forms_directory(FORMS, protocols)


def _form(shipped: FormSet, form_id: str, version: int) -> ConsentForm:
    form = shipped.get(form_id, version)
    assert form is not None
    return form


def test_the_carmarthenshire_form_offers_only_what_its_protocol_carries(
    shipped: FormSet, protocols: ProtocolSet
) -> None:
    wales = _form(shipped, "carmarthenshire-support", 1)
    assert wales.protocols == ("carmarthenshire-support",)
    assert set(wales.recipients) == {"carmarthenshire-housing", "jcp-south-west-wales",
                                     "tywi-recovery"}
    assert wales.languages[0] == "cy" and "explicit_statement" in wales.text["cy"]
    assert uncarried_options(wales, protocols) == []


def test_the_check_names_each_option_no_flow_carries(shipped: FormSet,
                                                     protocols: ProtocolSet) -> None:
    wales = _form(shipped, "carmarthenshire-support", 1)
    widened = dataclasses.replace(wales, categories=(*wales.categories, "finances"),
                                  recipients=(*wales.recipients, "ca-derby"))
    assert uncarried_options(widened, protocols) == [
        "carmarthenshire-support.v1.yaml: options/recipients: 'ca-derby' is carried by no flow "
        "of its protocols (carmarthenshire-support); a form may not ask for consent to sharing "
        "that cannot happen",
        "carmarthenshire-support.v1.yaml: options/categories: 'finances' is carried by no flow "
        "of its protocols (carmarthenshire-support); a form may not ask for consent to sharing "
        "that cannot happen",
    ]
    # The retired WASPI template offered offending history under a protocol with no flow for it.
    waspi = _form(shipped, "waspi-personal-information", 1)
    assert [p.split(": ")[1] for p in uncarried_options(waspi, protocols)] == [
        "options/categories"]


def test_the_waspi_template_is_retired_by_a_new_version(shipped: FormSet) -> None:
    retirement = shipped.retirement("waspi-personal-information")
    assert isinstance(retirement, Retirement) and retirement.version == 2
    assert "carmarthenshire-support" in retirement.replaced_by
    assert [f.id for f in shipped.current()] == ["carmarthenshire-support",
                                                 "derby-multi-agency"]
    assert shipped.get("waspi-personal-information", 1) is not None  # consents on it keep it


@pytest.mark.parametrize(("org", "form_id"), [
    ("carmarthenshire-housing", "carmarthenshire-support"), ("tywi-recovery",
                                                              "carmarthenshire-support"),
    ("jcp-derby", "derby-multi-agency"), ("recovery-partnership", "derby-multi-agency"),
])
def test_each_worker_gets_their_partnerships_form(shipped: FormSet, org: str,
                                                  form_id: str) -> None:
    form = shipped.current_for(org)
    assert form is not None and form.id == form_id
    assert shipped.current_for("no-such-org") is None


def test_a_published_version_that_offers_too_much_is_a_warning_not_a_refusal(
    shipped: FormSet
) -> None:
    assert len(shipped.warnings) == 2
    assert all("'benefit_claim' is carried by no flow" in w and "new version" in w
               for w in shipped.warnings)


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "forms"
    shutil.copytree(FORMS, directory)
    return directory


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_an_unpublished_version_that_offers_too_much_is_refused(
    tmp_path: Path, protocols: ProtocolSet
) -> None:
    directory = _copy(tmp_path)
    data = yaml.safe_load((FORMS / "derby-multi-agency.v2.yaml").read_text(encoding="utf-8"))
    _write(directory / "derby-multi-agency.v3.yaml", data | {"version": 3})
    with pytest.raises(PolicyFileError) as refused:
        load_forms_directory(directory, protocols, require_published=False)
    assert refused.value.problems == [
        "derby-multi-agency.v3.yaml: options/categories: 'benefit_claim' is carried by no flow "
        "of its protocols (recovery-jcp, derby-local-support, derby-triage); a form may not ask "
        "for consent to sharing that cannot happen"]


def test_a_published_retirement_cannot_be_edited_nor_followed(
    tmp_path: Path, protocols: ProtocolSet
) -> None:
    directory = _copy(tmp_path)
    retired = directory / "waspi-personal-information.v2.yaml"
    data = yaml.safe_load(retired.read_text(encoding="utf-8"))
    _write(retired, data | {"retired": data["retired"] | {"replaced_by": ["derby-multi-agency"]}})
    with pytest.raises(PolicyFileError, match="retired/replaced_by differ from published"):
        load_forms_directory(directory, protocols)

    later = yaml.safe_load((FORMS / "waspi-personal-information.v1.yaml").read_text("utf-8"))
    later["options"]["categories"].remove("offending")
    _write(retired, data)
    _write(directory / "waspi-personal-information.v3.yaml", later | {"version": 3})
    with pytest.raises(PolicyFileError, match="a retired form has no later versions"):
        load_forms_directory(directory, protocols, require_published=False)


def test_a_retirement_names_forms_that_exist(tmp_path: Path, protocols: ProtocolSet) -> None:
    data = {"id": "old-form", "version": 2,
            "retired": {"reason": "Replaced by the partnership's own form.",
                        "replaced_by": ["no-such-form"]}}
    path = _write(tmp_path / "old-form.v2.yaml", data)
    other = tmp_path / "carmarthenshire-support.v1.yaml"
    shutil.copy(FORMS / other.name, other)
    (tmp_path / "published.json").write_text(json.dumps({}))
    with pytest.raises(PolicyFileError, match="retired/replaced_by: unknown form 'no-such-form'"):
        load_forms([path, other], protocols, require_published=False)


def test_a_retirement_retires_a_form_that_exists(tmp_path: Path, protocols: ProtocolSet) -> None:
    """Review of issue 25: retiring an id with no versions was accepted (a typo would leave
    the form it meant to retire in use)."""
    data = {"id": "no-such-form", "version": 2,
            "retired": {"reason": "Replaced by the partnership's own form.",
                        "replaced_by": ["carmarthenshire-support"]}}
    path = _write(tmp_path / "no-such-form.v2.yaml", data)
    other = tmp_path / "carmarthenshire-support.v1.yaml"
    shutil.copy(FORMS / other.name, other)
    (tmp_path / "published.json").write_text(json.dumps({}))
    with pytest.raises(PolicyFileError, match="id: no version of 'no-such-form' to retire"):
        load_forms([path, other], protocols, require_published=False)

"""Consent forms: `forms check` names the file and field of every problem, published wording is
frozen (a change needs a new version), and each consent pins the hash of the exact text served."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from caseshare import StartupError, create_app
from tests.builders import CONSENTS, consent_body
from tests.conftest import COACH, ROOT, Demo

FORMS = ROOT / "consent_forms"
DERBY = FORMS / "derby-multi-agency.v1.yaml"


def _app(tmp_path: Path, forms_dir: Path = FORMS) -> Flask:
    return create_app({"instance_path": tmp_path / "instance", "database_url": "sqlite://",
                       "forms_dir": forms_dir})


@pytest.fixture
def cli_app(tmp_path: Path) -> Iterator[Flask]:
    app = _app(tmp_path)
    yield app
    app.extensions["caseshare"].engine.dispose()


def _check(app: Flask, *files: Path) -> Any:
    return app.test_cli_runner().invoke(args=["caseshare", "forms", "check",
                                              *[str(f) for f in files]])


def _write(directory: Path, name: str, data: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_forms_pass_forms_check(cli_app: Flask) -> None:
    result = _check(cli_app)
    assert result.exit_code == 0, result.output
    assert "OK: 5 consent form file(s) valid" in result.output
    # The published Derby versions offer benefit_claim, which no flow of their protocols
    # carries: they cannot be edited, so `forms check` warns and asks for a new version. The
    # retired WASPI template (which offered offending history) is offered to nobody, so no
    # warning; the Carmarthenshire form offers only what its protocol carries.
    warnings = [line for line in result.output.splitlines() if line.startswith("WARNING")]
    assert [w.split(":")[0] for w in warnings] == [
        "WARNING derby-multi-agency.v1.yaml", "WARNING derby-multi-agency.v2.yaml"]
    assert all("options/categories: 'benefit_claim' is carried by no flow" in w
               for w in warnings)


WALES = FORMS / "carmarthenshire-support.v1.yaml"


@pytest.mark.parametrize(("key", "option"), [
    ("categories", "finances"),  # declared by the Derby protocol, carried by no Welsh flow
    ("purposes", "budgeting_support"),
    ("recipients", "jcp-derby"),  # a party to protocols, but not to this form's
])
def test_forms_check_rejects_an_option_no_flow_of_its_protocols_carries(
    key: str, option: str, cli_app: Flask, tmp_path: Path
) -> None:
    data: dict[str, Any] = yaml.safe_load(WALES.read_text(encoding="utf-8"))
    data["options"][key].append(option)
    path = _write(tmp_path, "carmarthenshire-support.v2.yaml", data | {"version": 2})
    result = _check(cli_app, path)
    assert result.exit_code == 1
    assert (f"ERROR carmarthenshire-support.v2.yaml: options/{key}: {option!r} is carried by "
            f"no flow of its protocols (carmarthenshire-support)") in result.output
    directory = _copy_forms(tmp_path)
    _write(directory, path.name, data | {"version": 2})
    with pytest.raises(StartupError, match=f"options/{key}: {option!r} is carried by no flow"):
        _app(tmp_path / "start", directory)  # also refused at start, unpublished or not


def _derby() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DERBY.read_text(encoding="utf-8"))
    return data


def _bad_options(data: dict[str, Any]) -> None:
    data["options"]["preselected"] = ["jcp-derby"]  # no pre-ticked options


def _bad_recipient(data: dict[str, Any]) -> None:
    data["options"]["recipients"].append("local-charities")


def _missing_welsh(data: dict[str, Any]) -> None:
    del data["text"]["cy"]


def _no_explicit(data: dict[str, Any]) -> None:
    del data["text"]["en"]["explicit_statement"]


def _too_long(data: dict[str, Any]) -> None:
    data["options"]["max_duration_days"] = 2000


def _unknown_category(data: dict[str, Any]) -> None:
    data["options"]["categories"].append("star_sign")


@pytest.mark.parametrize(("breaker", "where"), [
    (_bad_options, "options: Additional properties are not allowed ('preselected'"),
    (_bad_recipient, "options/recipients: 'local-charities' is not a party to any protocol"),
    (_missing_welsh, "text/cy: language listed but no text given"),
    (_no_explicit, "text/en/explicit_statement: required"),
    (_too_long, "options/max_duration_days"),
    (_unknown_category, "options/categories: unknown category 'star_sign'"),
])
def test_forms_check_names_the_file_and_field_of_a_bad_form(
    breaker: Any, where: str, cli_app: Flask, tmp_path: Path
) -> None:
    data = _derby()
    data["id"] = "broken-form"
    breaker(data)
    path = _write(tmp_path, "broken-form.v1.yaml", data)
    result = _check(cli_app, path)
    assert result.exit_code == 1
    assert f"ERROR broken-form.v1.yaml: {where}" in result.output


def _copy_forms(tmp_path: Path) -> Path:
    directory = tmp_path / "forms"
    shutil.copytree(FORMS, directory)
    return directory


def test_changing_published_wording_without_a_new_version_is_refused(
    cli_app: Flask, tmp_path: Path
) -> None:
    directory = _copy_forms(tmp_path)
    data = _derby()
    data["text"]["en"]["body"] += "\nWe may also share it with other local charities.\n"
    path = _write(directory, DERBY.name, data)

    result = _check(cli_app, path)
    assert result.exit_code == 1
    assert ("ERROR derby-multi-agency.v1.yaml: text/en: wording differs from published "
            "derby-multi-agency@1; changing a form's wording requires a new version"
            ) in result.output
    assert "text/cy" not in result.output  # the Welsh text did not change
    with pytest.raises(StartupError, match="wording differs from published"):
        _app(tmp_path / "second", directory)


def test_new_wording_is_a_new_version_which_must_be_published(
    tmp_path: Path, cli_app: Flask
) -> None:
    directory = _copy_forms(tmp_path)
    data = _derby()
    data["version"] = 3
    data["options"]["categories"].remove("benefit_claim")  # a new version offers only carried
    data["text"]["en"]["body"] += "\nWe may also share it with the council's debt team.\n"
    path = _write(directory, "derby-multi-agency.v3.yaml", data)
    unpublished = _check(cli_app, path)
    assert unpublished.exit_code == 1
    assert ("derby-multi-agency.v3.yaml: version: derby-multi-agency@3 is not in "
            "published.json") in unpublished.output

    app = _app(tmp_path / "publisher", directory)  # an unpublished draft does not stop start-up
    published = app.test_cli_runner().invoke(args=["caseshare", "forms", "publish"])
    app.extensions["caseshare"].engine.dispose()
    assert published.exit_code == 0 and "published: derby-multi-agency@3" in published.output
    assert _check(cli_app, path).exit_code == 0
    register = json.loads((directory / "published.json").read_text())
    shipped = json.loads((FORMS / "published.json").read_text())
    assert register == shipped | {"derby-multi-agency@3": register["derby-multi-agency@3"]}
    assert register["derby-multi-agency@3"]["cy"] == shipped["derby-multi-agency@1"]["cy"]


@pytest.mark.parametrize(("form_id", "lang"), [
    ("derby-multi-agency", "en"), ("derby-multi-agency", "cy"),
])
def test_a_consent_pins_the_sha256_of_the_text_served_to_the_claimant(
    form_id: str, lang: str, client: FlaskClient, auth: Any, demo: Demo
) -> None:
    served = client.get(f"/api/v1/consent-forms/{form_id}/1?lang={lang}", headers=auth(COACH))
    assert served.status_code == 200 and served.json["language"] == lang
    digest = hashlib.sha256(served.json["text"].encode("utf-8")).hexdigest()
    assert served.json["text_hash"] == digest

    r = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=consent_body(
        form_id=form_id, language=lang, recipients=["ca-derby"],
        purposes=["budgeting_support"], categories=["finances"]))
    assert r.status_code == 201, r.json
    assert r.json["text_hash"] == digest
    assert r.json["form_id"] == form_id and r.json["language"] == lang


def test_forms_are_listed_with_both_languages(client: FlaskClient, auth: Any,
                                              demo: Demo) -> None:
    r = client.get("/api/v1/consent-forms", headers=auth(COACH))
    assert {(f["id"], tuple(sorted(f["languages"]))) for f in r.json} == {
        ("carmarthenshire-support", ("cy", "en")), ("derby-multi-agency", ("cy", "en"))}

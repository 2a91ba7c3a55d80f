"""Welsh consent pages and receipts name organisations, purposes and categories as the
protocol names them in Welsh (Flask client, both engines).

The app here loads, beside the shipped forms, a bilingual consent form naming the
Carmarthenshire WASPI partners (the shipped forms name none yet); its id sorts first, so it is
the form the consent page offers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from caseshare import create_app
from tests.conftest import COACH, ROOT, Clock, Demo, _database_url
from tests.web.test_pages import sign_in, token

WELSH_PARTIES = {
    "carmarthenshire-housing": "Gwasanaethau Tai Cyngor Sir Caerfyrddin",
    "tywi-recovery": "Gwasanaeth Adferiad Tywi",
}


def _carmarthenshire_form(directory: Path) -> Path:
    """The shipped WASPI form's wording, offering the Carmarthenshire protocol's options."""
    data = yaml.safe_load((ROOT / "consent_forms" / "waspi-personal-information.v1.yaml")
                          .read_text())
    data.update(id="carmarthenshire-test", protocols=["carmarthenshire-support"])
    data["options"].update(recipients=[*WELSH_PARTIES, "jcp-south-west-wales"],
                           purposes=["case_management", "tenancy_sustainment"],
                           categories=["identity", "contact", "housing_tenancy"])
    directory.mkdir()
    for shipped in (ROOT / "consent_forms").glob("*.yaml"):
        shutil.copy(shipped, directory)
    (directory / "carmarthenshire-test.v1.yaml").write_text(yaml.safe_dump(data))
    return directory


@pytest.fixture
def app(engine: str, templates: dict[str, Any], tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    app = create_app({"instance_path": tmp_path / "instance",
                      "database_url": _database_url(engine, templates, tmp_path),
                      "forms_dir": _carmarthenshire_form(tmp_path / "forms"),
                      "clock": clock, "ratelimit_default": "100000 per minute"})
    app.config["TESTING"] = True
    yield app
    app.extensions["caseshare"].engine.dispose()


def text(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def test_the_welsh_consent_page_names_the_options_in_welsh_with_english_beside(
        client: FlaskClient, demo: Demo) -> None:
    sign_in(client, COACH)
    page = text(client.get(f"/claimants/{demo.lee}/consents/new?lang=cy"))
    for welsh in [*WELSH_PARTIES.values(), "Cadw&#39;r hawlydd yn ei gartref",
                  "Tenantiaeth, cyfrif rhent ac ôl-ddyledion"]:
        assert f'<span lang="cy">{welsh}</span>' in page
    # The staff member's English name is beside each, as a hint.
    assert "Tywi Recovery Service" in page and "Tenancy sustainment" in page
    english = text(client.get(f"/claimants/{demo.lee}/consents/new?lang=en"))
    assert "Tywi Recovery Service" in english
    assert not any(welsh in english for welsh in WELSH_PARTIES.values())
    assert 'lang="cy">Cadw' not in english


def test_a_welsh_receipt_names_the_carmarthenshire_organisations_in_welsh(
        client: FlaskClient, demo: Demo) -> None:
    sign_in(client, COACH)
    path = f"/claimants/{demo.lee}/consents/new?lang=cy"
    sent = client.post(path, data={
        "csrf_token": token(client, path), "recipients": list(WELSH_PARTIES),
        "purposes": ["tenancy_sustainment"], "categories": ["housing_tenancy"],
        "given_by_type": "self", "method": "e_signature", "evidence_ref": "DOC-2026-41",
        "expires_at-day": "1", "expires_at-month": "5", "expires_at-year": "2027"})
    assert sent.status_code == 302, text(sent)
    check = sent.headers["Location"]
    done = client.post(check, data={"csrf_token": token(client, check)})
    assert done.status_code == 302 and "lang=cy" in done.headers["Location"]
    receipt = text(client.get(done.headers["Location"]))
    document = re.search(r'<article class="cs-document" lang="cy".*</article>', receipt, re.S)
    assert document is not None
    for org, welsh in WELSH_PARTIES.items():
        assert f'data-org="{org}"' in document.group(0)
        assert welsh in document.group(0)
    assert "Tywi Recovery Service" not in document.group(0)


def test_papers_name_a_code_without_our_words_as_the_protocol_does(app: Flask) -> None:
    """`evaluation` has no claimant words in the catalogue: the protocol's description is
    shown, not the bare code."""
    from caseshare.web.claimant_words import say
    from caseshare.web.i18n import use_language

    with app.test_request_context():
        use_language("cy")
        named = app.extensions["caseshare"].protocols.display_name("purpose", "evaluation", "cy")
        assert named and say("purpose", "evaluation") == named
        assert say("category", "no_such_category") == "no such category"

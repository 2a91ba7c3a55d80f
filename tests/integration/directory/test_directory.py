"""The directory on both engines: `caseshare directory import FILE` (validated, idempotent,
reporting what changed, audited) and search by service line, postcode and name."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from caseshare.directory import oruk
from caseshare.directory import service as directory
from caseshare.directory.models import (
    DirectoryLocation,
    DirectoryOrganisation,
    DirectoryService,
    DirectoryServiceDistrict,
    DirectoryServiceTaxonomy,
)
from caseshare.directory.service import Query
from caseshare.runtime import Runtime
from tests.audit_helpers import count, events

DEMO: dict[str, Any] = json.loads(oruk.DEMO_FEED.read_text(encoding="utf-8"))


def _import(app: Flask, path: Path) -> Any:
    return app.test_cli_runner().invoke(args=["caseshare", "directory", "import", str(path)])


def _write(tmp_path: Path, data: dict[str, Any], name: str = "feed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_import_then_reimport_changes_nothing(app: Flask, rt: Runtime) -> None:
    first = _import(app, oruk.DEMO_FEED)
    assert first.exit_code == 0, first.output
    assert "services: 31 added, 0 updated, 0 removed, 0 unchanged" in first.output
    assert "organisations: 20 added, 0 updated, 0 removed, 0 unchanged" in first.output
    assert "  added ca-derby-budgeting" in first.output
    assert count(rt, DirectoryService) == 31 and count(rt, DirectoryOrganisation) == 20
    [imported] = events(rt, type="directory:feed:import")
    assert len(imported.details["services"]["added"]) == 31
    assert imported.details["source"] == "demo-feed.json"

    again = _import(app, oruk.DEMO_FEED)
    assert again.exit_code == 0, again.output
    assert again.output.strip() == ("directory: unchanged (31 services, 20 organisations): "
                                    "nothing to import")
    assert len(events(rt, type="directory:feed:import")) == 1  # nothing changed, nothing said


def test_a_changed_feed_reports_added_updated_and_removed(app: Flask, rt: Runtime,
                                                          tmp_path: Path) -> None:
    assert _import(app, oruk.DEMO_FEED).exit_code == 0
    data = copy.deepcopy(DEMO)
    services = {s["id"]: s for s in data["content"]}
    services["ca-derby-debt"]["name"] = "Debt and arrears advice"
    services["ca-derby-debt"]["service_taxonomys"].append(
        {"id": "debt-fi", "taxonomy": {"id": "financial_inclusion", "name": "FI",
                                       "vocabulary": "lssf"}})
    removed = services.pop("derby-food-bank-parcels")  # its organisation goes with it
    added = copy.deepcopy(services["derwent-cu-accounts"])
    added.update(id="derwent-cu-junior", name="Junior savers")
    data["content"] = [*services.values(), added]
    result = _import(app, _write(tmp_path, data))
    assert result.exit_code == 0, result.output
    assert "services: 1 added, 1 updated, 1 removed, 29 unchanged" in result.output
    assert "organisations: 0 added, 0 updated, 1 removed, 19 unchanged" in result.output
    for line in ("  added derwent-cu-junior", "  updated ca-derby-debt",
                 f"  removed {removed['id']}", "  removed derby-food-bank"):
        assert line in result.output
    with rt.session_factory() as s:
        assert s.get(DirectoryService, "derby-food-bank-parcels") is None
        for table in (DirectoryLocation, DirectoryServiceTaxonomy, DirectoryServiceDistrict):
            left = s.scalar(select(func.count()).select_from(table)
                            .where(table.service_id == "derby-food-bank-parcels"))
            assert left == 0
        debt = directory.get(s, "ca-derby-debt")
        assert debt is not None and debt.name == "Debt and arrears advice"
        assert debt.service_lines == ["financial_inclusion", "personal_budgeting_support"]
        found = directory.search(s, Query(q="arrears advice"))
        assert [v.id for v in found] == ["ca-derby-debt"]
    [_, changed] = events(rt, type="directory:feed:import")
    assert changed.details["services"]["updated"] == ["ca-derby-debt"]


def test_an_organisation_renamed_updates_its_services_search(app: Flask, rt: Runtime,
                                                             tmp_path: Path) -> None:
    assert _import(app, oruk.DEMO_FEED).exit_code == 0
    data = copy.deepcopy(DEMO)
    for service in data["content"]:
        if service["organization"]["id"] == "derby-digital-hub":
            service["organization"]["name"] = "Derby Get Online"
    result = _import(app, _write(tmp_path, data))
    assert "services: 0 added, 2 updated, 0 removed, 29 unchanged" in result.output
    assert "organisations: 0 added, 1 updated, 0 removed, 19 unchanged" in result.output
    with rt.session_factory() as s:
        assert {v.id for v in directory.search(s, Query(q="get online"))} >= {
            "derby-digital-get-online", "derby-digital-champions"}


def test_an_invalid_feed_imports_nothing(app: Flask, rt: Runtime, tmp_path: Path) -> None:
    data = copy.deepcopy(DEMO)
    data["content"][4]["status"] = "maybe"
    result = _import(app, _write(tmp_path, data))
    assert result.exit_code == 1
    assert "ERROR service 'derby-housing-apa' (record 5): status: 'maybe' is not one of" in (
        result.output)
    assert count(rt, DirectoryService) == 0 and count(rt, DirectoryOrganisation) == 0
    assert events(rt, type="directory:feed:import") == []


def test_search_by_service_line_postcode_and_name(app: Flask, rt: Runtime) -> None:
    assert _import(app, oruk.DEMO_FEED).exit_code == 0
    with rt.session_factory() as s:
        def ids(**query: Any) -> list[str]:
            return [v.id for v in directory.search(s, Query(**query))]

        near = ids(service_line="personal_budgeting_support", postcode="DE22 3HN")
        # DE22 is served by the city's services (service area) and by those covering all of DE.
        assert {"ca-derby-budgeting", "derwent-cu-loans", "midlands-money-line-phone"} <= set(near)
        assert not any(i.startswith(("carms", "ca-carmarthenshire")) for i in near)
        # Nottingham (NG) is reached only by the helpline covering the whole area.
        assert ids(postcode="NG1 5DT") == ["midlands-money-line-phone"]
        assert ids(postcode="SA15", service_line="online_access") == [
            "carms-libraries-digital", "jcp-sww-llanelli-online"]
        # Name, Welsh name or organisation name, case and spacing ignored; inactive left out.
        assert ids(q="  CITIZENS   advice derby") == [
            "ca-derby-debt", "ca-derby-help-to-claim", "ca-derby-budgeting"]
        assert ids(q="Sgiliau digidol") == ["carms-libraries-digital"]
        assert ids(q="job club") == []
        assert ids(q="100%") == [] and ids(q="_") == []
        # Pages: limit + 1 rows say there is more; `after` continues from the last.
        first = directory.search(s, Query(limit=10))
        assert len(first) == 11
        last = first[9]
        rest = directory.search(s, Query(limit=100, after=(last.sort_key, last.id)))
        assert [v.id for v in first[:10]] + [v.id for v in rest] == ids(limit=100)

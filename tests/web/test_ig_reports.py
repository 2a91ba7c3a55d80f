"""The unusual access report and the subject access request export as IG pages (both engines):
what they show, that each look is audited, and that the export needs the subject access
purpose (refused, audited, under any other)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from flask.testing import FlaskClient

from caseshare.runtime import Runtime
from tests.audit_helpers import events
from tests.conftest import HOUSING, Clock, Demo
from tests.web.test_ig_pages import sign_in_ig


def test_unusual_access_page_lists_a_read_outside_the_case_with_its_events(
        client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo, auth: Any) -> None:
    # Kerry is not in the housing officer's case: an attempt outside any relationship.
    assert client.get(f"/api/v1/subjects/{demo.kerry}/case-plan?purpose=tenancy_sustainment",
                      headers=auth(HOUSING)).status_code == 404
    sign_in_ig(client, rt, clock)
    page = client.get("/ig/unusual-access")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Outside a case relationship (1)" in text
    row = text.split('data-testid="findings-outside_relationship"')[1].split("</table>")[0]
    assert str(demo.kerry) in row and "Derby City Council Housing Options" in row
    assert "Burst of accesses (0)" in text
    [report] = events(rt, type="audit:report:unusual_access")
    assert report.details["findings"]["outside_relationship"] == 1
    assert "/ig/unusual-access" in client.get("/ig").get_data(as_text=True)


def test_sar_export_page_downloads_the_bundle_under_the_subject_access_purpose(
        client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo) -> None:
    sign_in_ig(client, rt, clock, purpose="subject_access")
    page = client.get(f"/ig/subject-access-request?claimant={demo.lee}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="sar-download"' in text
    assert 'data-testid="change-purpose"' not in text
    assert events(rt, type="subject:sar:export") == []  # finding the claimant exports nothing
    download = client.get(f"/ig/claimants/{demo.lee}/subject-access-request.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="sar-')
    with zipfile.ZipFile(io.BytesIO(download.data)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    [export] = events(rt, type="subject:sar:export")
    assert export.subject_id == demo.lee and export.purpose == "subject_access"
    assert manifest["audit_event_id"] == str(export.event_uuid)


def test_sar_export_refused_under_the_audit_purpose_and_bad_input_named(
        client: FlaskClient, rt: Runtime, clock: Clock, demo: Demo) -> None:
    sign_in_ig(client, rt, clock, purpose="audit")
    text = client.get(f"/ig/subject-access-request?claimant={demo.lee}").get_data(as_text=True)
    assert 'data-testid="change-purpose"' in text and 'data-testid="sar-download"' not in text
    refused = client.get(f"/ig/claimants/{demo.lee}/subject-access-request.zip")
    assert refused.status_code == 403 and refused.content_type.startswith("text/html")
    [denied] = events(rt, type="access:audit:deny")
    assert denied.purpose == "audit" and denied.subject_id == demo.lee
    assert events(rt, type="subject:sar:export") == []
    bad = client.get("/ig/subject-access-request?claimant=not-a-reference")
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert 'href="#claimant"' in body and 'value="not-a-reference"' in body

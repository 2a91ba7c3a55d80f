"""Packaging a subject access export (see subject_access.py) as JSON or as a zip bundle.

The zip is what an IG officer sends on: one file per section, so each can be reviewed (and any
third party's details redacted) before release; the disclosure log also as CSV for a
spreadsheet; a plain-English README; and a manifest with each file's SHA-256 and the audit event
of the export, so the bundle sent can later be shown to be the one produced. Pure functions.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime
from typing import Any

SECTIONS = ("record", "case_plan", "referrals", "consents", "overrides", "disclosures")
DISCLOSURE_COLUMNS = ["index", "event_id", "occurred_at", "type", "actor", "actor_name", "org",
                      "role", "purpose", "categories", "consent_id", "protocol", "override_id"]

README = """Subject access request export from Caseshare
=============================================

Claimant (pseudonymous id): {subject_id}
Produced: {generated_at} by {actor} ({org}), audit event {audit_event_id}
Record status: {status}
Organisations whose records are covered: {covered}
Other organisations in this case (their records are not in this export; pass the request
on to them): {others}

Files
-----
record.json       The claimant's identity details and who works on the case.
case_plan.json    The shared case plan: every goal, action and note, each with its history
                  (who changed it, when, for what purpose, and what it said).
referrals.json    Warm handovers between organisations, with their messages.
consents.json     Every consent version: who gave it (the claimant or a proxy), for whom,
                  for what and which data, the evidence, and every withdrawal.
overrides.json    Access without consent ("break glass"): the justification given and the
                  information-governance review.
disclosures.json  Who received what about the claimant, when and why (from the audit log).
disclosures.csv   The same disclosure log, for a spreadsheet.
manifest.json     The SHA-256 of each file above.

Review every file before release: staff names and other people's details may need redacting.
{erased}"""

ERASED_NOTE = """
This record was erased (crypto-shredded) on {erased_at}: its contents can no longer be opened,
so only the disclosure log, which holds ids and codes, is included.
"""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (date, uuid.UUID)):
        return str(value)
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")


def to_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, default=_plain, indent=2, ensure_ascii=False).encode()


def disclosures_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DISCLOSURE_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        cells = {k: " ".join(v) if isinstance(v, list) else
                 (_plain(v) if isinstance(v, (datetime, uuid.UUID)) else v)
                 for k, v in row.items()}
        # Spreadsheet formula injection: no cell may start with a formula character.
        writer.writerow({k: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@\t\r" else v
                         for k, v in cells.items()})
    return out.getvalue().encode()


def to_zip(document: dict[str, Any]) -> bytes:
    generated: datetime = document["generated_at"]
    files: dict[str, bytes] = {f"{name}.json": to_json({name: document[name]})
                               for name in SECTIONS}
    files["disclosures.csv"] = disclosures_csv(document["disclosures"] or [])
    header = {k: v for k, v in document.items() if k not in SECTIONS}
    manifest = {**header, "files": {name: hashlib.sha256(data).hexdigest()
                                    for name, data in sorted(files.items())}}
    files["manifest.json"] = to_json(manifest)
    erased = (ERASED_NOTE.format(erased_at=_plain(document["erased_at"]))
              if document["status"] == "erased" and document["erased_at"] else "")
    by = document["generated_by"]
    files["README.txt"] = README.format(
        subject_id=document["subject_id"], generated_at=_plain(generated), actor=by["actor"],
        org=by["org"], audit_event_id=document["audit_event_id"], status=document["status"],
        covered=", ".join(document["organisations_covered"]),
        others=", ".join(document["other_controllers"]) or "none", erased=erased).encode()
    stamp = generated.astimezone(UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in ("README.txt", "manifest.json", *sorted(set(files) - {"README.txt",
                                                                         "manifest.json"})):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, files[name])
    return out.getvalue()


def filename(document: dict[str, Any], extension: str) -> str:
    day = document["generated_at"].astimezone(UTC).strftime("%Y%m%d")
    return f"sar-{document['subject_id']}-{day}.{extension}"

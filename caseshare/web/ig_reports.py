"""Two further IG reports as pages: the unusual access report (findings with the events behind
them) and the subject access request bundle (a zip download under the `subject_access` purpose).

Both call the same use cases as the API (caseshare.access.audit_trail.unusual_access and
caseshare.access.subject_access.export_subject), which check role and purpose, and audit the
look before anything is shown.
"""

from __future__ import annotations

import uuid

from flask import Response, request
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import audit_trail, sar_bundle, subject_access, subjects
from caseshare.audit.unusual import Thresholds
from caseshare.web.blueprint import bp, page, require, run, runtime, user
from caseshare.web.forms import text
from caseshare.web.subjects import valid_nino

# What each rule means, for an IG officer reading the report (caseshare/audit/unusual.py).
RULE_TEXT = {
    "outside_relationship": ("Outside a case relationship",
                             "Opened, or tried to open, the record of a claimant their "
                             "organisation had no case, referral or override for."),
    "burst": ("Burst of accesses",
              "More claimant accesses in a short time than the configured threshold."),
    "out_of_hours": ("Outside working hours",
                     "A claimant's record opened outside working hours (local time)."),
    "enumeration": ("Possible probing of identifiers",
                    "Many look-ups that found nothing or were refused: someone may be trying "
                    "identifiers."),
}


@bp.route("/ig/unusual-access", methods=["GET"])
def ig_unusual_access() -> tuple[str, int]:
    """The last 7 days (the use case's default range), findings grouped by rule."""
    report = run("audit:read", audit_trail.unusual_access,
                 Thresholds.from_settings(runtime().settings))
    by_rule = {rule: [f for f in report.findings if f.rule == rule] for rule in report.rules}
    return page("ig/unusual_access.html", report=report, by_rule=by_rule, rule_text=RULE_TEXT)


@bp.route("/ig/subject-access-request", methods=["GET"])
def ig_sar_find() -> BaseResponse | tuple[str, int]:
    """Find the claimant, then offer the bundle. The page says so when the session's purpose is
    not `subject_access` (the export is refused, audited, under any other purpose)."""
    require("audit:read")  # deny by default: only IG officers see even the form
    purpose_ok = user().purpose == "subject_access"
    claimant = text(request.args, "claimant")
    if "claimant" not in request.args:
        return page("ig/sar.html", claimant="", errors={}, subject_id=None,
                    purpose_ok=purpose_ok)
    subject_id: uuid.UUID | None = None
    try:
        subject_id = uuid.UUID(claimant)
    except ValueError:
        if claimant and valid_nino(claimant):
            found = run("subjects:read", subjects.find_by_nino, claimant)
            subject_id = found[0].id if len(found) == 1 else None
    if subject_id is None:
        return page("ig/sar.html", 422, claimant=claimant, subject_id=None,
                    purpose_ok=purpose_ok, errors={"claimant": (
                        "Enter a claimant reference, or the National Insurance number of a "
                        "claimant your organisation works with")})
    return page("ig/sar.html", claimant=claimant, errors={}, subject_id=subject_id,
                purpose_ok=purpose_ok)


@bp.route("/ig/claimants/<uuid:subject_id>/subject-access-request.zip", methods=["GET"])
def ig_sar_download(subject_id: uuid.UUID) -> Response:
    document = run("audit:read", subject_access.export_subject, subject_id, format="zip")
    name = sar_bundle.filename(document, "zip")
    return Response(sar_bundle.to_zip(document), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

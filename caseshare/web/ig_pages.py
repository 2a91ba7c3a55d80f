"""Information-governance officer pages: the dashboard, the audit search with CSV and JSON
downloads, and the subject access report for one claimant.

Only the `ig_officer` role under the `audit` purpose gets past the use cases (anyone else gets an
audited 403); every look at the log is itself audited by the use case before the page renders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Response, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caseshare.access import audit_overview, audit_trail, consents, overrides, subjects
from caseshare.errors import ValidationError
from caseshare.web import ig_charts, ig_downloads
from caseshare.web.blueprint import bp, page, require, run, runtime, unit_of_work, user
from caseshare.web.filters import PURPOSE_NAMES, org_name
from caseshare.web.forms import domain_errors, text
from caseshare.web.ig_forms import PAGE_SIZES, Search, read_search
from caseshare.web.subjects import valid_nino

DASHBOARD_DAYS = 14
EXPIRING_DAYS = 30


@dataclass(frozen=True)
class ReportLink:
    text: str
    endpoint: str
    description: str


# The dashboard's "More reports" list. Further IG reports (the SAR export bundle, the
# unusual-access report) add their page here: one entry each.
REPORT_LINKS: list[ReportLink] = [
    ReportLink("Subject access report", "web.ig_access_report_find",
               "Every allowed and denied access to one claimant's information, across the "
               "partnership, to download as CSV or JSON."),
    ReportLink("Unusual access", "web.ig_unusual_access",
               "Access outside case relationships, bursts, access out of hours and probing of "
               "identifiers over the last 7 days, each with the events behind it."),
    ReportLink("Subject access request export", "web.ig_sar_find",
               "Everything held about one claimant, as a zip to check and redact (needs the "
               "subject access request purpose)."),
    ReportLink("Appointment reminders sent", "web.ig_outbox",
               "Reminders sent to claimants by text message or e-mail, retried, failed or "
               "cancelled, with masked recipients."),
    ReportLink("Retention", "web.ig_retention_due",
               "Copies due for deletion and in the next 90 days, legal holds that pause "
               "deletion, and certificates of what was deleted."),
    ReportLink("Search the audit log", "web.ig_audit_search",
               "Find events by claimant, staff member, organisation, purpose, decision, type "
               "and date."),
]


@bp.route("/ig", methods=["GET"])
def ig_dashboard() -> tuple[str, int]:
    with unit_of_work("audit:read") as ctx:
        summary = audit_overview.dashboard(ctx, days=DASHBOARD_DAYS,
                                           public_key=runtime().audit_signer.public_key())
    pending = run("overrides:review", overrides.list_for_review, "pending_review")
    expiring = run("consents:read", consents.expiring_consents, EXPIRING_DAYS)
    now = ctx.now
    denials = [(org_name(org), n) for org, n in summary.denials]
    return page("ig/dashboard.html", summary=summary, days=DASHBOARD_DAYS,
                volume=ig_charts.volume_chart(summary.per_day),
                denials=denials, denials_chart=ig_charts.denials_chart(denials),
                pending=pending, overdue=[o for o in pending if o.overdue],
                expiring=expiring, expiring_days=EXPIRING_DAYS, now=now,
                report_links=REPORT_LINKS)


def partnership_orgs() -> list[str]:
    """The organisations to offer in the search form: parties to the signed-in user's protocols
    (the use case decides what is actually visible)."""
    u = user()
    return sorted({party.id for protocol in runtime().protocols.for_party(u.principal.org)
                   for party in protocol.parties})


def _search() -> tuple[Search, list[dict[str, object]] | None, str | None]:
    """The search typed into the form; its results (None until a valid search) and next page."""
    require("audit:read")
    search = read_search(request.args, partnership_orgs(), sorted(PURPOSE_NAMES))
    if not search.submitted or search.errors:
        return search, None, None
    actor = search.values["actor"] or None
    try:
        with unit_of_work("audit:read") as ctx:
            if actor and "@" in actor:
                actor = audit_overview.staff_actor(ctx, actor)
            found, next_cursor, names = audit_overview.search_named(
                ctx, search.filter(actor), search.cursor, search.limit)
    except ValidationError as exc:
        fields = {"actor": "actor", "cursor": "subject", "to": "to-day", "from": "from-day"}
        search.errors.update(domain_errors(exc.extra["errors"], fields))
        return search, None, None
    return search, ig_downloads.dump(found, names), next_cursor


@bp.route("/ig/audit", methods=["GET"])
def ig_audit_search() -> tuple[str, int]:
    search, items, next_cursor = _search()
    return page("ig/search.html", 422 if search.errors else 200, search=search, v=search.values,
                errors=search.errors, found=items, next_cursor=next_cursor,
                orgs=partnership_orgs(), purposes=sorted(PURPOSE_NAMES), page_sizes=PAGE_SIZES)


@bp.route("/ig/audit.csv", methods=["GET"])
def ig_audit_csv() -> Response | tuple[str, int]:
    search, items, _next = _search()
    if items is None:
        return ig_audit_search_page(search)
    return ig_downloads.csv_response(items, "audit-events.csv")


@bp.route("/ig/audit.json", methods=["GET"])
def ig_audit_json() -> Response | tuple[str, int]:
    search, items, next_cursor = _search()
    if items is None:
        return ig_audit_search_page(search)
    return ig_downloads.json_response(
        {"generated_at": ig_downloads.utc(runtime().now()), "filters": search.query(),
         "items": items, "next_cursor": next_cursor}, "audit-events.json")


def ig_audit_search_page(search: Search) -> tuple[str, int]:
    """A download asked for without a valid search: the form, with what is wrong."""
    if not search.submitted:
        search.errors["subject"] = "Search the audit log before downloading the result"
    return page("ig/search.html", 422, search=search, v=search.values, errors=search.errors,
                found=None, next_cursor=None, orgs=partnership_orgs(),
                purposes=sorted(PURPOSE_NAMES), page_sizes=PAGE_SIZES)


@bp.route("/ig/access-report", methods=["GET"])
def ig_access_report_find() -> BaseResponse | tuple[str, int]:
    require("audit:read")  # deny by default: only IG officers see even the empty form
    claimant = text(request.args, "claimant")
    if "claimant" not in request.args:
        return page("ig/access_report_find.html", claimant="", errors={})
    error = "Enter a claimant reference or a National Insurance number"
    try:
        return redirect(url_for("web.ig_access_report", subject_id=uuid.UUID(claimant)))
    except ValueError:
        pass
    if claimant and valid_nino(claimant):
        found = run("subjects:read", subjects.find_by_nino, claimant)
        if len(found) == 1:
            return redirect(url_for("web.ig_access_report", subject_id=found[0].id))
        error = "No claimant your organisation works with has this National Insurance number"
    return page("ig/access_report_find.html", 422, claimant=claimant,
                errors={"claimant": error})


def _report(subject_id: uuid.UUID) -> list[dict[str, object]]:
    history, names = run("audit:read", audit_trail.access_report, subject_id)
    return ig_downloads.dump(history, names)


@bp.route("/ig/claimants/<uuid:subject_id>/access-report", methods=["GET"])
def ig_access_report(subject_id: uuid.UUID) -> tuple[str, int]:
    items = _report(subject_id)
    by_org: dict[str, dict[str, int]] = {}
    for item in items:
        counts = by_org.setdefault(str(item["org"]), {"allow": 0, "deny": 0})
        counts[str(item["decision"])] += 1
    return page("ig/access_report.html", subject_id=subject_id, items=items,
                by_org=sorted(by_org.items()), generated_at=runtime().now())


@bp.route("/ig/claimants/<uuid:subject_id>/access-report.csv", methods=["GET"])
def ig_access_report_csv(subject_id: uuid.UUID) -> Response:
    return ig_downloads.csv_response(_report(subject_id), f"access-report-{subject_id}.csv")


@bp.route("/ig/claimants/<uuid:subject_id>/access-report.json", methods=["GET"])
def ig_access_report_json(subject_id: uuid.UUID) -> Response:
    items = _report(subject_id)
    return ig_downloads.json_response(
        {"subject_id": str(subject_id), "generated_at": ig_downloads.utc(runtime().now()),
         "items": items}, f"access-report-{subject_id}.json")


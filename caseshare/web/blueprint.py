"""The web blueprint: the signed-in user for each request, CSRF, headers, HTML error pages,
and the RequestContext the pages hand to the access use cases."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from flask import Blueprint, Response, current_app, g, redirect, render_template, request
from flask import session as cookie
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as BaseResponse

from caseshare import access
from caseshare.access.context import RequestContext
from caseshare.api.common import request_id
from caseshare.audit import service as audit
from caseshare.audit.event_types import EventType
from caseshare.errors import (
    AuditWriteError,
    CaseshareError,
    ForbiddenError,
    NotFoundError,
)
from caseshare.facts import Principal
from caseshare.identity import sign_ins as signin
from caseshare.identity.models import StaffMember
from caseshare.request_db import db_session
from caseshare.runtime import Runtime
from caseshare.unit_of_work import UnitOfWork
from caseshare.web import csrf

P = ParamSpec("P")
T = TypeVar("T")

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")

# Pages anyone may reach; everything else needs a signed-in session.
PUBLIC_ENDPOINTS = frozenset({"web.sign_in", "web.enrol", "web.static", "web.sign_out",
                              "web.organisation_sign_in", "web.organisation_callback"})
# Pages a signed-in user may reach before choosing a purpose.
NO_PURPOSE_ENDPOINTS = frozenset({"web.choose_purpose", "web.sign_out"})

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
       "object-src 'none'; frame-ancestors 'none'")


@dataclass(frozen=True)
class WebUser:
    staff: StaffMember
    principal: Principal
    org_name: str
    sid: str
    started_at: datetime
    purpose: str | None

    @property
    def role_label(self) -> str:
        return ", ".join(_ROLE_LABELS.get(r, r.replace("_", " ").capitalize())
                         for r in sorted(self.principal.roles))


# Capitalising the role name gives "Ig officer"; these are the names the users' world uses.
_ROLE_LABELS = {"ig_officer": "Information governance officer", "admin": "Administrator"}


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["caseshare"]
    return rt


def user() -> WebUser:
    u: WebUser = g.web_user
    return u


def unit_of_work(scope: str) -> AbstractContextManager[RequestContext]:
    """The unit of work for a page: the signed-in staff member and their chosen purpose,
    checked exactly as the API checks a bearer token's scope and purpose (the same
    `access.begin`; denials audited), committed once when the block ends."""
    rt, u = runtime(), user()
    assert u.purpose is not None
    return access.begin(db_session(), u.principal, u.purpose, scope, protocols=rt.protocols,
                        forms=rt.forms, keyring=rt.keyring, now=rt.now(),
                        request_id=request_id(), scope_refusal="Your role cannot do this.",
                        assessment_forms=rt.assessment_forms,
                        outcome_codes=rt.outcome_codes)


def run(scope: str, use_case: Callable[Concatenate[RequestContext, P], T], *args: P.args,
        **kwargs: P.kwargs) -> T:
    """Run one use case in its own unit of work (`unit_of_work(scope)`) and return its result."""
    with unit_of_work(scope) as ctx:
        return use_case(ctx, *args, **kwargs)


def require(scope: str) -> None:
    """Check scope and purpose before a form is shown (a refusal is audited, nothing else)."""
    with unit_of_work(scope):
        pass


def end_sign_in(reason: str) -> None:
    """Revoke and forget the session (and the built-in provider's sign-in session held in the
    same cookie, api/oidc.py), auditing why it ended."""
    rt, db = runtime(), db_session()
    sid, staff_id = cookie.get("sid"), cookie.get("staff_id")
    started = cookie.get("started_at")
    provider_sid = cookie.get("oidc_sid")
    if provider_sid and cookie.get("oidc_staff_id") and cookie.get("oidc_auth_time"):
        from caseshare.api.oidc import end_provider_session

        end_provider_session(reason)
    if sid and staff_id and started:
        with UnitOfWork(db):
            staff = signin.find_active_staff(db, staff_id)
            signin.revoke_sign_in(db, sid=sid, staff_id=uuid.UUID(staff_id),
                                  started_at=datetime.fromisoformat(started), now=rt.now())
            audit.record(db, type=EventType.IDENTITY_SESSION_END, now=rt.now(),
                         principal=signin.principal_for(staff, rt.protocols) if staff else None,
                         decision="allow", request_id=request_id(), details={"reason": reason})
    cookie.clear()


def start_sign_in(staff: StaffMember) -> None:
    now = runtime().now().isoformat()
    cookie.clear()
    cookie.update({"sid": uuid.uuid4().hex, "staff_id": str(staff.id), "started_at": now,
                   "seen_at": now, "cep": staff.credentials_epoch})


@bp.before_request
def _load_user() -> BaseResponse | None:
    if request.method == "POST":
        csrf.protect()
    g.web_user = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    rt, db = runtime(), db_session()
    staff_id, sid = cookie.get("staff_id"), cookie.get("sid")
    if not staff_id or not sid:
        return redirect_to_sign_in()
    now = rt.now()
    ended = signin.timed_out(started_at=datetime.fromisoformat(cookie["started_at"]),
                             seen_at=datetime.fromisoformat(cookie["seen_at"]), now=now)
    staff = signin.find_active_staff(db, staff_id)
    if staff is not None and staff.credentials_epoch != cookie.get("cep", 0):
        staff = None  # disabled, moved or re-roled since the session began
    if ended or staff is None or signin.is_revoked(db, sid):
        if ended:
            end_sign_in(f"timeout_{ended}")
        cookie.clear()
        return redirect_to_sign_in("timed_out" if ended else None)
    cookie["seen_at"] = now.isoformat()
    principal = signin.principal_for(staff, rt.protocols)
    purpose = cookie.get("purpose")
    if purpose not in (principal.purposes or ()):
        purpose = None
    g.web_user = WebUser(staff=staff, principal=principal,
                         org_name=signin.organisation_name(db, staff.org_id), sid=sid,
                         started_at=datetime.fromisoformat(cookie["started_at"]),
                         purpose=purpose)
    if purpose is None and request.endpoint not in NO_PURPOSE_ENDPOINTS:
        return redirect("/purpose")
    return None


def redirect_to_sign_in(notice: str | None = None) -> BaseResponse:
    return redirect("/sign-in" + (f"?notice={notice}" if notice else ""))


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    if request.endpoint != "web.static":
        # Pages carry case data: never cached by browsers or proxies.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _layout_values() -> dict[str, Any]:
    return {"web_user": g.get("web_user")}


def page(template: str, code: int = 200, **values: Any) -> tuple[str, int]:
    """Render a page with its HTTP status (422 for a form with errors, and so on)."""
    return render_template(template, **values), code


@bp.errorhandler(CSRFError)
def _csrf(_error: CSRFError) -> tuple[str, int]:
    return page("error.html", 400, title="Your form expired",
                message="For your security the form could not be sent. Go back, reload the "
                        "page and try again.")


@bp.errorhandler(NotFoundError)
def _not_found(_error: NotFoundError) -> tuple[str, int]:
    return page("error.html", 404, title="Page not found",
                message="There is nothing here, or your organisation does not work with this "
                        "claimant.")


@bp.errorhandler(ForbiddenError)
def _forbidden(error: ForbiddenError) -> tuple[str, int]:
    from caseshare.web.explanations import explain
    from caseshare.web.filters import purpose_name

    u: WebUser | None = g.get("web_user")
    org = u.org_name if u else "your organisation"
    purpose = purpose_name(u.purpose).lower() if u and u.purpose else "this purpose"
    explained = [explain(r, org=org, category="this information", purpose=purpose)
                 for r in error.extra.get("reasons") or []]
    return page("error.html", 403, title="You cannot do this", message=error.detail,
                explanations=explained, audit_id=error.extra.get("audit_id"))


@bp.errorhandler(AuditWriteError)
def _unavailable(_error: AuditWriteError) -> tuple[str, int]:
    return page("error.html", 503, title="Sorry, there is a problem with the service",
                message="What you asked for could not be recorded, so it was not done. "
                        "Try again later.")


@bp.errorhandler(CaseshareError)
def _other(error: CaseshareError) -> tuple[str, int]:
    return page("error.html", error.status, title=error.title, message=error.detail)

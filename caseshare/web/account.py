"""Sign in (with TOTP enrolment for IG officers and admins), sign out, choose a purpose."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyotp
from flask import redirect, request, url_for
from flask import session as cookie
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response as BaseResponse

from caseshare.api.common import request_id
from caseshare.extensions import account_key, limiter
from caseshare.identity import sign_ins
from caseshare.identity.models import StaffMember
from caseshare.identity.service import purposes_for
from caseshare.policy.models import EVALUATION
from caseshare.request_db import db_session
from caseshare.unit_of_work import UnitOfWork
from caseshare.web.authenticator import grouped_key, qr_code_svg
from caseshare.web.blueprint import (
    bp,
    end_sign_in,
    page,
    runtime,
    start_sign_in,
    user,
)

ENROLMENT_WINDOW = timedelta(minutes=10)
NOTICES = {
    "timed_out": "You were signed out because your session timed out. Sign in again.",
    "signed_out": "You have signed out.",
}


def _sign_in_limit() -> str:
    return runtime().settings.ratelimit_sign_in


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"], key_func=get_remote_address,
               scope="sign-in-address")
@limiter.limit(_sign_in_limit, methods=["POST"], key_func=account_key, scope="sign-in-account")
def sign_in() -> BaseResponse | tuple[str, int]:
    notice = NOTICES.get(request.args.get("notice", ""))
    oidc = bool(runtime().settings.oidc_issuer)
    if request.method == "GET":
        return page("sign_in.html", values={}, errors={}, notice=notice, oidc=oidc)
    if oidc:  # the organisation's identity provider replaces Caseshare passwords
        return page("sign_in.html", 403, values={}, oidc=oidc,
                    errors={"email": "Sign in with your organisation's account"})
    values = {k: request.form.get(k, "").strip() for k in ("email", "code")}
    errors = {}
    if not values["email"]:
        errors["email"] = "Enter your email address"
    if not request.form.get("password"):
        errors["password"] = "Enter your password"  # noqa: S105 (a message)
    if errors:
        return page("sign_in.html", 422, values=values, errors=errors)
    rt, db = runtime(), db_session()
    now = rt.now()
    with UnitOfWork(db):
        check = sign_ins.check_credentials(
            db, email=values["email"], password=request.form.get("password", ""),
            code=values["code"] or None, now=now, request_id=request_id())
    if check.staff is None:
        # One answer for a wrong password, an unknown address and a locked account alike.
        return page("sign_in.html", 401, values=values,
                    errors={"email": "The email, password or code is not right"})
    staff, pending = check.staff, check.pending_secret
    if pending is not None:
        cookie.clear()
        cookie.update({"enrol_staff": str(staff.id), "enrol_secret": pending,
                       "enrol_until": (now + ENROLMENT_WINDOW).isoformat()})
        return redirect(url_for("web.enrol"))
    begin_sign_in(staff, now)
    return redirect(url_for("web.choose_purpose"))


def begin_sign_in(staff: StaffMember, now: datetime,
                        details: dict[str, object] | None = None) -> None:
    """Start a staff member's session: the cookie only once its audit event is committed."""
    rt, db = runtime(), db_session()
    with UnitOfWork(db):
        sign_ins.start(db, staff=staff, protocols=rt.protocols, now=now,
                             request_id=request_id(), details=details)
    start_sign_in(staff)


@bp.route("/sign-in/second-factor", methods=["GET", "POST"])
def enrol() -> BaseResponse | tuple[str, int]:
    """First sign-in of an IG officer or admin: show the authenticator set-up, confirm a code."""
    rt, db = runtime(), db_session()
    now = rt.now()
    secret, staff_id = cookie.get("enrol_secret"), cookie.get("enrol_staff")
    until = cookie.get("enrol_until")
    staff = sign_ins.find_active_staff(db, staff_id) if staff_id else None
    if not secret or staff is None or not until or datetime.fromisoformat(until) < now:
        cookie.clear()
        return redirect(url_for("web.sign_in"))
    uri = pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name="Caseshare")
    shown: dict[str, Any] = {"uri": uri, "qr_code": qr_code_svg(uri), "key": grouped_key(secret)}
    if request.method == "GET":
        return page("enrol.html", errors={}, **shown)
    code = request.form.get("code", "").strip()
    with UnitOfWork(db):
        enrolled = sign_ins.enrol_second_factor(
            db, staff=staff, secret=secret, code=code, protocols=rt.protocols, now=now,
            request_id=request_id())
    if not enrolled:
        return page("enrol.html", 422, values={"code": code}, **shown,
                    errors={"code": "Enter the 6-digit code your authenticator app shows now"})
    start_sign_in(staff)
    return redirect(url_for("web.choose_purpose"))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> BaseResponse:
    """End the Caseshare session, then the organisation provider's too (RP-initiated logout),
    so the provider cannot hand out a new code without a password."""
    from caseshare.web.organisation_sign_in import provider_logout_url

    end_sign_in("sign_out")
    back = url_for("web.sign_in", notice="signed_out", _external=True)
    return redirect(provider_logout_url(back) or url_for("web.sign_in", notice="signed_out"))


@bp.route("/purpose", methods=["GET", "POST"])
def choose_purpose() -> BaseResponse | tuple[str, int]:
    """Why the staff member is using Caseshare now. Preselected: the purpose of this sign-in,
    else the one they chose last time on this browser, else their only one; the choice is still
    theirs to confirm, as every view is recorded with it."""
    u = user()
    choices = sorted(purposes_for(runtime().protocols, u.principal.org, u.principal.roles))
    if request.method == "POST":
        chosen = request.form.get("purpose", "")
        if chosen in choices:
            cookie["purpose"] = chosen
            response = redirect(_landing(chosen, u.principal.roles))
            _remember_purpose(response, chosen)
            return response
        return page("purpose.html", 422, choices=choices, chosen=None,
                    errors={"purpose": "Select why you are using Caseshare now"})
    preselected = _preselected(u.purpose, choices)
    return page("purpose.html", choices=choices, chosen=preselected,
                remembered=preselected not in (None, u.purpose) and len(choices) > 1,
                errors={})


# The last purpose chosen, kept on this browser for a year so the next sign-in preselects it.
# Only the purpose code: no personal data, nothing a copied cookie could use, sent only to this
# page (path) and never read as a permission (it must still be one of the user's purposes).
REMEMBERED_PURPOSE = "caseshare_last_purpose"
REMEMBER_FOR = timedelta(days=365)


def _preselected(current: str | None, choices: list[str]) -> str | None:
    remembered = request.cookies.get(REMEMBERED_PURPOSE)
    for candidate in (current, remembered):
        if candidate in choices:
            return candidate
    return choices[0] if len(choices) == 1 else None


def _remember_purpose(response: BaseResponse, purpose: str) -> None:
    response.set_cookie(REMEMBERED_PURPOSE, purpose, max_age=int(REMEMBER_FOR.total_seconds()),
                        path=url_for("web.choose_purpose"), httponly=True, samesite="Lax",
                        secure=runtime().settings.production)


def _landing(purpose: str, roles: frozenset[str]) -> str:
    """Where a purpose leads: IG officers auditing go to their dashboard, analysts under
    evaluation to the MI page; everyone else home."""
    if purpose == "audit" and "ig_officer" in roles:
        return url_for("web.ig_dashboard")
    if purpose == EVALUATION:  # management information only (evaluation_not_claimant_data)
        return url_for("web.mi_outcomes")
    return url_for("web.home")

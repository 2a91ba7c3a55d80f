"""Sign in (with TOTP enrolment for IG officers and admins), sign out, choose a purpose."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
from flask import redirect, request, url_for
from flask import session as cookie
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response as BaseResponse

from caseshare.api.common import request_id
from caseshare.audit import service as audit
from caseshare.errors import AuthenticationError
from caseshare.extensions import account_key, limiter
from caseshare.identity import passwords
from caseshare.identity.models import StaffMember
from caseshare.identity.service import purposes_for
from caseshare.web import signin
from caseshare.web.blueprint import (
    bp,
    end_session,
    page,
    runtime,
    start_session,
    user,
)
from caseshare.web_session import get_session

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
    now = runtime().now()
    try:
        staff, pending = _check_credentials(values["email"], request.form.get("password", ""),
                                            values["code"] or None)
    except AuthenticationError:
        # One answer for a wrong password, an unknown address and a locked account alike.
        return page("sign_in.html", 401, values=values,
                    errors={"email": "The email, password or code is not right"})
    if pending is not None:
        cookie.clear()
        cookie.update({"enrol_staff": str(staff.id), "enrol_secret": pending,
                       "enrol_until": (now + ENROLMENT_WINDOW).isoformat()})
        return redirect(url_for("web.enrol"))
    begin_staff_session(staff, now)
    return redirect(url_for("web.choose_purpose"))


def _check_credentials(email: str, password: str,
                       code: str | None) -> tuple[StaffMember, str | None]:
    """The staff member, and a new TOTP secret when they must first enrol a second factor.
    A failure is audited (with the account's id when the email matched one) and committed,
    so the failure count behind the lockout persists."""
    db, now = get_session(), runtime().now()
    known = signin.find_staff_by_email(db, email)
    pending = None
    last_step = known.totp_last_step if known is not None else None
    if (known is not None and passwords.needs_second_factor(known)
            and known.totp_secret is None):
        # No second factor yet: check the password alone by signing in against a new secret
        # with its current code; the secret is kept only once the user proves they hold it.
        pending = passwords.new_totp_secret(known)
        code = pyotp.TOTP(pending).at(now)
    try:
        staff = passwords.sign_in(db, email=email, password=password, totp_code=code, now=now)
    except AuthenticationError as exc:
        audit.record(db, type="identity:session:start", now=now, decision="deny",
                     reasons=[exc.slug], request_id=request_id(),
                     details={"staff_id": str(known.id)} if known else {})
        raise
    finally:
        if pending is not None and known is not None:
            known.totp_secret, known.totp_last_step = None, last_step
        db.commit()
    return staff, pending


def begin_staff_session(staff: StaffMember, now: datetime,
                        details: dict[str, object] | None = None) -> None:
    rt, db = runtime(), get_session()
    audit.record(db, type="identity:session:start", now=now,
                 principal=signin.principal_for(staff, rt.protocols), decision="allow",
                 request_id=request_id(), details=details)
    db.commit()  # the session starts only once its audit event is recorded
    start_session(staff)


@bp.route("/sign-in/second-factor", methods=["GET", "POST"])
def enrol() -> BaseResponse | tuple[str, int]:
    """First sign-in of an IG officer or admin: show the authenticator set-up, confirm a code."""
    rt, db = runtime(), get_session()
    now = rt.now()
    secret, staff_id = cookie.get("enrol_secret"), cookie.get("enrol_staff")
    until = cookie.get("enrol_until")
    staff = signin.find_active_staff(db, staff_id) if staff_id else None
    if not secret or staff is None or not until or datetime.fromisoformat(until) < now:
        cookie.clear()
        return redirect(url_for("web.sign_in"))
    uri = pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name="Caseshare")
    if request.method == "GET":
        return page("enrol.html", uri=uri, secret=secret, errors={})
    code = request.form.get("code", "").strip()
    staff.totp_secret, previous = secret, staff.totp_last_step
    staff.totp_last_step = None  # a new secret: its steps start afresh
    step = passwords.totp_step(staff, code, now)
    if step is None:
        staff.totp_secret, staff.totp_last_step = None, previous
        return page("enrol.html", 422, uri=uri, secret=secret,
                    errors={"code": "Enter the 6-digit code your authenticator app shows now"})
    staff.totp_last_step = step
    audit.record(db, type="identity:totp:enrol", now=now,
                 principal=signin.principal_for(staff, rt.protocols), decision="allow",
                 request_id=request_id())
    begin_staff_session(staff, now)
    return redirect(url_for("web.choose_purpose"))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> BaseResponse:
    """End the Caseshare session, then the organisation provider's too (RP-initiated logout),
    so the provider cannot hand out a new code without a password."""
    from caseshare.web.organisation_sign_in import provider_logout_url

    end_session("sign_out")
    back = url_for("web.sign_in", notice="signed_out", _external=True)
    return redirect(provider_logout_url(back) or url_for("web.sign_in", notice="signed_out"))


@bp.route("/purpose", methods=["GET", "POST"])
def choose_purpose() -> BaseResponse | tuple[str, int]:
    u = user()
    choices = sorted(purposes_for(runtime().protocols, u.principal.org, u.principal.roles))
    if request.method == "POST":
        chosen = request.form.get("purpose", "")
        if chosen in choices:
            cookie["purpose"] = chosen
            return redirect(url_for("web.home"))
        return page("purpose.html", 422, choices=choices, chosen=None,
                    errors={"purpose": "Select why you are using Caseshare now"})
    return page("purpose.html", choices=choices, chosen=u.purpose, errors={})

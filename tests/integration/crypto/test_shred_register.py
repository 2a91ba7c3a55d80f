"""The shred register (crypto/shreds.py): erased claimants, kept with the keys outside the
database, consulted before any data key is unwrapped; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from caseshare.access.context import RequestContext
from caseshare.case_plan.models import Referral
from caseshare.crypto.shreds import ShreddedKeyError, ShreddingKeyring
from caseshare.errors import AuditWriteError
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.subjects.models import Subject
from caseshare.subjects.rewrap import rewrap_all
from tests.audit_helpers import events
from tests.builders import assert_problem, consent, refer, register
from tests.conftest import COACH, Clock

JCP_IG = "morgan.ellis@jcp-derby.example"
ERASE = "/api/v1/subjects/{}/erasure?purpose=subject_access"
BODY = {"reason": "subject_request"}


def _jcp_ig(rt: Runtime) -> None:
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=JCP_IG,
                                     name="Morgan Ellis", org="jcp-derby", roles=["ig_officer"],
                                     now=rt.now())
        s.commit()


def _keyring(rt: Runtime) -> ShreddingKeyring:
    assert isinstance(rt.keyring, ShreddingKeyring)
    return rt.keyring


def _claimant(client: FlaskClient, auth: Any, rt: Runtime, clock: Clock) -> str:
    coach = auth(COACH)
    subject = register(client, coach, nino="AB 12 34 56 C")
    consent(client, coach, subject, clock.now)
    _jcp_ig(rt)
    return subject


def _row(rt: Runtime, subject: str) -> dict[str, Any]:
    with rt.session_factory() as s:
        row = s.get(Subject, uuid.UUID(subject))
        assert row is not None
        return {"dek_wrapped": row.dek_wrapped, "kek_version": row.kek_version,
                "nino_index": row.nino_index, "name_dob_index": row.name_dob_index,
                "erased_at": row.erased_at}


def _put_back(rt: Runtime, subject: str, values: dict[str, Any]) -> None:
    """What restoring a database backup from before the erasure does to the subject's row."""
    with rt.session_factory() as s:
        s.execute(update(Subject).where(Subject.id == uuid.UUID(subject)).values(**values))
        s.commit()


def _read(client: FlaskClient, auth: Any, subject: str) -> Any:
    return client.get(f"/api/v1/subjects/{subject}?purpose=case_management",
                      headers=auth(COACH))


def _assert_erased_read(client: FlaskClient, auth: Any, rt: Runtime, subject: str) -> None:
    before = len(events(rt, type="access:subject:deny", subject_id=uuid.UUID(subject)))
    r = _read(client, auth, subject)
    assert r.status_code == 410, r.json
    assert r.json["type"].endswith("/erased")
    denials = events(rt, type="access:subject:deny", subject_id=uuid.UUID(subject))
    assert len(denials) == before + 1 and denials[-1].reasons == ["subject_erased"]


def test_a_subject_in_the_register_cannot_be_opened_even_if_the_database_holds_its_key(
    app: Flask, client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject = _claimant(client, auth, rt, clock)
    live = _row(rt, subject)
    assert _read(client, auth, subject).status_code == 200
    assert client.post(ERASE.format(subject), headers=auth(JCP_IG),
                       json=BODY).status_code == 200
    assert _keyring(rt).register.ids() == {uuid.UUID(subject)}
    _put_back(rt, subject, live)  # a restored database: key back, no tombstone

    _assert_erased_read(client, auth, rt, subject)
    with rt.session_factory() as s:
        row = s.get(Subject, uuid.UUID(subject))
        assert row is not None and row.dek_wrapped is not None
        # Every path that opens it is refused: the service's data_key, and the keyring itself.
        with pytest.raises(subjects.SubjectErasedError):
            subjects.data_key(row, rt.keyring)
        with pytest.raises(ShreddedKeyError):
            rt.keyring.unwrap(row.dek_wrapped, version=row.kek_version,
                              context=b"subject|" + subject.encode())
    # Key rotation and rewrap leave it alone rather than unwrapping it (or failing).
    runner = app.test_cli_runner()
    assert runner.invoke(args=["caseshare", "keys", "rotate"]).exit_code == 0
    with rt.session_factory() as s:
        rewrap_all(s, rt.keyring, batch=10, now=rt.now())
    assert _row(rt, subject)["kek_version"] == live["kek_version"]
    # The subject access export says erased and opens nothing.
    sar = client.get(f"/api/v1/subjects/{subject}/sar-export?purpose=subject_access",
                     headers={**auth(JCP_IG), "Accept": "application/json"})
    assert sar.status_code == 200, sar.json
    assert sar.json["status"] == "erased" and sar.json["record"] is None
    [export] = events(rt, type="subject:sar:export", subject_id=uuid.UUID(subject))
    assert export.details["status"] == "erased"
    # Nor is it found by NINO.
    found = client.get("/api/v1/subjects?purpose=case_management&nino=AB123456C",
                       headers=auth(COACH))
    assert found.status_code == 200 and found.json["items"] == []


def test_a_crash_between_the_register_write_and_the_commit_leaves_the_claimant_unreadable(
    app: Flask, client: FlaskClient, auth: Any, rt: Runtime, clock: Clock,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = _claimant(client, auth, rt, clock)
    real_commit = RequestContext.commit
    register = _keyring(rt).register

    def crash(ctx: RequestContext) -> None:
        if register.contains(uuid.UUID(subject)):  # the register is written: "power cut"
            ctx.session.rollback()
            raise AuditWriteError("simulated crash before the database commit")
        real_commit(ctx)

    monkeypatch.setattr(RequestContext, "commit", crash)
    r = client.post(ERASE.format(subject), headers=auth(JCP_IG), json=BODY)
    assert_problem(r, 503)
    monkeypatch.setattr(RequestContext, "commit", real_commit)
    assert _row(rt, subject)["dek_wrapped"] is not None  # the database never saw the erasure
    assert not events(rt, type="subject:record:erase")

    _assert_erased_read(client, auth, rt, subject)  # the register wins
    applied = app.test_cli_runner().invoke(args=["caseshare", "shreds", "apply"])
    assert applied.exit_code == 0 and "1 erasure(s) re-applied" in applied.output
    assert _row(rt, subject)["dek_wrapped"] is None
    [again] = events(rt, type="subject:record:erase_reapplied", subject_id=uuid.UUID(subject))
    assert again.decision == "allow"


def test_when_the_register_cannot_be_written_the_erasure_fails_and_nothing_changes(
    client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    subject = _claimant(client, auth, rt, clock)
    referral = refer(client, auth(COACH), subject, "recovery-partnership", "recovery_support",
                     clock.now).json["id"]
    before = _row(rt, subject)
    path = _keyring(rt).register.path
    # The register stays readable but cannot be written (its lock is a directory: an I/O error
    # that even root gets, unlike file permissions).
    path.with_name(path.name + ".lock").mkdir(parents=True)

    r = client.post(ERASE.format(subject), headers=auth(JCP_IG), json=BODY)
    assert_problem(r, 503)
    assert "could not be written" in r.json["detail"] and subject not in r.json["detail"]
    assert _row(rt, subject) == before  # key, indexes, no tombstone
    with rt.session_factory() as s:
        row = s.scalar(select(Referral).where(Referral.id == uuid.UUID(referral)))
        assert row is not None and row.status == "open"
    assert not events(rt, type="subject:record:erase")
    [failed] = events(rt, type="subject:record:erase_failed", subject_id=uuid.UUID(subject))
    assert failed.details["error"] == "shred_register_unavailable"
    assert _read(client, auth, subject).status_code == 200  # still the live claimant
    assert not path.exists()


def test_an_edited_register_fails_closed_and_a_shortened_one_is_detected_and_repaired(
    app: Flask, client: FlaskClient, auth: Any, rt: Runtime, clock: Clock
) -> None:
    first = _claimant(client, auth, rt, clock)
    second = register(client, auth(COACH), nino="AB 65 43 21 C", given_name="Robin")
    for subject in (first, second):
        assert client.post(ERASE.format(subject), headers=auth(JCP_IG),
                           json=BODY).status_code == 200
    third = register(client, auth(COACH), nino="AB 11 22 33 C", given_name="Alex")
    path = _keyring(rt).register.path
    assert path.stat().st_mode & 0o777 == 0o600
    original = path.read_text()
    lines = original.splitlines(keepends=True)
    assert len(lines) == 2 and first in lines[0] and second in lines[1]
    runner = app.test_cli_runner()

    # An edited line (here the first erased claimant replaced by a live one, to reopen it):
    # the MAC chain fails, so every unwrap is refused (503) and nothing is repaired silently.
    path.write_text(lines[0].replace(first, third) + lines[1])
    r = _read(client, auth, third)
    assert r.status_code == 503 and "verification" in r.json["detail"]
    for command in ("verify", "apply"):
        out = runner.invoke(args=["caseshare", "shreds", command])
        assert out.exit_code == 1 and "line 1" in out.output, out.output
    # A removed line in the middle breaks the chain the same way.
    path.write_text(lines[1])
    assert _read(client, auth, third).status_code == 503

    # The last line removed: the chain alone cannot tell, but the database can. `verify`
    # reports it; `apply` puts it back; the claimant never becomes readable meanwhile.
    path.write_text(lines[0])
    assert _read(client, auth, third).status_code == 200
    _assert_erased_read(client, auth, rt, second)  # the database's tombstone still says so
    out = runner.invoke(args=["caseshare", "shreds", "verify"])
    assert out.exit_code == 1 and "lacks 1 claimant" in out.output, out.output
    out = runner.invoke(args=["caseshare", "shreds", "apply"])
    assert out.exit_code == 0 and "1 added to the register" in out.output, out.output
    assert _keyring(rt).register.ids() == {uuid.UUID(first), uuid.UUID(second)}
    [reconcile] = events(rt, type="crypto:shred:reconcile")
    assert reconcile.details == {"applied": 0, "registered": 1, "register_size": 2}
    assert runner.invoke(args=["caseshare", "shreds", "verify"]).exit_code == 0

"""Key rotation, resumable rewrap and KEK retirement, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.case_plan.models import PlanEntry
from caseshare.crypto.keyring import KeyProvider
from caseshare.errors import KeyUnavailableError
from caseshare.facts import Principal
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from caseshare.subjects.models import IDENTITY_FIELDS, Subject
from caseshare.subjects.rewrap import rewrap_all, subjects_by_kek
from tests.audit_helpers import events
from tests.conftest import COACH, Demo

CLERK = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="jcp-derby",
                  roles=frozenset({"work_coach"}))


class InjectedFailure(RuntimeError):
    pass


@dataclass
class FailingKeyring:
    """The real keyring, except that wrapping fails after `allow` data keys (a crash)."""

    inner: KeyProvider
    allow: int
    wrapped: int = 0

    def current_version(self) -> int:
        return self.inner.current_version()

    def wrap(self, data_key: bytes, *, context: bytes) -> tuple[int, bytes]:
        if self.wrapped >= self.allow:
            raise InjectedFailure("simulated crash during rewrap")
        self.wrapped += 1
        return self.inner.wrap(data_key, context=context)

    def unwrap(self, wrapped: bytes, *, version: int, context: bytes) -> bytes:
        return self.inner.unwrap(wrapped, version=version, context=context)

    def blind_index_key(self) -> bytes:
        return self.inner.blind_index_key()

    def rotate(self) -> int:
        return self.inner.rotate()

    def versions(self) -> list[int]:
        return self.inner.versions()

    def retire(self, version: int) -> None:
        self.inner.retire(version)


def _add_subjects(rt: Runtime, n: int) -> None:
    with rt.session_factory() as s:
        for i in range(n):
            subjects.create_subject(s, keyring=rt.keyring, principal=CLERK, now=rt.now(),
                                    identity={"given_name": f"Claimant {i}", "family_name": "X",
                                              "date_of_birth": "1980-01-01"},
                                    jurisdiction="england")
        s.commit()


def _ciphertexts(rt: Runtime) -> dict[str, bytes | None]:
    """Every sealed field value in the database, keyed by where it lives."""
    out: dict[str, bytes | None] = {}
    with rt.session_factory() as s:
        for subject in s.scalars(select(Subject)):
            for name in IDENTITY_FIELDS:
                out[f"subject:{subject.id}:{name}"] = getattr(subject, name)
        for entry in s.scalars(select(PlanEntry)):
            for name in ("title", "detail", "owner_name"):
                out[f"entry:{entry.id}:{name}"] = getattr(entry, name)
    return out


def _cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["caseshare", "keys", *args])


def test_rotate_rewrap_interrupted_and_resumed_then_retire(
    app: Flask, rt: Runtime, demo: Demo, client: FlaskClient, auth: Any
) -> None:
    _add_subjects(rt, 25)  # 28 subjects with the three demo claimants
    fields_before = _ciphertexts(rt)
    assert any(fields_before.values())

    rotated = _cli(app, "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "version: 2" in rotated.output
    assert [e.details["version"] for e in events(rt, type="crypto:kek:rotate")] == [2]

    # New claimants are wrapped under version 2 at once; existing ones are still on version 1.
    with rt.session_factory() as s:
        assert subjects_by_kek(s) == {1: 28}

    # A rewrap with batches of 10 crashes in its second batch ...
    failing = FailingKeyring(rt.keyring, allow=15)
    with rt.session_factory() as s, pytest.raises(InjectedFailure):
        rewrap_all(s, failing, batch=10, now=rt.now())
    with rt.session_factory() as s:
        assert subjects_by_kek(s) == {1: 18, 2: 10}  # the first batch stuck, the second did not

    # ... the service keeps serving claimants on either version meanwhile ...
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                   headers=auth(COACH))
    assert r.status_code == 200 and r.json["entries"]

    # ... and retiring version 1 is refused while anything still uses it.
    refused = _cli(app, "retire", "--version", "1")
    assert refused.exit_code != 0 and "18 data key" in refused.output
    assert rt.keyring.versions() == [1, 2]

    resumed = _cli(app, "rewrap", "--batch", "10")
    assert resumed.exit_code == 0, resumed.output
    assert "rewrapped 18 data key(s)" in resumed.output and "v2=28" in resumed.output
    assert [e.details["count"] for e in events(rt, type="crypto:dek:rewrap")] == [10, 10, 8]

    # Field ciphertext is untouched, byte for byte; every field still opens.
    assert _ciphertexts(rt) == fields_before
    r = client.get(f"/api/v1/subjects/{demo.lee}?purpose=case_management", headers=auth(COACH))
    assert r.status_code == 200 and r.json["given_name"] == "Lee"

    assert _cli(app, "retire", "--version", "2").exit_code != 0  # the current one: never
    retired = _cli(app, "retire", "--version", "1")
    assert retired.exit_code == 0, retired.output
    assert rt.keyring.versions() == [2]
    assert [e.details["version"] for e in events(rt, type="crypto:kek:retire")] == [1]
    r = client.get(f"/api/v1/subjects/{demo.lee}/case-plan?purpose=case_management",
                   headers=auth(COACH))
    assert r.status_code == 200
    assert "Update CV with work coach" in {e["title"] for e in r.json["entries"]}

    again = _cli(app, "rewrap")
    assert again.exit_code == 0 and "rewrapped 0 data key(s)" in again.output


def test_rewrapped_data_keys_stay_bound_to_their_subject(
    rt: Runtime, demo: Demo
) -> None:
    rt.keyring.rotate()
    with rt.session_factory() as s:
        rewrap_all(s, rt.keyring, batch=1, now=rt.now())
        lee, kerry = s.get(Subject, demo.lee), s.get(Subject, demo.kerry)
        assert lee is not None and kerry is not None and kerry.dek_wrapped is not None
        assert lee.kek_version == 2
        # A wrapped key copied onto another subject does not unwrap there.
        lee.dek_wrapped = kerry.dek_wrapped
        with pytest.raises(KeyUnavailableError):
            subjects.data_key(lee, rt.keyring)
        s.rollback()

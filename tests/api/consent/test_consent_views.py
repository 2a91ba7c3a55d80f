"""A consent record is claimant data: the recording and the lead organisation see it whole, a
named recipient only the parts that name it, anyone else gets 404 like an id that does not
exist. The list, the receipt (JSON and HTML) and the FHIR export each follow the same rule, and
each answer is audited. Proxy names, references, explicit statements and withdrawal reasons
are sealed at rest and shredded with the claimant's key."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.crypto.sealing import open_sealed
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from caseshare.subjects.service import SubjectErasedError
from tests.audit_helpers import events
from tests.builders import CONSENTS, TREATMENT, assert_problem, consent_body
from tests.conftest import ADVISER, COACH, HOUSING, KEY_WORKER, Demo

RECEIPT = "/api/v1/consents/{}/receipt?purpose=case_management"
FHIR = "/api/v1/consents/{}/fhir?purpose=case_management"
# Rhian's appointee consent (demo): recorded by the work coach (jcp-derby, also the lead) for
# jcp-derby, derby-housing and ca-derby; ca-derby then withdrawn with a reason.
PROXY_SECRETS = ("Gwen Price", "BF56-2026-0345", "SCAN-2026-11-0077",
                 "Appointee now manages the budget")


def _rhian(demo: Demo) -> uuid.UUID:
    return uuid.UUID(next(line.split()[3] for line in demo.lines if "Rhian" in line))


def _proxy_consent(client: FlaskClient, auth: Any, demo: Demo) -> dict[str, Any]:
    r = client.get(CONSENTS.format(_rhian(demo)), headers=auth(COACH))
    assert r.status_code == 200
    [item] = r.json["items"]
    return dict(item)


def _request_events(rt: Runtime, r: Any, type_: str) -> list[Any]:
    return [e for e in events(rt, type=type_) if e.request_id == r.headers["X-Request-ID"]]


def test_recorder_and_lead_see_the_whole_record(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent = _proxy_consent(client, auth, demo)
    assert consent["view"] == "whole"
    assert consent["given_by"] == {"type": "dwp_appointee", "name": "Gwen Price",
                                   "authority_ref": "BF56-2026-0345"}
    assert consent["recipients"] == ["ca-derby", "derby-housing", "jcp-derby"]
    assert consent["withdrawals"][0]["scope"] == {"recipients": ["ca-derby"]}

    receipt = client.get(RECEIPT.format(consent["id"]), headers=auth(COACH))
    assert receipt.status_code == 200
    assert receipt.json["evidence_ref"] == "SCAN-2026-11-0077"
    assert receipt.json["given_by"]["authority_ref"] == "BF56-2026-0345"
    [event] = _request_events(rt, receipt, "consent:receipt:export")
    assert event.decision == "allow" and event.details["view"] == "whole"

    # The lead organisation sees whole a consent another organisation recorded.
    made = client.post(CONSENTS.format(demo.kerry), headers=auth(ADVISER), json=consent_body(
        given_by={"type": "dwp_appointee", "name": "Pat Dunn", "authority_ref": "BF56-777"},
        recipients=["ca-derby"], purposes=["budgeting_support"], categories=["finances"]))
    assert made.status_code == 201, made.json
    listed = client.get(CONSENTS.format(demo.kerry), headers=auth(COACH))
    mine = next(c for c in listed.json["items"] if c["id"] == made.json["id"])
    assert mine["view"] == "whole" and mine["given_by"]["name"] == "Pat Dunn"
    [event] = _request_events(rt, listed, "consent:record:list")
    assert event.details["views"][made.json["id"]] == "whole"


def test_a_named_recipient_sees_only_the_parts_that_name_it(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    consent_id = _proxy_consent(client, auth, demo)["id"]
    r = client.get(CONSENTS.format(_rhian(demo)), headers=auth(HOUSING))
    assert r.status_code == 200
    [item] = r.json["items"]
    assert item["view"] == "recipient" and item["id"] == consent_id
    assert item["recipients"] == ["derby-housing"]
    assert item["given_by"] == {"type": "dwp_appointee"}
    assert item["supersedes"] is None and item["capacity"] is None
    assert item["withdrawals"] == []  # ca-derby's withdrawal does not name it
    assert item["status"] == "active"
    text = r.get_data(as_text=True)
    assert not any(s in text for s in PROXY_SECRETS) and "ca-derby" not in text
    [event] = _request_events(rt, r, "consent:record:list")
    assert event.decision == "allow" and event.details["views"] == {consent_id: "recipient"}

    receipt = client.get(RECEIPT.format(consent_id), headers=auth(HOUSING))
    assert receipt.status_code == 200
    assert [c["id"] for c in receipt.json["pii_controllers"]] == ["derby-housing"]
    assert receipt.json["evidence_ref"] is None and receipt.json["explicit_statement"] is None
    html = client.get(RECEIPT.format(consent_id),
                      headers={**auth(HOUSING), "Accept": "text/html"})
    assert html.status_code == 200 and html.mimetype == "text/html"
    fhir = client.get(FHIR.format(consent_id), headers=auth(HOUSING))
    assert fhir.status_code == 200
    actors = [a["reference"]["identifier"]["value"] for a in fhir.json["provision"]["actor"]]
    assert actors == ["derby-housing"]
    for answer in (receipt, html, fhir):
        body = answer.get_data(as_text=True)
        assert not any(s in body for s in PROXY_SECRETS)
        assert "ca-derby" not in body and "Citizens Advice" not in body
    for kind, answer in (("receipt", receipt), ("receipt", html), ("fhir", fhir)):
        [event] = _request_events(rt, answer, f"consent:{kind}:export")
        assert event.decision == "allow" and event.details["view"] == "recipient"
        assert str(event.consent_id) == consent_id


def test_a_recipient_sees_special_categories_only_if_it_receives_them(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # Lee's consent covers substance misuse; no Derby flow carries it to or from the council.
    housing = client.get(CONSENTS.format(demo.lee), headers=auth(HOUSING))
    [item] = housing.json["items"]
    assert item["view"] == "recipient" and "substance_misuse" not in item["categories"]
    assert item["explicit"] is False
    assert "housing_tenancy" in item["categories"]
    receipt = client.get(RECEIPT.format(item["id"]), headers=auth(HOUSING))
    assert "substance_misuse" not in receipt.get_data(as_text=True)
    assert receipt.json["special_category"] is False
    # The treatment provider, whose own data it is, sees it.
    treatment = client.get(CONSENTS.format(demo.lee), headers=auth(KEY_WORKER))
    [mine] = treatment.json["items"]
    assert "substance_misuse" in mine["categories"] and mine["explicit"] is True
    assert mine["recipients"] == ["recovery-partnership"]
    assert len(_request_events(rt, receipt, "consent:receipt:export")) == 1


def test_a_withdrawn_recipient_sees_its_own_withdrawal_and_nothing_else(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    r = client.get(CONSENTS.format(_rhian(demo)), headers=auth(ADVISER))
    assert r.status_code == 200
    [item] = r.json["items"]
    assert item["view"] == "recipient" and item["recipients"] == ["ca-derby"]
    assert item["status"] == "withdrawn"
    assert item["withdrawals"][0]["scope"] == {"recipients": ["ca-derby"]}
    assert "reason" not in item["withdrawals"][0]
    for answer in (r, client.get(RECEIPT.format(item["id"]), headers=auth(ADVISER)),
                   client.get(FHIR.format(item["id"]), headers=auth(ADVISER))):
        assert answer.status_code == 200
        body = answer.get_data(as_text=True)
        assert not any(s in body for s in PROXY_SECRETS)
        assert "derby-housing" not in body and "Derby City Council" not in body
    [event] = _request_events(rt, r, "consent:record:list")
    assert event.details["views"] == {item["id"]: "recipient"}


@pytest.mark.parametrize("path", [RECEIPT, FHIR])
def test_anyone_else_gets_the_same_404_as_for_an_id_that_does_not_exist(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime, path: str
) -> None:
    consent_id = _proxy_consent(client, auth, demo)["id"]
    # The treatment provider is not named in Rhian's consent and not on her case.
    unrelated = client.get(path.format(consent_id), headers=auth(KEY_WORKER))
    missing = client.get(path.format(uuid.uuid4()), headers=auth(KEY_WORKER))
    for r in (unrelated, missing):
        assert_problem(r, 404)
    assert ({k: v for k, v in unrelated.json.items() if k != "audit_id"}
            == {k: v for k, v in missing.json.items() if k != "audit_id"})
    assert unrelated.json["detail"] == "No such consent."
    [denied] = _request_events(rt, unrelated, "access:subject:deny")
    assert denied.decision == "deny" and denied.reasons == ["no_case_relationship"]
    assert str(denied.event_uuid) == unrelated.json["audit_id"]
    [gone] = _request_events(rt, missing, "access:consent:deny")
    assert gone.reasons == ["no_such_consent"] and str(gone.event_uuid) == missing.json["audit_id"]
    assert not _request_events(rt, unrelated, "consent:receipt:export")


def test_a_related_organisation_not_named_in_a_consent_neither_lists_nor_reads_it(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    # Citizens Advice is on Kerry's case; a consent naming only the council is not theirs.
    made = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=consent_body(
        recipients=["derby-housing"], purposes=["tenancy_sustainment"],
        categories=["housing_tenancy"]))
    assert made.status_code == 201, made.json
    listed = client.get(CONSENTS.format(demo.kerry), headers=auth(ADVISER))
    assert made.json["id"] not in {c["id"] for c in listed.json["items"]}
    [event] = _request_events(rt, listed, "consent:record:list")
    assert event.details["not_shown"] == 1
    r = client.get(RECEIPT.format(made.json["id"]), headers=auth(ADVISER))
    assert r.status_code == 404 and r.json["detail"] == "No such consent."
    [denied] = _request_events(rt, r, "access:consent:deny")
    assert denied.reasons == ["consent_not_visible"]
    assert str(denied.event_uuid) == r.json["audit_id"]


def test_sealed_consent_fields_are_not_in_the_database_in_plaintext(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    made = client.post(CONSENTS.format(demo.kerry), headers=auth(COACH), json=consent_body(
        given_by={"type": "dwp_appointee", "name": "Pat Dunn", "authority_ref": "BF56-9911"},
        categories=["identity", "contact"], evidence_ref="DOC-5521"))
    assert made.status_code == 201, made.json
    lee = client.post(CONSENTS.format(demo.lee), headers=auth(COACH), json=consent_body(
        recipients=["recovery-partnership"], categories=["identity", "substance_misuse"],
        purposes=["recovery_support"], explicit_statement=TREATMENT))
    assert lee.status_code == 201, lee.json
    with rt.engine.connect() as conn:
        rows = [*conn.exec_driver_sql("SELECT * FROM consents").fetchall(),
                *conn.exec_driver_sql("SELECT * FROM consent_withdrawals").fetchall(),
                *conn.exec_driver_sql("SELECT * FROM audit_events").fetchall()]
    dump = repr(rows)
    for secret in (*PROXY_SECRETS, "Pat Dunn", "BF56-9911", "DOC-5521", "DOC-2026-0412",
                   "CALL-2026-11-20", "drug or alcohol treatment"):
        assert secret not in dump, secret
    with rt.session_factory() as s:
        row = s.get(Consent, uuid.UUID(lee.json["id"]))
        assert row is not None and row.explicit_confirmed
        assert row.explicit_statement is None and row.explicit_statement_sealed is not None
        assert row.explicit_statement_sealed.startswith(b"cs1:dk")
        assert row.explicit_statement_sha256 is not None


def test_erasure_makes_the_sealed_consent_fields_unreadable(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    subject = _rhian(demo)
    jcp_ig = "morgan.ellis@jcp-derby.example"
    with rt.session_factory() as s:
        identity.add_or_update_staff(s, protocols=rt.protocols, email=jcp_ig,
                                     name="Morgan Ellis", org="jcp-derby",
                                     roles=["ig_officer"], now=rt.now())
        s.commit()
        consent = s.scalars(select(Consent).where(Consent.subject_id == subject)).one()
        withdrawal = s.scalars(select(ConsentWithdrawal)).all()
        sealed = [consent.given_by_name_sealed, consent.authority_ref_sealed,
                  consent.evidence_ref_sealed]
        assert all(v is not None for v in sealed)
        assert any(w.reason_sealed is not None for w in withdrawal)
    r = client.post(f"/api/v1/subjects/{subject}/erasure?purpose=subject_access",
                    headers=auth(jcp_ig), json={"reason": "subject_request"})
    assert r.status_code == 200, r.json
    listed = client.get(CONSENTS.format(subject), headers=auth(COACH))
    assert listed.status_code == 410
    receipt = client.get(RECEIPT.format(consent.id), headers=auth(COACH))
    assert receipt.status_code == 410
    assert not any(s in receipt.get_data(as_text=True) for s in PROXY_SECRETS)
    with rt.session_factory() as s:
        from caseshare.subjects import service as subjects
        from caseshare.subjects.models import Subject

        row = s.get(Subject, subject)
        assert row is not None
        with pytest.raises(SubjectErasedError):
            subjects.data_key(row, rt.keyring)
        still = s.get(Consent, consent.id)
        assert still is not None and still.given_by_name_sealed is not None
        assert still.given_by_name is None  # no plaintext copy left to read
        # The ciphertext stays but no key opens it: a fresh key certainly does not.
        from caseshare.consent.service import consent_ref
        from caseshare.crypto.sealing import SealError, new_data_key

        with pytest.raises(SealError):
            open_sealed(new_data_key(), consent_ref(still, "given_by_name"),
                        still.given_by_name_sealed)


def test_seal_legacy_seals_plaintext_rows_written_before_migration_0015(
    client: FlaskClient, auth: Any, demo: Demo, rt: Runtime
) -> None:
    from caseshare.consent import service as consents
    from caseshare.subjects import service as subjects
    from caseshare.subjects.models import Subject

    consent_id = _proxy_consent(client, auth, demo)["id"]
    with rt.session_factory() as s:
        # A row as it was before 0015: the sealed fields in plaintext columns.
        row = s.get(Consent, uuid.UUID(consent_id))
        assert row is not None
        row.given_by_name, row.given_by_name_sealed = "Gwen Legacy", None
        row.evidence_ref, row.evidence_ref_sealed = "SCAN-LEGACY-0001", None
        s.commit()
    legacy = client.get(CONSENTS.format(_rhian(demo)), headers=auth(COACH)).json["items"][0]
    assert legacy["given_by"]["name"] == "Gwen Legacy"  # still readable before sealing

    with rt.session_factory() as s:
        def data_key_of(subject_id: uuid.UUID) -> tuple[bytes, int] | None:
            subject = s.get(Subject, subject_id)
            assert subject is not None
            return subjects.data_key(subject, rt.keyring), subject.dek_version

        assert consents.seal_legacy(s, data_key_of=data_key_of) == 1
        s.commit()
        assert consents.seal_legacy(s, data_key_of=data_key_of) == 0  # idempotent
    with rt.engine.connect() as conn:
        dump = repr(conn.exec_driver_sql("SELECT * FROM consents").fetchall())
    assert "Gwen Legacy" not in dump and "SCAN-LEGACY-0001" not in dump
    sealed = client.get(CONSENTS.format(_rhian(demo)), headers=auth(COACH)).json["items"][0]
    assert sealed["given_by"]["name"] == "Gwen Legacy"
    receipt = client.get(RECEIPT.format(consent_id), headers=auth(COACH))
    assert receipt.json["evidence_ref"] == "SCAN-LEGACY-0001"
    assert len(_request_events(rt, receipt, "consent:receipt:export")) == 1

"""Claimants: registration with sealed identity, data keys, case membership, NINO lookup."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Uuid, bindparam, column, exists, or_, select, table
from sqlalchemy.orm import Session

from caseshare.consent.models import Consent, ConsentWithdrawal
from caseshare.consent.service import current_consent_facts
from caseshare.crypto.keyring import KeyProvider
from caseshare.crypto.sealing import (
    FieldRef,
    blind_index,
    name_index,
    new_data_key,
    normalise_name,
    open_sealed,
    seal,
)
from caseshare.crypto.shreds import is_shredded
from caseshare.errors import CaseshareError, NotFoundError
from caseshare.facts import Principal, SubjectFacts
from caseshare.overrides.models import OverrideRecord
from caseshare.overrides.service import override_facts
from caseshare.subjects.models import IDENTITY_FIELDS, CaseMember, Subject


class SubjectErasedError(CaseshareError):
    status, slug, title = 410, "erased", "This claimant's record has been erased"


def _context(subject_id: uuid.UUID) -> bytes:
    return b"subject|" + str(subject_id).encode()


def is_erased(subject: Subject, keyring: KeyProvider) -> bool:
    """Erased in this database (no data key) or in the shred register, which outlives any
    restore of an earlier database backup."""
    return subject.dek_wrapped is None or is_shredded(keyring, subject.id)


def data_key(subject: Subject, keyring: KeyProvider) -> bytes:
    # The keyring refuses a shredded subject's unwrap too (crypto/shreds.py); asking here first
    # answers 410 rather than reaching it.
    if subject.dek_wrapped is None or is_shredded(keyring, subject.id):
        raise SubjectErasedError("The record was erased; its data can no longer be opened.")
    return keyring.unwrap(
        subject.dek_wrapped, version=subject.kek_version, context=_context(subject.id)
    )


def field_ref(subject_id: uuid.UUID, field: str) -> FieldRef:
    return FieldRef(subject_id, "subject", str(subject_id), field, IDENTITY_FIELDS[field])


def create_subject(
    session: Session,
    *,
    keyring: KeyProvider,
    principal: Principal,
    now: datetime,
    identity: dict[str, Any],
    jurisdiction: str,
) -> Subject:
    subject_id = uuid.uuid4()
    key = new_data_key()
    kek_version, wrapped = keyring.wrap(key, context=_context(subject_id))
    subject = Subject(
        id=subject_id,
        jurisdiction=jurisdiction,
        lead_org_id=principal.org,
        dek_wrapped=wrapped,
        kek_version=kek_version,
        dek_version=1,
        created_at=now,
        created_by=principal.actor_uuid,
    )
    for field in IDENTITY_FIELDS:
        value = identity.get(field)
        if value is not None:
            setattr(subject, field, seal(key, 1, field_ref(subject_id, field), str(value)))
    if identity.get("nino"):
        subject.nino_index = blind_index(keyring.blind_index_key(), str(identity["nino"]))
    if identity.get("family_name") and identity.get("date_of_birth"):
        subject.name_dob_index = name_index(keyring.blind_index_key(),
                                            str(identity["family_name"]),
                                            str(identity["date_of_birth"]))
    session.add(subject)
    session.flush()  # the subject row must exist before rows that refer to it
    session.add(CaseMember(subject_id=subject_id, org_id=principal.org, role="lead", joined_at=now))
    session.flush()
    return subject


def erase(subject: Subject, *, now: datetime) -> None:
    """Crypto-shred: destroy the wrapped data key, so every field sealed under it (identity,
    plan entries, history, referrals; in backups too) can never be opened again. The row stays
    as a tombstone: its id, jurisdiction, lead organisation and when it was erased. The blind
    index goes too, so the claimant can no longer be found by NINO."""
    subject.dek_wrapped = None
    subject.nino_index = None
    subject.name_dob_index = None
    subject.erased_at = now


def unapplied_shreds(session: Session, shredded: frozenset[uuid.UUID]) -> list[Subject]:
    """Subjects the shred register lists that this database still holds as live (a restored
    earlier backup, or an erasure whose commit never happened)."""
    if not shredded:
        return []
    return list(session.scalars(
        select(Subject)
        .where(Subject.id.in_(sorted(shredded)),
               or_(Subject.dek_wrapped.is_not(None), Subject.erased_at.is_(None),
                   Subject.nino_index.is_not(None), Subject.name_dob_index.is_not(None)))
        .order_by(Subject.id)))


def erased_ids(session: Session) -> frozenset[uuid.UUID]:
    """Subjects this database records as erased."""
    return frozenset(session.scalars(
        select(Subject.id).where(or_(Subject.erased_at.is_not(None),
                                     Subject.dek_wrapped.is_(None)))))


def open_identity(subject: Subject, keyring: KeyProvider, categories: set[str]) -> dict[str, str]:
    key = data_key(subject, keyring)
    out: dict[str, str] = {}
    for field, category in IDENTITY_FIELDS.items():
        sealed = getattr(subject, field)
        if category in categories and sealed is not None:
            out[field] = open_sealed(key, field_ref(subject.id, field), sealed)
    return out


def find_subject(session: Session, subject_id: uuid.UUID) -> Subject | None:
    return session.get(Subject, subject_id)


def get_subject(session: Session, subject_id: uuid.UUID) -> Subject:
    subject = find_subject(session, subject_id)
    if subject is None:
        raise NotFoundError("No such claimant.")
    return subject


def case_orgs(session: Session, subject_id: uuid.UUID) -> frozenset[str]:
    rows = session.scalars(select(CaseMember.org_id).where(CaseMember.subject_id == subject_id))
    return frozenset(rows)


def add_case_member(session: Session, *, subject_id: uuid.UUID, org: str, now: datetime) -> None:
    if org not in case_orgs(session, subject_id):
        session.add(CaseMember(subject_id=subject_id, org_id=org, role="member", joined_at=now))


def subject_consents(
    session: Session, subject_id: uuid.UUID
) -> list[tuple[Consent, list[ConsentWithdrawal]]]:
    """All consent versions of a subject with their withdrawals: two indexed queries."""
    consents = session.scalars(
        select(Consent).where(Consent.subject_id == subject_id).order_by(Consent.captured_at)
    ).all()
    withdrawals: dict[uuid.UUID, list[ConsentWithdrawal]] = {c.id: [] for c in consents}
    if consents:
        for w in session.scalars(
            select(ConsentWithdrawal)
            .where(ConsentWithdrawal.consent_id.in_(list(withdrawals)))
            .order_by(ConsentWithdrawal.withdrawn_at)
        ):
            withdrawals[w.consent_id].append(w)
    return [(c, withdrawals[c.id]) for c in consents]


def subject_facts(session: Session, subject: Subject) -> SubjectFacts:
    """Everything the decision needs to know about this subject, read in one place."""
    return _facts(session, subject, case_orgs(session, subject.id))


# Whether any override (active or not) exists for the subject: almost never, so the overrides
# statement is skipped unless this says there is something to read.
_HAS_OVERRIDES = exists().where(OverrideRecord.subject_id == Subject.id).label("has_overrides")
# Copies the retention pass deleted (retention.models.DeletedCopy), named here as a lightweight
# table: caseshare.retention imports this package, so importing its model would be a cycle. Read
# the same way as overrides: only when this says some exist.
_DELETED_COPIES = table("retention_deleted_copies", column("subject_id", Uuid),
                        column("org_id", String), column("category", String))
_HAS_DELETED = exists().where(_DELETED_COPIES.c.subject_id == Subject.id).label("has_deleted")
_SUBJECT_WITH_MEMBERS = (
    select(Subject, CaseMember.org_id, _HAS_OVERRIDES, _HAS_DELETED)
    .outerjoin(CaseMember, CaseMember.subject_id == Subject.id)
    .where(Subject.id == bindparam("subject_id"))
)


def find_subject_with_facts(session: Session,
                            subject_id: uuid.UUID) -> tuple[Subject, SubjectFacts] | None:
    """The subject and its decision facts in two statements (subject with its case members and
    whether it has overrides, current consents with their withdrawals) and a third only when
    overrides exist: the hot path of every access."""
    rows = session.execute(_SUBJECT_WITH_MEMBERS, {"subject_id": subject_id}).all()
    if not rows:
        return None
    return rows[0][0], _member_facts(session, rows[0][0], [tuple(row)[1:] for row in rows])


def _member_facts(session: Session, subject: Subject,
                  members: list[tuple[Any, ...]]) -> SubjectFacts:
    """Facts from (member org, has overrides, has deleted copies) rows, one per case member (one
    None if none)."""
    orgs = frozenset(row[0] for row in members if row[0] is not None)
    return _facts(session, subject, orgs, read_overrides=bool(members[0][1]),
                  read_deleted=bool(members[0][2]))


def deleted_copies(session: Session, subject_id: uuid.UUID) -> frozenset[tuple[str, str]]:
    """(organisation, category) copies of this subject the retention pass deleted."""
    return deleted_copies_of(session, [subject_id]).get(subject_id, frozenset())


def deleted_copies_of(session: Session, subject_ids: Any,
                      ) -> dict[uuid.UUID, frozenset[tuple[str, str]]]:
    """The same for many subjects (a list of ids or a select of them) in one statement (the
    caseload's batch facts); subjects with no deleted copy are absent."""
    found: dict[uuid.UUID, set[tuple[str, str]]] = {}
    rows = session.execute(select(_DELETED_COPIES.c.subject_id, _DELETED_COPIES.c.org_id,
                                  _DELETED_COPIES.c.category)
                           .where(_DELETED_COPIES.c.subject_id.in_(subject_ids)))
    for sid, org, category in rows:
        found.setdefault(sid, set()).add((org, category))
    return {sid: frozenset(copies) for sid, copies in found.items()}


def _facts(session: Session, subject: Subject, members: frozenset[str], *,
           read_overrides: bool = True, read_deleted: bool = True) -> SubjectFacts:
    return SubjectFacts(
        subject_id=subject.id,
        case_orgs=members,
        consents=tuple(current_consent_facts(session, subject.id)),
        overrides=override_facts(session, subject.id) if read_overrides else (),
        erased=subject.dek_wrapped is None,
        deleted=deleted_copies(session, subject.id) if read_deleted else frozenset(),
    )


def named_in_consent(facts: SubjectFacts, org: str) -> bool:
    return any(org in c.recipients for c in facts.consents)


def find_by_nino(
    session: Session, *, keyring: KeyProvider, nino: str, org: str
) -> list[Subject]:
    """Claimants with this NINO that `org` works with, by blind index; no plaintext compared.
    Erased claimants are never found (a restored database may still hold their index)."""
    index = blind_index(keyring.blind_index_key(), nino)
    found = session.scalars(
        select(Subject)
        .join(CaseMember, CaseMember.subject_id == Subject.id)
        .where(Subject.nino_index == index, CaseMember.org_id == org)
    )
    return [subject for subject in found if not is_erased(subject, keyring)]


def find_by_name_and_birth_date(
    session: Session, *, keyring: KeyProvider, org: str, family_name: str,
    given_name: str | None, date_of_birth: str
) -> list[Subject]:
    """Claimants `org` works with whose family name and date of birth (and given name, when one
    is given) match, ignoring case and spacing. The blind index finds the candidates among the
    organisation's caseload; claimants registered before the index existed have none, and are
    opened and compared one at a time. Nothing opened here leaves the function."""
    index = name_index(keyring.blind_index_key(), family_name, date_of_birth)
    candidates = session.scalars(
        select(Subject)
        .join(CaseMember, CaseMember.subject_id == Subject.id)
        .where(CaseMember.org_id == org, Subject.dek_wrapped.is_not(None),
               or_(Subject.name_dob_index == index, Subject.name_dob_index.is_(None)))
        .order_by(Subject.created_at, Subject.id)
    )
    wanted = {"family_name": normalise_name(family_name), "given_name":
              normalise_name(given_name or ""), "date_of_birth": date_of_birth}
    found = []
    for subject in candidates:
        if is_shredded(keyring, subject.id):
            continue  # erased, in a restored database that still holds its key
        fields = ["given_name"] if wanted["given_name"] else []
        if subject.name_dob_index is None:
            fields += ["family_name", "date_of_birth"]
        if all(_opened(subject, keyring, f) == wanted[f] for f in fields):
            found.append(subject)
    return found


def _opened(subject: Subject, keyring: KeyProvider, field: str) -> str:
    sealed = getattr(subject, field)
    if sealed is None:
        return ""
    value = open_sealed(data_key(subject, keyring), field_ref(subject.id, field), sealed)
    return value if field == "date_of_birth" else normalise_name(value)


def lock_subject(session: Session, subject_id: uuid.UUID) -> Subject | None:
    """The subject's row, locked for the rest of the transaction (SELECT ... FOR UPDATE), so
    that the retention pass, a legal hold and a reopening of the same claimant run one after
    another on PostgreSQL. SQLite ignores FOR UPDATE: there every writing transaction already
    holds the database's write lock from its start (BEGIN IMMEDIATE)."""
    return session.scalar(select(Subject).where(Subject.id == subject_id).with_for_update())

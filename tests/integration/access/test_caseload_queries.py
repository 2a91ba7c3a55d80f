"""The caseload's aggregate statements (caseshare.subjects.caseload) on both engines: the batch
facts equal the per-claimant facts every other read uses, open actions are grouped by category
and writer, unread notices by type, and referrals in list a claimant before its case is joined."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.orm import Session

from caseshare.notifications import service as notifications
from caseshare.retention.models import DeletedCopy
from caseshare.runtime import Runtime
from caseshare.subjects import caseload as figures
from caseshare.subjects.service import find_subject_with_facts
from tests.conftest import Demo

HOUSING_STAFF = uuid.uuid4()


def _reader(org: str = "derby-housing") -> figures.Reader:
    return figures.Reader(HOUSING_STAFF, org, frozenset({"housing_officer"}))


def test_batch_facts_are_the_facts_of_a_single_read(session: Session, demo: Demo) -> None:
    batch = figures.facts_for(session, [demo.lee, demo.kerry, uuid.uuid4()])
    assert set(batch) == {demo.lee, demo.kerry}  # an unknown id is simply absent
    for sid, (subject, facts) in batch.items():
        single = find_subject_with_facts(session, sid)
        assert single is not None and single[0].id == subject.id
        assert facts.case_orgs == single[1].case_orgs
        assert sorted(facts.consents, key=lambda c: c.id) == sorted(single[1].consents,
                                                                     key=lambda c: c.id)
        assert {o.id for o in facts.overrides} == {o.id for o in single[1].overrides}


def test_batch_facts_carry_the_copies_the_retention_pass_deleted(session: Session,
                                                                  demo: Demo, rt: Runtime) -> None:
    """A copy deleted by retention is erased for its organisation on the caseload too, not only
    on a single read (the batch facts and the caseload rows carry it)."""
    session.add(DeletedCopy(id=uuid.uuid4(), subject_id=demo.lee, org_id="derby-housing",
                            category="housing_tenancy", due_on=date(2026, 11, 1),
                            rule="test/flow", deleted_at=rt.now()))
    session.commit()
    pair = ("derby-housing", "housing_tenancy")
    [(_subject, facts)] = figures.facts_for(session, [demo.lee]).values()
    single = find_subject_with_facts(session, demo.lee)
    assert single is not None and facts.deleted == single[1].deleted == frozenset({pair})
    rows = {r.subject_id: r for r in figures.load_caseload(
        session, _reader(), today=date(2026, 12, 6), week_end=date(2026, 12, 12))}
    lee_facts = rows[demo.lee].facts
    assert lee_facts is not None and lee_facts.deleted == frozenset({pair})


def test_the_caseload_groups_actions_and_counts_unread_notices(
    session: Session, demo: Demo, rt: Runtime
) -> None:
    today = date(2026, 12, 6)
    rows = {r.subject_id: r for r in figures.load_caseload(
        session, _reader(), today=today, week_end=today + timedelta(days=6))}
    lee = rows[demo.lee]
    assert lee.member and lee.lead_org == "jcp-derby"
    assert lee.facts is not None and lee.facts.case_orgs == frozenset(
        {"jcp-derby", "derby-housing", "recovery-partnership"})
    by_category = {a.category: (a.created_org, a.overdue, a.due_this_week) for a in lee.actions}
    assert by_category == {"substance_misuse": ("recovery-partnership", 1, 0),
                           "housing_tenancy": ("derby-housing", 1, 0),
                           "employment": ("jcp-derby", 0, 1)}
    assert lee.notices == {} and lee.referrals_in == 0

    notifications.notify(session, type="consent_withdrawn", org="derby-housing",
                         now=rt.now(), subject_id=demo.lee, details={"full": True})
    notifications.notify(session, type="override_granted", org="derby-housing",
                         role="ig_officer", now=rt.now(), subject_id=demo.lee)
    session.commit()
    rows = {r.subject_id: r for r in figures.load_caseload(
        session, _reader(), today=today, week_end=today + timedelta(days=6))}
    assert rows[demo.lee].notices == {"consent_withdrawn": 1}  # not the IG officers' notice
    assert figures.unread_count(session, _reader()) == 1
    assert figures.unread_count(session, figures.Reader(
        uuid.uuid4(), "derby-housing", frozenset({"ig_officer"}))) == 2


def test_an_organisation_with_no_claimants_has_an_empty_caseload(session: Session,
                                                                 demo: Demo) -> None:
    today = date(2026, 12, 6)
    assert figures.load_caseload(session, _reader("nobody-org"), today=today,
                                 week_end=today) == []

"""Legal holds on a real database (both engines): place with a reason, one active hold per
subject (also under a race, by the partial unique index), lift, and the listings."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caseshare.errors import ConflictError, NotFoundError, ValidationError
from caseshare.facts import Principal
from caseshare.retention import holds
from caseshare.retention.models import LegalHold
from caseshare.runtime import Runtime
from tests.conftest import Clock, Demo

IG_HOUSING = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="derby-housing",
                       roles=frozenset({"ig_officer"}))


def test_place_lift_and_place_again(session: Session, demo: Demo, clock: Clock) -> None:
    hold = holds.place(session, subject_id=demo.lee, reason="  Claim  ref   LIT-2026-01 ",
                       by=IG_HOUSING, now=clock.now)
    session.commit()
    assert hold.reason == "Claim ref LIT-2026-01"  # whitespace folded
    assert holds.active_hold(session, demo.lee) == hold
    assert holds.held_subjects(session, [demo.lee, demo.kerry]) == {demo.lee}

    with pytest.raises(ConflictError):
        holds.place(session, subject_id=demo.lee, reason="A second reason here",
                    by=IG_HOUSING, now=clock.now)

    clock.advance(days=3)
    holds.lift(session, holds.get_hold(session, demo.lee, hold.id), by=IG_HOUSING, now=clock.now)
    session.commit()
    assert hold.lifted_at == clock.now and hold.lifted_by == IG_HOUSING.actor_uuid
    assert holds.active_hold(session, demo.lee) is None
    with pytest.raises(ConflictError):
        holds.lift(session, hold, by=IG_HOUSING, now=clock.now)

    again = holds.place(session, subject_id=demo.lee, reason="New inquiry INQ-77",
                        by=IG_HOUSING, now=clock.now)
    session.commit()
    assert holds.active_hold(session, demo.lee) == again


@pytest.mark.parametrize("reason", ["", "too short", "x" * 501])
def test_the_reason_is_10_to_500_characters(session: Session, demo: Demo, clock: Clock,
                                           reason: str) -> None:
    with pytest.raises(ValidationError) as raised:
        holds.place(session, subject_id=demo.lee, reason=reason, by=IG_HOUSING, now=clock.now)
    assert "reason" in raised.value.extra["errors"]


def test_a_hold_of_another_subject_is_not_found(session: Session, demo: Demo,
                                                clock: Clock) -> None:
    hold = holds.place(session, subject_id=demo.lee, reason="Reference LIT-2026-02",
                       by=IG_HOUSING, now=clock.now)
    session.commit()
    with pytest.raises(NotFoundError):
        holds.get_hold(session, demo.kerry, hold.id)
    with pytest.raises(NotFoundError):
        holds.get_hold(session, demo.lee, uuid.uuid4())


def test_the_database_refuses_a_second_active_hold(rt: Runtime, demo: Demo,
                                                   clock: Clock) -> None:
    """Two officers at once: the check passes for both, the partial unique index stops one."""
    with rt.session_factory() as s:
        s.add(LegalHold(id=uuid.uuid4(), subject_id=demo.lee, reason="First hold here",
                        placed_at=clock.now, placed_by=uuid.uuid4(), placed_org="jcp-derby"))
        s.commit()
    with rt.session_factory() as s:
        s.add(LegalHold(id=uuid.uuid4(), subject_id=demo.lee, reason="Second hold here",
                        placed_at=clock.now, placed_by=uuid.uuid4(), placed_org="derby-housing"))
        with pytest.raises(IntegrityError):
            s.commit()
    with rt.session_factory() as s:  # a lifted hold does not count
        s.add(LegalHold(id=uuid.uuid4(), subject_id=demo.lee, reason="Old lifted hold",
                        placed_at=clock.now, placed_by=uuid.uuid4(), placed_org="derby-housing",
                        lifted_at=clock.now, lifted_by=uuid.uuid4()))
        s.commit()


def test_listing_by_organisation_active_and_lifted_paged(session: Session, demo: Demo,
                                                         clock: Clock) -> None:
    other = Principal(actor_id=str(uuid.uuid4()), actor_type="staff", org="jcp-derby",
                      roles=frozenset({"ig_officer"}))
    first = holds.place(session, subject_id=demo.lee, reason="Reference LIT-2026-03",
                        by=IG_HOUSING, now=clock.now)
    clock.advance(hours=1)
    second = holds.place(session, subject_id=demo.kerry, reason="Reference LIT-2026-04",
                         by=other, now=clock.now)
    session.commit()

    both = holds.list_holds(session, orgs=["derby-housing", "jcp-derby"], active=True)
    assert [h.id for h in both.holds] == [second.id, first.id] and not both.more
    page = holds.list_holds(session, orgs=["derby-housing", "jcp-derby"], active=True, limit=1)
    assert [h.id for h in page.holds] == [second.id] and page.more
    assert [h.id for h in holds.list_holds(session, orgs=["derby-housing", "jcp-derby"],
                                           active=True, offset=1, limit=1).holds] == [first.id]
    assert [h.id for h in holds.list_holds(session, orgs=["derby-housing"],
                                           active=True).holds] == [first.id]

    holds.lift(session, first, by=IG_HOUSING, now=clock.now + timedelta(hours=1))
    session.commit()
    assert [h.id for h in holds.list_holds(session, orgs=["derby-housing"],
                                           active=False).holds] == [first.id]
    assert holds.list_holds(session, orgs=["derby-housing"], active=True).holds == []

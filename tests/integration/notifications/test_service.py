"""Notifications reach exactly the team, role or person they were raised for; reads are
per person."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from caseshare.errors import NotFoundError
from caseshare.notifications import service as notifications
from caseshare.notifications.service import Reader
from tests.conftest import Demo

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_notifications_reach_their_org_role_or_person_only(session: Session, demo: Demo) -> None:
    ig = Reader(uuid.uuid4(), "derby-housing", frozenset({"ig_officer"}))
    officer = Reader(uuid.uuid4(), "derby-housing", frozenset({"housing_officer"}))
    other_org_ig = Reader(uuid.uuid4(), "jcp-derby", frozenset({"ig_officer"}))
    subject = demo.lee
    team = notifications.notify(session, type="consent_withdrawn", org="derby-housing",
                                subject_id=subject, now=NOW)
    for_ig = notifications.notify(session, type="override_granted", org="derby-housing",
                                  role="ig_officer", subject_id=subject, now=NOW,
                                  details={"override_id": str(uuid.uuid4())})
    personal = notifications.notify(session, type="referral_updated", org="derby-housing",
                                    staff_id=officer.staff_id, now=NOW)
    session.commit()

    def ids(reader: Reader) -> set[uuid.UUID]:
        return {n.id for n in notifications.list_for(session, reader)}

    def unread(reader: Reader) -> int:
        return len(notifications.list_for(session, reader, unread_only=True))

    assert ids(ig) == {team.id, for_ig.id}
    assert ids(officer) == {team.id, personal.id}
    assert ids(other_org_ig) == set()

    assert unread(ig) == 2
    notifications.mark_read(session, ig, for_ig.id, now=NOW)
    notifications.mark_read(session, ig, for_ig.id, now=NOW)  # idempotent
    session.commit()
    assert unread(ig) == 1
    assert [n.read for n in notifications.list_for(session, ig) if n.id == for_ig.id] == [True]
    # Read per person: the officer still has the team notification unread.
    assert unread(officer) == 2
    with pytest.raises(NotFoundError):
        notifications.mark_read(session, other_org_ig, team.id, now=NOW)


def test_unknown_type_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown notification type"):
        notifications.notify(session, type="made_up", org="derby-housing", now=NOW)

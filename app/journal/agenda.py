"""Topics for next time: the agenda the mentee leads."""

from __future__ import annotations

from sqlalchemy import case, select

from app import history
from app.extensions import db
from app.models import HistorySubject, PairMember, Role, Topic


def open_topics(pair_id: int) -> list[Topic]:
    """Topics no logged meeting has covered yet: the mentee's first (they lead), oldest first."""
    mentee_first = case((Topic.added_by_role == Role.MENTEE, 0), else_=1)
    return list(
        db.session.scalars(
            select(Topic)
            .where(Topic.pair_id == pair_id, Topic.meeting_id.is_(None))
            .order_by(mentee_first, Topic.created_at, Topic.id)
        )
    )


def add(membership: PairMember, text: str) -> Topic:
    topic = Topic(pair_id=membership.pair_id, text=text, added_by_id=membership.user_id, added_by_role=membership.role)
    db.session.add(topic)
    db.session.flush()
    return topic


def remove(membership: PairMember, topic: Topic) -> bool:
    """Take an open topic off the agenda; its words stay in the pair's history. A covered topic
    belongs to its meeting's record and stays: False then."""
    if topic.meeting_id is not None:
        return False
    history.record(
        topic.pair_id, HistorySubject.TOPIC, topic.id, history.REMOVED, {"text": topic.text}, membership.user_id
    )
    db.session.delete(topic)
    db.session.flush()
    return True

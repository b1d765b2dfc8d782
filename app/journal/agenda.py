"""Topics for next time: the agenda the mentee leads."""

from __future__ import annotations

from sqlalchemy import case, select

from app.extensions import db
from app.models import PairMember, Role, Topic


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

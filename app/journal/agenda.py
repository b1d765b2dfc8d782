"""Topics for next time: the agenda the mentee leads."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache

from sqlalchemy import ColumnElement, Select, bindparam, case, func, or_, select

from app import history
from app.extensions import db
from app.models import HistorySubject, PairMember, Role, Topic
from app.numbers import INT_MAX

# The log form offers at most this many open topics (the newest, or those matching a search); the
# others stay open for next time.
AGENDA_LIMIT = 50
PER_PAGE = 20


def _is_open(pair_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    return (Topic.pair_id == pair_id) & Topic.meeting_id.is_(None)


def _agenda_order(topic: Topic) -> tuple:
    return (topic.added_by_role != Role.MENTEE, topic.created_at, topic.id)


def _open_in_agenda_order(pair_id: int | ColumnElement[int]) -> Select[tuple[Topic]]:
    """Topics no logged meeting has covered yet: the mentee's first (they lead), oldest first."""
    mentee_first = case((Topic.added_by_role == Role.MENTEE, 0), else_=1)
    return select(Topic).where(_is_open(pair_id)).order_by(mentee_first, Topic.created_at, Topic.id)


@cache
def _first_open_query(n: int) -> Select:
    # Built once (the pair's home asks on every visit), the pair bound at each run.
    return _open_in_agenda_order(bindparam("pair_id")).add_columns(func.count().over()).limit(n)


def first_open(pair_id: int, n: int) -> tuple[list[Topic], int]:
    """The first ``n`` open topics in agenda order, and how many are open in all (one query)."""
    rows = db.session.execute(_first_open_query(n), {"pair_id": pair_id}).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


def open_page(pair_id: int, page: int, per_page: int = PER_PAGE) -> tuple[list[Topic], bool]:
    """One page of the open topics in agenda order, and whether another follows."""
    rows = list(db.session.scalars(_open_in_agenda_order(pair_id).offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def for_meeting(pair_id: int, q: str = "", keep: Collection[int] = ()) -> tuple[list[Topic], int]:
    """The open topics a log form offers, in agenda order: those in ``keep`` (ticked on the form
    being sent back), then the newest, or the newest matching ``q``; at most ``AGENDA_LIMIT``. And
    how many are open in all. One query."""
    # Ids come back from a form that may have been refused for them: only those a row can have.
    keep = [i for i in keep if isinstance(i, int) and 0 < i <= INT_MAX][:AGENDA_LIMIT]
    kept = Topic.id.in_(keep) if keep else None
    shown = _is_open(pair_id)
    if q:
        matching = Topic.text.icontains(q, autoescape=True)
        shown &= or_(matching, kept) if kept is not None else matching
    total = select(func.count()).select_from(Topic).where(_is_open(pair_id)).scalar_subquery()
    rows = db.session.execute(
        select(Topic, total)
        .where(shown)
        .order_by(*((case((kept, 0), else_=1),) if kept is not None else ()), Topic.created_at.desc(), Topic.id.desc())
        .limit(AGENDA_LIMIT)
    ).all()
    return sorted((row[0] for row in rows), key=_agenda_order), (rows[0][1] if rows else 0)


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

"""What a pair does with their journal: log a meeting (its agenda, notes, action items and the
author's private reflection), edit it, tick action items, search. Views call these.

Pair access is decided before any of this runs (the ``pair`` blueprint loads the membership or
answers 404) and every query here is filtered by the pair. Two rules belong to the journal itself:

- **Only the person who logged a meeting edits it**: views fetch it through
  ``authz.meeting_to_edit``, which says 403 to the partner.
- **A reflection is read by its author alone**: every read of the Reflection table in Twoway
  starts from ``authz.my_reflections()``, which filters by the signed-in person; nothing outside
  this module and authz touches that table. Reflections never go into the pair's history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Select, bindparam, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import authz, history, versions
from app.extensions import db
from app.models import ActionItem, Goal, GoalStatus, HistorySubject, Meeting, PairMember, Reflection, Topic, utcnow

PER_PAGE = 10
MAX_PAGE = 100_000  # beyond any real journal; keeps OFFSET inside a 64-bit integer
SEARCH_LIMIT = 20  # hits per kind
GOAL_CHOICES = 30  # goals the log form offers an action item
HOME_ACTIONS = 5  # open action items the pair's home shows; the rest are a page of their own


# --- people and goals ----------------------------------------------------------------------------


def member_names(membership: PairMember) -> dict[int, str]:
    """First names of the pair's two people by user id, the signed-in person as "You" (the pair's
    members must be loaded, as they are on every pair page)."""
    return {m.user_id: "You" if m.user_id == membership.user_id else m.user.first_name for m in membership.pair.members}


def goal_choices(pair_id: int) -> list[tuple[int, str]]:
    """(id, title) of the goals an action item can work towards: those in progress, then those not
    started yet, newest first; at most ``GOAL_CHOICES``, so the log form stays light."""
    return [
        (row.id, row.title)
        for row in db.session.execute(
            select(Goal.id, Goal.title)
            .where(Goal.pair_id == pair_id, Goal.status.in_((GoalStatus.IN_PROGRESS, GoalStatus.NOT_STARTED)))
            .order_by(Goal.status != GoalStatus.IN_PROGRESS, Goal.created_at.desc(), Goal.id.desc())
            .limit(GOAL_CHOICES)
        )
    ]


def goal_titles(pair_id: int, goal_ids: set[int]) -> dict[int, str]:
    """Titles of the pair's goals among ``goal_ids``; no query when there are none."""
    if not goal_ids:
        return {}
    rows = db.session.execute(select(Goal.id, Goal.title).where(Goal.pair_id == pair_id, Goal.id.in_(goal_ids)))
    return {row.id: row.title for row in rows}


def goals_of(items: list[ActionItem]) -> set[int]:
    """The goals these action items work towards (for ``goal_titles``)."""
    return {item.goal_id for item in items if item.goal_id}


# --- reading meetings ----------------------------------------------------------------------------


def _with_details(query: Select) -> Select:
    return query.options(selectinload(Meeting.topics), selectinload(Meeting.action_items))


def _newest_first(pair_id: int) -> Select:
    return select(Meeting).where(Meeting.pair_id == pair_id).order_by(Meeting.held_on.desc(), Meeting.id.desc())


def meetings_page(pair_id: int, page: int, per_page: int = PER_PAGE) -> tuple[list[Meeting], bool]:
    """One page of the pair's meetings, newest first, with topics and action items loaded; and
    whether an older page follows."""
    page = min(max(page, 1), MAX_PAGE)
    rows = list(
        db.session.scalars(_with_details(_newest_first(pair_id)).offset((page - 1) * per_page).limit(per_page + 1))
    )
    return rows[:per_page], len(rows) > per_page


def load_details(meeting: Meeting) -> Meeting:
    """Load the topics and action items of one meeting fetched on its own (two queries)."""
    set_committed_value(
        meeting,
        "topics",
        list(db.session.scalars(select(Topic).where(Topic.meeting_id == meeting.id).order_by(Topic.id))),
    )
    set_committed_value(
        meeting,
        "action_items",
        list(db.session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting.id).order_by(ActionItem.id))),
    )
    return meeting


def last_met_on(pair_id: int) -> date | None:
    return db.session.scalar(select(func.max(Meeting.held_on)).where(Meeting.pair_id == pair_id))


def _open_action_items(pair_id: int) -> Select[tuple[ActionItem]]:
    """Action items not done yet: soonest due first, those without a date last."""
    return (
        select(ActionItem)
        .where(ActionItem.pair_id == pair_id, ActionItem.done.is_(False))
        .order_by(case((ActionItem.due_on.is_(None), 1), else_=0), ActionItem.due_on, ActionItem.id)
    )


@cache
def _first_open_action_items_query(n: int) -> Select:
    # Built once (the pair's home asks on every visit), the pair and meeting bound at each run.
    order = (case((ActionItem.due_on.is_(None), 1), else_=0), ActionItem.due_on, ActionItem.id)
    inner = (
        select(
            ActionItem.id,
            func.row_number().over(order_by=order).label("rank"),
            func.count().over().label("total"),
        )
        .where(ActionItem.pair_id == bindparam("pair_id"), ActionItem.done.is_(False))
        .subquery()
    )
    return (
        select(ActionItem, inner.c.total)
        .join(inner, inner.c.id == ActionItem.id)
        .where(or_(inner.c.rank <= n, ActionItem.meeting_id == bindparam("also_of")))
        .order_by(inner.c.rank)
    )


def first_open_action_items(pair_id: int, n: int, also_of: int | None = None) -> tuple[list[ActionItem], int]:
    """The first ``n`` open action items, plus any others of meeting ``also_of``; and how many are
    open in all. One query."""
    rows = db.session.execute(_first_open_action_items_query(n), {"pair_id": pair_id, "also_of": also_of}).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


def open_action_items_page(pair_id: int, page: int, per_page: int = PER_PAGE * 2) -> tuple[list[ActionItem], bool]:
    """One page of the open action items, and whether another follows."""
    page = min(max(page, 1), MAX_PAGE)
    rows = list(db.session.scalars(_open_action_items(pair_id).offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


# --- writing -------------------------------------------------------------------------------------


def log(
    membership: PairMember,
    values: dict[str, Any],
    covered: list[int],
    actions: list[dict[str, Any]],
    reflection: str,
) -> Meeting:
    """Log a meeting. Open topics in ``covered`` become its agenda; the others stay open and carry
    forward. A topic someone else's log covered a moment ago is left with that meeting."""
    pair_id = membership.pair_id
    meeting = Meeting(pair_id=pair_id, author_id=membership.user_id, **values)
    db.session.add(meeting)
    db.session.flush()
    if covered:
        db.session.execute(
            update(Topic)
            .where(Topic.pair_id == pair_id, Topic.meeting_id.is_(None), Topic.id.in_(covered))
            .values(meeting_id=meeting.id)
            .execution_options(synchronize_session=False)
        )
    # The form offers only the pair's two people (and goals); an owner from anywhere else would
    # be someone the pair can't see, so it is dropped here too rather than stored.
    members = {m.user_id for m in membership.pair.members}
    for action in actions:
        if action["owner_id"] not in members:
            action = {**action, "owner_id": None}
        db.session.add(ActionItem(pair_id=pair_id, meeting_id=meeting.id, **action))
    if reflection:
        db.session.add(
            Reflection(meeting_id=meeting.id, pair_id=pair_id, author_id=membership.user_id, body=reflection)
        )
    db.session.flush()
    return meeting


def save(meeting: Meeting, base_version: int, values: dict[str, Any], by_id: int) -> bool:
    """Save ``values`` over version ``base_version`` of ``meeting``; notes they replace go into the
    pair's history. False when nothing changed. ``versions.Conflict`` when it was saved since
    ``base_version``: the notes typed are kept in the history as lost in a conflict (the caller
    commits them, and keeps them in the form)."""
    before = meeting.notes
    try:
        changed = versions.save_over(meeting, base_version, values, stamp={"updated_at": utcnow()})
    except versions.Conflict as conflict:
        typed = {"notes": values.get("notes", ""), "held_on": values["held_on"].isoformat()}
        conflict.lost = history.record(meeting.pair_id, HistorySubject.MEETING, meeting.id, history.LOST, typed, by_id)
        raise
    if changed and before != meeting.notes:
        earlier = {"notes": before, "held_on": meeting.held_on.isoformat()}
        history.record(meeting.pair_id, HistorySubject.MEETING, meeting.id, history.EDITED, earlier, by_id)
    return changed


# --- private reflections: every read starts here -------------------------------------------------


def my_reflection(meeting_id: int) -> Reflection | None:
    return db.session.scalar(authz.my_reflections().where(Reflection.meeting_id == meeting_id))


def my_reflections(meeting_ids: list[int]) -> dict[int, Reflection]:
    """The signed-in person's reflections on these meetings, by meeting id (no query for none)."""
    if not meeting_ids:
        return {}
    return {
        r.meeting_id: r
        for r in db.session.scalars(authz.my_reflections().where(Reflection.meeting_id.in_(meeting_ids)))
    }


def save_reflection(meeting: Meeting, body: str, base_version: int) -> Reflection | None:
    """Write the signed-in person's reflection on ``meeting`` over ``base_version`` (0: there was
    none); an empty one is removed. Raises ``versions.Conflict`` with the stored reflection when
    they saved it from another tab or device since: both texts are their own, so the view shows
    both. Reflections never go into the pair's history."""
    mine = my_reflection(meeting.id)
    if mine is None:
        if not body:
            return None
        return _first_reflection(meeting, body)
    if not body:
        # Through the version check first: a stale tab clearing it must not remove a newer text.
        versions.save_over(mine, base_version, {"body": ""})
        db.session.delete(mine)
        db.session.flush()
        return None
    versions.save_over(mine, base_version, {"body": body}, stamp={"updated_at": utcnow()})
    return mine


def _first_reflection(meeting: Meeting, body: str) -> Reflection:
    mine = Reflection(meeting_id=meeting.id, pair_id=meeting.pair_id, author_id=current_user.id, body=body, version=1)
    try:
        # Two first saves at once (two tabs, or a double tap): the unique (meeting, author) lets
        # one insert; the other waits for it, then finds its reflection here.
        with db.session.begin_nested():
            db.session.add(mine)
    except IntegrityError:
        saved = db.session.scalar(authz.my_reflections().where(Reflection.meeting_id == meeting.id))
        if saved is None:
            raise
        if saved.body == body:
            return saved  # the same words: a double tap, nothing to choose between
        raise versions.Conflict(saved) from None
    return mine


# --- search --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    kind: str  # "notes", "goal", "topic", "action" or "reflection"
    text: str  # the text that matched, for the snippet
    meeting_id: int | None = None
    held_on: date | None = None
    goal_id: int | None = None
    title: str = ""
    item_id: int | None = None


def _matches(q: str, *columns) -> Any:
    # icontains lowers both sides in SQL and escapes % and _ in what was typed, so a search for
    # "100%" or "snake_case" means exactly that, case-insensitively on SQLite and PostgreSQL alike.
    return or_(*(column.icontains(q, autoescape=True) for column in columns))


def search(pair_id: int, q: str) -> dict[str, list[Hit]]:
    """Where ``q`` appears in the pair's meeting notes, goals, topics and action items, and in the
    signed-in person's own reflections (never the partner's). At most ``SEARCH_LIMIT`` per kind."""
    hits: dict[str, list[Hit]] = {}
    notes = db.session.execute(
        select(Meeting.id, Meeting.held_on, Meeting.notes)
        .where(Meeting.pair_id == pair_id, _matches(q, Meeting.notes))
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(SEARCH_LIMIT)
    )
    hits["notes"] = [Hit("notes", row.notes, meeting_id=row.id, held_on=row.held_on) for row in notes]
    goals = db.session.execute(
        select(Goal.id, Goal.title, Goal.why, Goal.success)
        .where(Goal.pair_id == pair_id, _matches(q, Goal.title, Goal.why, Goal.success))
        .order_by(Goal.id.desc())
        .limit(SEARCH_LIMIT)
    )
    hits["goals"] = [
        Hit(
            "goal",
            next((t for t in (row.title, row.why, row.success) if _find(t, q)), row.title),
            goal_id=row.id,
            title=row.title,
        )
        for row in goals
    ]
    topics = db.session.execute(
        select(Topic.id, Topic.text, Topic.meeting_id, Meeting.held_on)
        .outerjoin(Meeting, Meeting.id == Topic.meeting_id)
        .where(Topic.pair_id == pair_id, _matches(q, Topic.text))
        .order_by(Topic.meeting_id.is_not(None), Topic.id.desc())
        .limit(SEARCH_LIMIT)
    )
    hits["topics"] = [
        Hit("topic", row.text, meeting_id=row.meeting_id, held_on=row.held_on, item_id=row.id) for row in topics
    ]
    actions = db.session.execute(
        select(ActionItem.id, ActionItem.text, ActionItem.meeting_id, Meeting.held_on)
        .outerjoin(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(ActionItem.pair_id == pair_id, _matches(q, ActionItem.text))
        .order_by(ActionItem.done, ActionItem.id.desc())
        .limit(SEARCH_LIMIT)
    )
    hits["actions"] = [
        Hit("action", row.text, meeting_id=row.meeting_id, held_on=row.held_on, item_id=row.id) for row in actions
    ]
    mine = authz.my_reflections().subquery()
    reflections = db.session.execute(
        select(mine.c.meeting_id, mine.c.body, Meeting.held_on)
        .join(Meeting, Meeting.id == mine.c.meeting_id)
        .where(mine.c.body.icontains(q, autoescape=True))
        .order_by(Meeting.held_on.desc())
        .limit(SEARCH_LIMIT)
    )
    hits["reflections"] = [
        Hit("reflection", row.body, meeting_id=row.meeting_id, held_on=row.held_on) for row in reflections
    ]
    return hits


def _find(text: str, q: str) -> re.Match | None:
    return re.search(re.escape(q), text or "", re.IGNORECASE)


def snippet(text: str, q: str, width: int = 60) -> Markup:
    """A short, escaped excerpt of ``text`` around the first match of ``q``, the match marked."""
    text = " ".join((text or "").split())
    found = _find(text, q)
    if found is None:
        return escape(text[: width * 2] + ("…" if len(text) > width * 2 else ""))
    start, end = found.span()
    before_at = max(start - width, 0)
    after_at = min(end + width, len(text))
    return Markup("{}{}<mark>{}</mark>{}{}").format(
        "…" if before_at else "",
        text[before_at:start],
        text[start:end],
        text[end:after_at],
        "…" if after_at < len(text) else "",
    )

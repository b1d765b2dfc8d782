"""What a pair can do with their goals. Views call these; nothing here checks access: the pair
blueprint has already loaded the membership, views fetch goals and milestones by id through
``authz.get_in_pair``, and every list here is filtered by the pair.

A goal's ``version`` counts edits of its words. Moving a goal and ticking its milestones leave it
alone: neither can overwrite what someone is typing, so neither should turn their save into a
conflict. Moves carry their own check instead (the status the page showed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, inspect, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import history, versions
from app.extensions import db
from app.models import Goal, GoalStatus, HistorySubject, Milestone, PairMember, utcnow


class Moved(Exception):
    """The goal is no longer where the page showed it: someone moved it meanwhile."""

    def __init__(self, goal: Goal) -> None:
        super().__init__(f"goal {goal.id} moved")
        self.goal = goal


# Soonest target first, undated ones after; among equals the newest first.
_ORDER = (Goal.target_on.is_(None), Goal.target_on, Goal.id.desc())
# How many goals each column of the board shows (a phone screen or two); "Show all" pages through the rest.
PER_GROUP = 5
PER_PAGE = 20


@dataclass
class Group:
    status: GoalStatus
    label: str
    goals: list[Goal]
    total: int  # how many goals the pair has in this column, shown or not


def board(pair_id: int, focus: int | None = None) -> list[Group]:
    """The board's four columns, always all four and in this order: the first ``PER_GROUP`` goals
    of each (and goal ``focus`` wherever it is, so the goal just written is on the page), with
    their milestones, and how many each holds. Two queries, however many goals."""
    ranked = (
        select(
            Goal.id,
            func.row_number().over(partition_by=Goal.status, order_by=_ORDER).label("rank"),
            func.count().over(partition_by=Goal.status).label("total"),
        )
        .where(Goal.pair_id == pair_id)
        .subquery()
    )
    shown = ranked.c.rank <= PER_GROUP
    if focus is not None:
        shown = or_(shown, ranked.c.id == focus)
    rows = db.session.execute(
        select(Goal, ranked.c.total)
        .join(ranked, ranked.c.id == Goal.id)
        .where(shown)
        .order_by(*_ORDER)
        .options(selectinload(Goal.milestones))
    ).all()
    totals = {goal.status: total for goal, total in rows}
    return [
        Group(status, status.label, [goal for goal, _ in rows if goal.status == status], totals.get(status, 0))
        for status in GoalStatus
    ]


def column_page(pair_id: int, status: GoalStatus, page: int) -> tuple[Group, bool]:
    """One page of one column, with milestones, and whether another page follows. Two queries."""
    rows = db.session.execute(
        select(Goal, func.count().over())
        .where(Goal.pair_id == pair_id, Goal.status == status)
        .order_by(*_ORDER)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .options(selectinload(Goal.milestones))
    ).all()
    goals = [goal for goal, _ in rows]
    return Group(status, status.label, goals[:PER_PAGE], rows[0][1] if rows else 0), len(goals) > PER_PAGE


def load_milestones(goal: Goal) -> Goal:
    """Load the milestones of a goal fetched on its own (one query, filtered by its pair)."""
    found = db.session.scalars(
        select(Milestone)
        .where(Milestone.goal_id == goal.id, Milestone.pair_id == goal.pair_id)
        .order_by(Milestone.position, Milestone.id)
    )
    set_committed_value(goal, "milestones", list(found))
    return goal


def add(membership: PairMember, values: dict[str, Any]) -> Goal:
    goal = Goal(
        pair_id=membership.pair_id,
        created_by_id=membership.user_id,
        updated_by_id=membership.user_id,
        status=GoalStatus.NOT_STARTED,
        version=1,
        **values,
    )
    db.session.add(goal)
    db.session.flush()
    return goal


# The words of a goal: what the history keeps when they are overwritten.
WORDS = ("title", "why", "success")


def words(goal: Goal) -> dict[str, str]:
    return {key: getattr(goal, key) for key in WORDS}


def save(membership: PairMember, goal: Goal, base_version: int, values: dict[str, Any]) -> bool:
    """Save ``values`` over version ``base_version`` of ``goal``; the words they replace go into
    the pair's history. Returns False when nothing changed.

    Raises ``versions.Conflict`` when someone saved the goal since ``base_version``: nothing of the
    goal is written then, the words typed are kept in the history as lost in a conflict (the
    caller commits them) and the view keeps them in the form."""
    before = words(goal)
    try:
        changed = versions.save_over(
            goal, base_version, values, stamp={"updated_at": utcnow(), "updated_by_id": membership.user_id}
        )
    except versions.Conflict as conflict:
        typed = {key: values[key] for key in WORDS if key in values}
        conflict.lost = history.record(
            goal.pair_id, HistorySubject.GOAL, goal.id, history.LOST, typed, membership.user_id
        )
        raise
    if changed and before != words(goal):
        history.record(goal.pair_id, HistorySubject.GOAL, goal.id, history.EDITED, before, membership.user_id)
    return changed


def move(goal: Goal, to: GoalStatus, shown: GoalStatus | None) -> bool:
    """Move ``goal`` to ``to``. Returns False when it is there already (a double tap, or both
    pressed the same button). Raises ``Moved`` when it is no longer in ``shown``, the status the
    page showed: the person pressing meant to move it from there, not from where it is now."""
    if goal.status == to:
        return False
    if shown is not None and goal.status != shown:
        raise Moved(goal)
    now = utcnow()
    moved = db.session.execute(
        update(Goal)
        .where(Goal.id == goal.id, Goal.pair_id == goal.pair_id, Goal.status == goal.status)
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.refresh(goal)
        if goal.status == to:
            return False
        raise Moved(goal)
    set_committed_value(goal, "status", to)
    set_committed_value(goal, "updated_at", now)
    return True


def add_milestone(goal: Goal, title: str) -> Milestone:
    """Add a milestone at the end of ``goal``'s checklist (its milestones must be loaded)."""
    position = max((m.position for m in goal.milestones), default=-1) + 1
    milestone = Milestone(goal_id=goal.id, pair_id=goal.pair_id, title=title, position=position, done=False)
    goal.milestones.append(milestone)
    db.session.flush()
    return milestone


def remove_milestone(membership: PairMember, goal: Goal, milestone: Milestone) -> None:
    """Remove ``milestone`` from ``goal`` (whose milestones must be loaded); its words stay in the
    pair's history."""
    history.record(
        goal.pair_id,
        HistorySubject.MILESTONE,
        milestone.id,
        history.REMOVED,
        {"title": milestone.title, "goal": goal.title},
        membership.user_id,
    )
    goal.milestones.remove(milestone)
    db.session.flush()


def with_milestones(goal: Goal) -> Goal:
    """``goal`` with its milestones loaded: one query if they aren't yet, none if they are."""
    if "milestones" in inspect(goal).unloaded:
        load_milestones(goal)
    return goal

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

from sqlalchemy import Select, inspect, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import GOAL_STATUS_LABELS, Goal, GoalStatus, Milestone, PairMember, utcnow


class Conflict(Exception):
    """The goal was saved by someone else since the editor loaded it; ``goal`` is now as saved."""

    def __init__(self, goal: Goal) -> None:
        super().__init__(f"goal {goal.id} changed")
        self.goal = goal


class Moved(Exception):
    """The goal is no longer where the page showed it: someone moved it meanwhile."""

    def __init__(self, goal: Goal) -> None:
        super().__init__(f"goal {goal.id} moved")
        self.goal = goal


# Soonest target first, undated ones after; among equals the newest first.
_ORDER = (Goal.target_on.is_(None), Goal.target_on, Goal.id.desc())


def _of_pair(pair_id: int) -> Select[tuple[Goal]]:
    return select(Goal).where(Goal.pair_id == pair_id).order_by(*_ORDER)


def goals(pair_id: int) -> list[Goal]:
    """Every goal of the pair with its milestones loaded (two queries, however many goals)."""
    return list(db.session.scalars(_of_pair(pair_id).options(selectinload(Goal.milestones))))


def in_progress(pair_id: int) -> list[Goal]:
    """The pair's goals in progress, milestones loaded, oldest target date first (undated last),
    then newest: for the pair's home."""
    query = _of_pair(pair_id).where(Goal.status == GoalStatus.IN_PROGRESS).options(selectinload(Goal.milestones))
    return list(db.session.scalars(query))


def all_goals(pair_id: int) -> list[Goal]:
    """Every goal of the pair, milestones not loaded, in board order (not started, in progress,
    done, dropped): for choosing the goal an action item belongs to. One query."""
    rank = {status: n for n, status in enumerate(GoalStatus)}
    return sorted(db.session.scalars(_of_pair(pair_id)), key=lambda goal: rank[goal.status])


@dataclass
class Group:
    status: GoalStatus
    label: str
    goals: list[Goal]


def grouped(found: list[Goal]) -> list[Group]:
    """The board's four columns, always all four and in this order, each keeping ``found``'s order."""
    return [
        Group(status, GOAL_STATUS_LABELS[status], [g for g in found if g.status == status]) for status in GoalStatus
    ]


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


def save(membership: PairMember, goal: Goal, base_version: int, values: dict[str, Any]) -> bool:
    """Save ``values`` over version ``base_version`` of ``goal``.

    Returns False when nothing changed. Raises ``Conflict`` when someone saved the goal since
    ``base_version``; nothing is written then, and the view keeps the editor's words in the form.
    """
    if all(getattr(goal, key) == value for key, value in values.items()):
        return False  # the same words as stored, whichever version they were typed over
    now = utcnow()
    # The version in the WHERE clause makes the check and the write one step: of two people
    # saving over the same version, exactly one matches.
    saved = db.session.execute(
        update(Goal)
        .where(Goal.id == goal.id, Goal.pair_id == goal.pair_id, Goal.version == base_version)
        .values(**values, version=Goal.version + 1, updated_at=now, updated_by_id=membership.user_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if saved != 1:
        db.session.refresh(goal)
        raise Conflict(goal)
    # What was written is known exactly: no need to read it back.
    for key, value in {
        **values,
        "version": base_version + 1,
        "updated_at": now,
        "updated_by_id": membership.user_id,
    }.items():
        set_committed_value(goal, key, value)
    return True


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


def tick(milestone: Milestone, done: bool) -> None:
    """Tick or untick. Setting the state asked for, rather than flipping it, makes a double tap or a
    partner's tick a moment earlier harmless."""
    if milestone.done == done:
        return
    milestone.done = done
    milestone.done_at = utcnow() if done else None


def remove_milestone(goal: Goal, milestone: Milestone) -> None:
    """Remove ``milestone`` from ``goal`` (whose milestones must be loaded)."""
    goal.milestones.remove(milestone)
    db.session.flush()


def with_milestones(goal: Goal) -> Goal:
    """``goal`` with its milestones loaded: one query if they aren't yet, none if they are."""
    if "milestones" in inspect(goal).unloaded:
        load_milestones(goal)
    return goal

"""The goal board. Registered under the ``pair`` blueprint, which has already loaded the membership
(or answered 404) before any of these run; goals and milestones are fetched by id only through
``authz.get_in_pair``, so another pair's ids lead nowhere."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request, url_for

from app import authz, htmx
from app.extensions import db
from app.goals import board
from app.goals.forms import MoveForm, edit_goal_form, milestone_form, new_goal_form
from app.models import GOAL_STATUS_LABELS, Goal, GoalStatus, Milestone

bp = Blueprint("goals", __name__, url_prefix="/goals")

TEMPLATE = "goals/index.html"
# The blocks of the page that htmx may ask for, by the id of the element it swaps.
PAGE_BLOCKS = ("board",)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    if "membership" not in g:
        return {}  # an error page for someone outside the pair: nothing of the pair to show
    membership = authz.current_membership()
    partner_name = membership.partner().user.first_name

    def whose(goal: Goal) -> str:
        """Whose learning ``goal`` is, in the reader's words: "Your goal" or "Sam's goal"."""
        return "Your goal" if goal.learner == membership.role else f"{partner_name}'s goal"

    return {
        "whose": whose,
        "status_labels": GOAL_STATUS_LABELS,
        "statuses": list(GoalStatus),
        "blank_milestone_form": milestone_form,
    }


def _page_context(**extra: Any) -> dict[str, Any]:
    membership = authz.current_membership()
    found = board.goals(membership.pair_id)
    return {"groups": board.grouped(found), "goal_count": len(found), "new_form": new_goal_form(membership)} | extra


def _board(status: int = 200, **extra: Any) -> Response:
    """The page, or for htmx only the board (which holds every goal and the new-goal form)."""
    block = "board" if htmx.is_htmx() else None
    return htmx.render(TEMPLATE, block, status=status, **_page_context(**extra))


def _goal(goal: Goal, status: int = 200, **extra: Any) -> Response:
    """One goal: its block for htmx, the whole page (showing it in that state) otherwise."""
    if not htmx.is_htmx():
        return htmx.render(TEMPLATE, status=status, **_page_context(focus=goal.id, **extra))
    if extra.get("mode", "view") == "view":
        board.with_milestones(goal)
    return htmx.render(TEMPLATE, "goal", status=status, goal=goal, **extra)


def _heading(goal: Goal) -> str:
    # After an htmx swap removes the button that was pressed, focus goes to the goal's heading, so
    # keyboard and screen reader users carry on from where they were.
    return f"goal-{goal.id}-heading"


def _after_change(goal_id: int | None = None) -> Response:
    return htmx.redirect(url_for(".index") + (f"#goal-{goal_id}" if goal_id else ""))


@bp.get("")
def index() -> Response:
    block = htmx.target() if htmx.target() in PAGE_BLOCKS else None
    return htmx.render(TEMPLATE, block, **_page_context())


@bp.post("")
def add_goal() -> Response:
    membership = authz.current_membership()
    form = new_goal_form(membership, from_request=True)
    if not form.validate():
        return _board(status=422, new_form=form)
    goal = board.add(membership, form.values())
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(goal.id)
    return _board(autofocus=_heading(goal))


@bp.get("/<int:goal_id>")
def show_goal(goal_id: int) -> Response:
    goal = authz.get_in_pair(Goal, goal_id)
    return _goal(goal, autofocus=_heading(goal))


@bp.get("/<int:goal_id>/edit")
def edit_goal(goal_id: int) -> Response:
    goal = authz.get_in_pair(Goal, goal_id)
    return _goal(goal, mode="edit", edit_form=edit_goal_form(authz.current_membership(), goal))


@bp.post("/<int:goal_id>")
def save_goal(goal_id: int) -> Response:
    membership = authz.current_membership()
    goal = authz.get_in_pair(Goal, goal_id)
    form = edit_goal_form(membership, goal, from_request=True)
    if not form.validate():
        return _goal(goal, status=422, mode="edit", edit_form=form)
    try:
        changed = board.save(membership, goal, form.base_version(), form.values())
    except board.Conflict:
        # Nothing was written. The editor's words stay in the form, now over the saved version,
        # so saving again from the conflict view is a deliberate choice, not another collision.
        form.version.data = str(goal.version)
        return _goal(goal, status=409, mode="conflict", edit_form=form)
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(goal.id)
    return _goal(goal, saved=changed, autofocus=_heading(goal))


@bp.post("/<int:goal_id>/move")
def move_goal(goal_id: int) -> Response:
    goal = authz.get_in_pair(Goal, goal_id)
    form = MoveForm()
    if not form.validate():
        return _board(status=422, unmoved=goal)
    try:
        moved = board.move(goal, GoalStatus(form.status.data), form.shown_status())
    except board.Moved:
        # Nothing was written: the goal stays where the partner put it, and the page says so.
        return _board(status=409, moved_away=goal)
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(goal.id)
    return _board(moved=goal if moved else None, autofocus=_heading(goal))


@bp.post("/<int:goal_id>/milestones")
def add_milestone(goal_id: int) -> Response:
    goal = board.with_milestones(authz.get_in_pair(Goal, goal_id))
    form = milestone_form(goal.id, from_request=True)
    if not form.validate():
        return _goal(goal, status=422, milestone_form=form)
    board.add_milestone(goal, form.title.data.strip())
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(goal.id)
    return _goal(goal)


def _milestone_and_goal(milestone_id: int) -> tuple[Milestone, Goal]:
    """A milestone of this pair and its goal, with the goal's checklist loaded to show it again."""
    milestone = authz.get_in_pair(Milestone, milestone_id)
    return milestone, board.with_milestones(authz.get_in_pair(Goal, milestone.goal_id))


@bp.post("/milestones/<int:milestone_id>/toggle")
def toggle_milestone(milestone_id: int) -> Response:
    milestone, goal = _milestone_and_goal(milestone_id)
    # The button says which state it asks for; without it (an old page, a hand-made POST), flip.
    wanted = request.form.get("done")
    board.tick(milestone, wanted == "1" if wanted in ("0", "1") else not milestone.done)
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(goal.id)
    return _goal(goal)


@bp.post("/milestones/<int:milestone_id>/remove")
def remove_milestone(milestone_id: int) -> Response:
    milestone, goal = _milestone_and_goal(milestone_id)
    board.remove_milestone(goal, milestone)
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(goal.id)
    return _goal(goal, milestone_removed=milestone.title, autofocus=_heading(goal))

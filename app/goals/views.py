"""The goal board. Registered under the ``pair`` blueprint, which has already loaded the membership
(or answered 404) before any of these run; goals and milestones are fetched by id only through
``authz.get_in_pair``, so another pair's ids lead nowhere."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request, url_for

from app import authz, htmx, ticks, versions
from app import history as pair_history
from app.extensions import db
from app.goals import board
from app.goals.forms import MoveForm, edit_goal_form, milestone_form, new_goal_form
from app.idempotency import idempotent
from app.journal.meetings import MAX_PAGE
from app.models import Goal, GoalStatus, HistorySubject, Milestone
from app.numbers import page_number

bp = Blueprint("goals", __name__, url_prefix="/goals")

TEMPLATE = "goals/index.html"
# The blocks of the page that htmx may ask for, by the id of the element it swaps: the board
# (every goal and the new-goal form), or one goal (``goal-12``).
BLOCKS = ("board", "goal")
# What the goal board's history holds.
SUBJECTS = (HistorySubject.GOAL, HistorySubject.MILESTONE)


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
        "status_labels": GoalStatus.labels(),
        "statuses": list(GoalStatus),
        "blank_milestone_form": milestone_form,
    }


def _page_context(**extra: Any) -> dict[str, Any]:
    membership = authz.current_membership()
    groups = board.board(membership.pair_id, focus=extra.get("focus"))
    return {
        "groups": groups,
        "goal_count": sum(group.total for group in groups),
        "new_form": new_goal_form(membership),
    } | extra


def _context(goal: Goal | None = None, **extra: Any) -> dict[str, Any]:
    """What the block htmx asks for needs: one goal for ``goal-12``, else the board (the whole
    page shows ``goal`` in the state ``extra`` asks for)."""
    if goal is not None and htmx.chosen_block(BLOCKS) == "goal":
        if extra.get("mode", "view") == "view":
            board.with_milestones(goal)
        return {"goal": goal, **extra}
    return _page_context(**({"focus": goal.id} if goal is not None else {}), **extra)


def _answer(goal: Goal | None = None, status: int = 200, **extra: Any) -> Response:
    """The page, the board, or one goal, as the htmx target asks."""
    blocks = BLOCKS if goal is not None else ("board",)
    return htmx.render(TEMPLATE, blocks=blocks, status=status, **_context(goal, **extra))


def _written(goal: Goal, **extra: Any) -> Response:
    """After a successful write: a redirect to the goal without JavaScript, its block (or the
    board) with htmx."""
    return htmx.after_write(
        url_for(".index") + f"#goal-{goal.id}", TEMPLATE, blocks=BLOCKS, context=lambda: _context(goal, **extra)
    )


def _heading(goal: Goal) -> str:
    # After an htmx swap removes the button that was pressed, focus goes to the goal's heading, so
    # keyboard and screen reader users carry on from where they were.
    return f"goal-{goal.id}-heading"


@bp.get("")
def index() -> Response:
    """The board; with ``?status=done`` (and ``&page=N``) every goal of one column, a page at a time."""
    status = request.args.get("status")
    if status not in {s.value for s in GoalStatus}:
        return _answer()
    membership = authz.current_membership()
    page = page_number(MAX_PAGE)
    group, has_more = board.column_page(membership.pair_id, GoalStatus(status), page)
    return htmx.render(
        TEMPLATE,
        blocks=("board",),
        groups=[group],
        goal_count=group.total,
        column=group.status,
        page=page,
        has_more=has_more,
        new_form=new_goal_form(membership),
    )


@bp.get("/history")
def history() -> Response:
    """Earlier words of the pair's goals and milestones: what was changed, removed, or lost in a
    conflict, newest first, a page at a time."""
    return pair_history.render_page(SUBJECTS, heading="Earlier words on your goals", back=url_for(".index"))


@bp.post("")
@idempotent
def add_goal() -> Response:
    membership = authz.current_membership()
    form = new_goal_form(membership, from_request=True)
    if not form.validate():
        return _answer(status=422, new_form=form)
    goal = board.add(membership, form.values())
    return _written(goal, autofocus=_heading(goal))


@bp.get("/<int:goal_id>")
def show_goal(goal_id: int) -> Response:
    goal = authz.get_in_pair(Goal, goal_id, load=[Goal.milestones])
    return _answer(goal, autofocus=_heading(goal))


@bp.get("/<int:goal_id>/edit")
def edit_goal(goal_id: int) -> Response:
    goal = authz.get_in_pair(Goal, goal_id)
    return _answer(goal, mode="edit", edit_form=edit_goal_form(authz.current_membership(), goal))


@bp.post("/<int:goal_id>")
def save_goal(goal_id: int) -> Response:
    membership = authz.current_membership()
    # The checklist comes along: the saved goal is shown again with it.
    goal = authz.get_in_pair(Goal, goal_id, load=[Goal.milestones])
    form = edit_goal_form(membership, goal, from_request=True)
    if not form.validate():
        return _answer(goal, status=422, mode="edit", edit_form=form)
    try:
        changed = board.save(membership, goal, form.base_version(), form.values())
    except versions.Conflict:
        # The goal was not written; the words typed are kept in the history, and stay in the
        # form, now over the saved version, so saving again is a deliberate choice.
        db.session.commit()
        form.version.data = str(goal.version)
        return _answer(goal, status=409, mode="conflict", edit_form=form)
    db.session.commit()
    return _written(goal, saved=changed, autofocus=_heading(goal))


@bp.post("/<int:goal_id>/move")
def move_goal(goal_id: int) -> Response:
    goal = authz.get_in_pair(Goal, goal_id)
    form = MoveForm()
    if not form.validate():
        return _answer(status=422, unmoved=goal)
    try:
        moved = board.move(goal, GoalStatus(form.status.data), form.shown_status())
    except board.Moved:
        # Nothing was written: the goal stays where the partner put it, and the page says so.
        return _answer(status=409, moved_away=goal)
    db.session.commit()
    return htmx.after_write(
        url_for(".index") + f"#goal-{goal.id}",
        TEMPLATE,
        blocks=("board",),
        context=lambda: _page_context(moved=goal if moved else None, autofocus=_heading(goal)),
    )


@bp.post("/<int:goal_id>/milestones")
@idempotent
def add_milestone(goal_id: int) -> Response:
    goal = authz.get_in_pair(Goal, goal_id, load=[Goal.milestones])
    form = milestone_form(goal.id, from_request=True)
    if not form.validate():
        return _answer(goal, status=422, milestone_form=form)
    board.add_milestone(goal, form.title.data.strip())
    return _written(goal)


def _milestone_and_goal(milestone_id: int) -> tuple[Milestone, Goal]:
    """A milestone of this pair and its goal, with the goal's checklist loaded to show it again."""
    milestone = authz.get_in_pair(Milestone, milestone_id, load=[(Milestone.goal, Goal.milestones)])
    return milestone, milestone.goal


@bp.post("/milestones/<int:milestone_id>/toggle")
def toggle_milestone(milestone_id: int) -> Response:
    milestone, goal = _milestone_and_goal(milestone_id)
    ticks.tick(milestone, ticks.wanted(request.form.get("done"), milestone.done))
    db.session.commit()
    return _written(goal)


@bp.post("/milestones/<int:milestone_id>/remove")
def remove_milestone(milestone_id: int) -> Response:
    milestone, goal = _milestone_and_goal(milestone_id)
    board.remove_milestone(authz.current_membership(), goal, milestone)
    db.session.commit()
    return _written(goal, milestone_removed=milestone.title, autofocus=_heading(goal))

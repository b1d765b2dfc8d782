"""Forms for the goal board. Each form has a prefix, so a goal's edit form, its milestone form
and the new-goal form can share a page without sharing element ids."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import Form, VersionedForm
from app.idempotency import IdempotentForm
from app.models import GOAL_TITLE_MAX, TEXT_MAX, Goal, GoalStatus, PairMember, Role

_TITLE = [
    DataRequired("Give the goal a title: a few words you'll both recognise."),
    Length(max=GOAL_TITLE_MAX, message=f"Keep the title under {GOAL_TITLE_MAX} characters."),
]
_TEXT = [Length(max=TEXT_MAX, message=f"Keep it under {TEXT_MAX:,} characters: a few short paragraphs.")]
_MARKDOWN_HINT = "Light Markdown works: **bold**, *italic*, lists starting with “-”."


class GoalForm(Form):
    """The words of a goal, shared by the new-goal and edit forms."""

    learner = RadioField(
        "Whose learning is it?",
        validators=[InputRequired("Choose whose goal this is.")],
        invalid_choice_message="Choose whose goal this is.",
    )
    title = StringField("Goal", validators=_TITLE)
    why = TextAreaField("Why it matters", validators=_TEXT)
    success = TextAreaField("What success looks like", validators=_TEXT)
    target_on = DateField(
        "Target date (optional)", validators=[Optional()], invalid_value_message="Pick a date, or leave it empty."
    )

    markdown_hint = _MARKDOWN_HINT

    def values(self) -> dict[str, Any]:
        return {
            "learner": Role(self.learner.data),
            "title": self.title.data.strip(),
            "why": (self.why.data or "").strip(),
            "success": (self.success.data or "").strip(),
            "target_on": self.target_on.data,
        }


class NewGoalForm(IdempotentForm, GoalForm):
    """A new goal: carries an idempotency key, so a double tap adds it once."""


class EditGoalForm(VersionedForm, GoalForm):
    """Editing a goal: carries the version it was loaded at, so a stale save is caught."""


def _learners(membership: PairMember) -> list[SelectChoice]:
    partner = membership.partner()
    return [
        SelectChoice(membership.role.value, "Yours"),
        SelectChoice(partner.role.value, f"{partner.user.first_name}'s"),
    ]


def new_goal_form(membership: PairMember, *, from_request: bool = False) -> NewGoalForm:
    """The form for a new goal; blank, it suggests a goal of the person writing it."""
    form = NewGoalForm(prefix="new") if from_request else NewGoalForm.blank(prefix="new", learner=membership.role.value)
    form.learner.choices = _learners(membership)
    return form


def edit_goal_form(membership: PairMember, goal: Goal, *, from_request: bool = False) -> EditGoalForm:
    """The edit form of ``goal``: from what was submitted, or filled with what is stored."""
    prefix = f"goal-{goal.id}"
    if from_request:
        form = EditGoalForm(prefix=prefix)
    else:
        form = EditGoalForm.blank(
            prefix=prefix,
            data={
                "learner": goal.learner.value,
                "title": goal.title,
                "why": goal.why,
                "success": goal.success,
                "target_on": goal.target_on,
                "version": str(goal.version),
            },
        )
    form.learner.choices = _learners(membership)
    return form


class MilestoneForm(IdempotentForm, Form):
    title = StringField(
        "New milestone",
        validators=[
            DataRequired("Write the milestone: one small step."),
            Length(max=GOAL_TITLE_MAX, message=f"Keep a milestone under {GOAL_TITLE_MAX} characters."),
        ],
    )


def milestone_form(goal_id: int, *, from_request: bool = False) -> MilestoneForm:
    prefix = f"goal-{goal_id}-milestone"
    return MilestoneForm(prefix=prefix) if from_request else MilestoneForm.blank(prefix=prefix)


class MoveForm(Form):
    """One button of a goal's "move to" group: where it goes, and where the page showed it."""

    status = RadioField(
        choices=[SelectChoice(s.value, s.label) for s in GoalStatus],
        validators=[InputRequired()],
    )
    shown = HiddenField()

    def shown_status(self) -> GoalStatus | None:
        try:
            return GoalStatus(self.shown.data)
        except ValueError:
            return None

"""Forms for the journal. The log form's choices (topics, who, goals) are the pair's own, filled in
by the view; an id from anywhere else is refused by the choice check or ignored by the query."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from wtforms import (
    DateField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms import Form, VersionedForm
from app.idempotency import IdempotentForm
from app.models import ACTION_MAX, TEXT_MAX, TOPIC_MAX, MeetingFormat, PairMember
from app.numbers import IntRange

ACTION_ROWS = 1  # one empty row on a new log form, not a wall of them: "Add another action" adds the next
MAX_ACTION_ROWS = 20
SEARCH_MAX = 200

_DATE_MESSAGE = "Use a date like 2026-03-14."
_TEXT = [Length(max=TEXT_MAX, message=f"Keep it under {TEXT_MAX:,} characters: a few short paragraphs.")]


class TopicForm(IdempotentForm, Form):
    """The quick-add topic box on the pair's home."""

    text = StringField(
        "A topic for next time",
        validators=[
            DataRequired("Write the topic first."),
            Length(
                max=TOPIC_MAX, message=f"Keep it under {TOPIC_MAX} characters: the details can wait for the meeting."
            ),
        ],
    )


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class _MeetingFields(Form):
    held_on = DateField("Date", validators=[DataRequired(_DATE_MESSAGE)])
    length_minutes = IntegerField(
        "How long, in minutes",
        validators=[Optional(), NumberRange(min=1, max=720, message="Between 1 minute and 12 hours.")],
    )
    format = RadioField(
        "How you met",
        choices=[SelectChoice(f.value, f.label) for f in MeetingFormat],
        default=MeetingFormat.VIDEO.value,
        validators=[InputRequired("Choose how you met.")],
    )
    notes = TextAreaField("Shared notes", validators=_TEXT)

    def validate_held_on(self, field) -> None:
        # A day of slack: the person logging may be a time zone ahead of the server.
        if field.data and field.data > date.today() + timedelta(days=1):
            raise ValidationError("That date hasn't come yet. Log a meeting once it has happened.")

    def meeting_values(self) -> dict[str, Any]:
        return {
            "held_on": self.held_on.data,
            "length_minutes": self.length_minutes.data,
            "format": MeetingFormat(self.format.data),
            "notes": (self.notes.data or "").strip(),
        }


class ActionRowForm(Form):
    """One action item row of the log form. Nested, so the outer form's token covers it."""

    class Meta:
        csrf = False

    text = StringField("What", validators=[Length(max=ACTION_MAX, message=f"Keep it under {ACTION_MAX} characters.")])
    owner = SelectField("Who", choices=[SelectChoice("", "Both of us")], default="")
    due_on = DateField("Due", validators=[Optional()])
    goal = SelectField("Towards a goal", choices=[SelectChoice("", "No goal")], default="")

    def validate_text(self, field) -> None:
        if not (field.data or "").strip() and (self.due_on.data or self.goal.data or self.owner.data):
            raise ValidationError("Say what the action is, or clear this row.")

    def is_blank(self) -> bool:
        return not (self.text.data or "").strip()

    def values(self) -> dict[str, Any]:
        return {
            "text": self.text.data.strip(),
            "owner_id": _int_or_none(self.owner.data),
            "due_on": self.due_on.data,
            "goal_id": _int_or_none(self.goal.data),
        }


class LogMeetingForm(IdempotentForm, _MeetingFields):
    # Rendered by hand from the open topics; an id that is no longer open is simply not covered.
    covered = SelectMultipleField(
        "Topics you covered", coerce=int, choices=[], validate_choice=False, validators=[IntRange()]
    )
    actions = FieldList(FormField(ActionRowForm), min_entries=ACTION_ROWS, max_entries=MAX_ACTION_ROWS)
    reflection = TextAreaField("Your private reflection", validators=_TEXT)

    def offer(self, members: list[PairMember], goals: list[tuple[int, str]]) -> LogMeetingForm:
        """Fill each action row's choices with this pair's people and goals."""
        owners = [SelectChoice("", "Both of us")] + [
            SelectChoice(str(m.user_id), f"{m.user.first_name} ({m.role.value})") for m in members
        ]
        goal_choices = [SelectChoice("", "No goal")] + [SelectChoice(str(goal_id), title) for goal_id, title in goals]
        for row in self.actions:
            row.form.owner.choices = owners
            row.form.goal.choices = goal_choices
        self._owners, self._goals = owners, goal_choices
        return self

    def add_row(self) -> bool:
        """One more empty action row, up to the limit. False when the limit is reached."""
        if len(self.actions) >= MAX_ACTION_ROWS:
            return False
        row = self.actions.append_entry()
        row.form.owner.choices = self._owners
        row.form.goal.choices = self._goals
        return True

    def action_values(self) -> list[dict[str, Any]]:
        return [row.form.values() for row in self.actions if not row.form.is_blank()]


class EditMeetingForm(VersionedForm, _MeetingFields):
    pass


def edit_form_for(meeting, values: dict[str, Any] | None = None) -> EditMeetingForm:
    """The edit form for ``meeting``, filled with what is stored, or with ``values`` over the
    stored version (an unsaved edit shown beside a newer save)."""
    data = {
        "held_on": meeting.held_on,
        "length_minutes": meeting.length_minutes,
        "format": meeting.format.value,
        "notes": meeting.notes,
        **(values or {}),
        "version": str(meeting.version),
    }
    if isinstance(data["format"], MeetingFormat):
        data["format"] = data["format"].value
    return EditMeetingForm.blank(data=data)


class ReflectionForm(VersionedForm):
    """A person's private reflection on one meeting. Prefixed with the meeting, so a page of
    entries can hold one for each. Its version is 0 while there is none."""

    body = TextAreaField("Your private reflection", validators=_TEXT)


def reflection_form(
    meeting_id: int, mine=None, *, from_request: bool = False, body: str | None = None
) -> ReflectionForm:
    """The reflection form of one meeting: from what was submitted, or showing ``mine`` (the
    stored reflection, or None), or ``body`` typed over ``mine``'s version (after a conflict)."""
    prefix = f"reflection-{meeting_id}"
    if from_request:
        return ReflectionForm(prefix=prefix)
    stored = mine.body if mine is not None else ""
    version = mine.version if mine is not None else 0
    return ReflectionForm.blank(prefix=prefix, data={"body": stored if body is None else body, "version": str(version)})


class SearchForm(Form):
    """Search reads the query string, so it carries no token (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        "Search your journal, goals and topics",
        validators=[Length(max=SEARCH_MAX, message=f"Search for something shorter: under {SEARCH_MAX} characters.")],
    )

"""Forms of the admin area: a program's set-up, adding a participant, importing a CSV of them,
making a pair, and answering a request for help."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.forms import Form, email_field, longest, number_between, strip
from app.idempotency import IdempotentForm
from app.models import (
    DEFAULT_EPSILON_PER_RELEASE,
    DEFAULT_EPSILON_PER_YEAR,
    DEFAULT_PRIVACY_THRESHOLD,
    DEFAULT_RETENTION_MONTHS,
    DEPARTMENT_MAX,
    HELP_MAX,
    LEVEL_MAX,
    MIN_PRIVACY_THRESHOLD,
    RETENTION_MONTHS_MAX,
    Program,
    User,
)


def _given(field) -> bool:
    """Typed in, not left empty or missing from the form (then the field holds its default)."""
    return bool(field.raw_data and field.raw_data[0].strip()) and field.data is not None


def _finite(_form, field) -> None:
    # "nan" parses as a float and slips past NumberRange (every comparison with it is false).
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError("Enter a number.")


PROGRAM_NAME_MAX = Program.name.type.length
EPSILON_MIN = 0.1
EPSILON_PER_RELEASE_MAX = 10.0
EPSILON_PER_YEAR_MAX = 1000.0
NAME_MAX = User.name.type.length
EVERY_WEEKS_MAX = 12
# Far above any real program; it only stops a typo (500 for 5) from hiding every figure.
PRIVACY_THRESHOLD_MAX = 100


class ProgramForm(Form):
    name = StringField(
        "Program name",
        validators=[
            DataRequired("Give the program a name people will recognise."),
            longest(PROGRAM_NAME_MAX, "the name"),
        ],
    )
    starts_on = DateField(
        "Starts on",
        validators=[InputRequired("Pick the day the program starts.")],
        invalid_value_message="Pick a date.",
    )
    ends_on = DateField(
        "Ends on", validators=[InputRequired("Pick the day the program ends.")], invalid_value_message="Pick a date."
    )
    feedback_after_meeting = BooleanField("After each meeting a pair logs")
    feedback_every_weeks = IntegerField(
        "Also every so many weeks",
        validators=number_between(0, EVERY_WEEKS_MAX, f"Enter a number of weeks from 0 to {EVERY_WEEKS_MAX}."),
        default=4,
    )
    feedback_at_midpoint = BooleanField("At the program's midpoint")
    feedback_at_end = BooleanField("At the end of the program")
    privacy_threshold = IntegerField(
        "Privacy threshold (pairs)",
        validators=[
            InputRequired(f"Enter a number of pairs, at least {MIN_PRIVACY_THRESHOLD}."),
            NumberRange(
                MIN_PRIVACY_THRESHOLD,
                PRIVACY_THRESHOLD_MAX,
                f"Enter a number of pairs, at least {MIN_PRIVACY_THRESHOLD} (and at most {PRIVACY_THRESHOLD_MAX}): "
                "with fewer, a figure could point at one pair.",
            ),
        ],
        default=DEFAULT_PRIVACY_THRESHOLD,
    )
    # The dashboard's privacy budget (app/admin/snapshots.py): what each snapshot spends, and a year.
    epsilon_per_release = FloatField(
        "Privacy budget per snapshot (ε)",
        validators=[
            Optional(),
            _finite,
            NumberRange(
                EPSILON_MIN,
                EPSILON_PER_RELEASE_MAX,
                f"Enter a number from {EPSILON_MIN:g} to {EPSILON_PER_RELEASE_MAX:g}.",
            ),
        ],
        default=DEFAULT_EPSILON_PER_RELEASE,
    )
    epsilon_per_year = FloatField(
        "Privacy budget per year (ε)",
        validators=[
            Optional(),
            _finite,
            NumberRange(
                EPSILON_MIN, EPSILON_PER_YEAR_MAX, f"Enter a number from {EPSILON_MIN:g} to {EPSILON_PER_YEAR_MAX:g}."
            ),
        ],
        default=DEFAULT_EPSILON_PER_YEAR,
    )
    # Left empty, the program keeps what it had (12 months for a new one).
    retention_months = IntegerField(
        "Keep pairs' words after the end (months)",
        validators=[
            Optional(),
            NumberRange(1, RETENTION_MONTHS_MAX, f"Enter a number of months from 1 to {RETENTION_MONTHS_MAX}."),
        ],
        default=DEFAULT_RETENTION_MONTHS,
    )
    # Only when editing: a new program gets its own copy of the default set.
    prompt_set_id = SelectField("Feedback questions", coerce=int, validate_choice=True)

    def validate_ends_on(self, field: DateField) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("The program can't end before it starts.")

    def validate_epsilon_per_year(self, field: FloatField) -> None:
        per_release = self.epsilon_per_release.data
        if _given(field) != _given(self.epsilon_per_release):
            raise ValidationError("Give both budgets, a snapshot's and a year's.")
        if _given(field) and field.data < per_release:
            raise ValidationError("A year's budget can't be smaller than one snapshot's.")

    def values(self) -> dict[str, Any]:
        values = {
            "name": self.name.data.strip(),
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "feedback_after_meeting": self.feedback_after_meeting.data,
            "feedback_every_weeks": self.feedback_every_weeks.data,
            "feedback_at_midpoint": self.feedback_at_midpoint.data,
            "feedback_at_end": self.feedback_at_end.data,
            "privacy_threshold": self.privacy_threshold.data,
        }
        # Left empty, the budget stays as it is (a new program gets the defaults); it changes only
        # as a whole, so a snapshot's share can never pass the year's.
        if _given(self.epsilon_per_release) and _given(self.epsilon_per_year):
            values["epsilon_per_release"] = self.epsilon_per_release.data
            values["epsilon_per_year"] = self.epsilon_per_year.data
        if self.retention_months.data is not None:
            values["retention_months"] = self.retention_months.data
        if "prompt_set_id" in self._fields:
            values["prompt_set_id"] = self.prompt_set_id.data
        return values


class NewProgramForm(IdempotentForm, ProgramForm):
    """Creating a program: a double tap makes one."""


def new_program_form(*, from_request: bool = False) -> ProgramForm:
    """The set-up form of a new program: blank, it suggests every feedback moment."""
    form = (
        NewProgramForm()
        if from_request
        else NewProgramForm.blank(feedback_after_meeting=True, feedback_at_midpoint=True, feedback_at_end=True)
    )
    del form.prompt_set_id
    return form


def edit_program_form(
    program: Program, prompt_sets: list[tuple[int, str]], *, from_request: bool = False
) -> ProgramForm:
    """The set-up form of ``program``: from what was submitted, or filled with what is stored."""
    form = ProgramForm() if from_request else ProgramForm.blank(obj=program)
    form.prompt_set_id.choices = prompt_sets
    if not prompt_sets:
        del form.prompt_set_id
    return form


class ParticipantForm(IdempotentForm, Form):
    name = StringField(
        "Full name", validators=[DataRequired("Enter the person's name."), longest(NAME_MAX, "the name")]
    )
    email = email_field("Work email", "Enter the person's email address: their sign-in links go there.")
    department = StringField("Department", validators=[longest(DEPARTMENT_MAX, "the department")])
    level = StringField("Level", validators=[longest(LEVEL_MAX, "the level")])

    def values(self) -> dict[str, str]:
        return {
            "name": self.name.data.strip(),
            "email": self.email.data,
            "department": (self.department.data or "").strip(),
            "level": (self.level.data or "").strip(),
        }


class ImportForm(IdempotentForm, Form):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to import.")])


class PairForm(IdempotentForm, Form):
    mentor = SelectField("Mentor", coerce=int, invalid_choice_message="Choose the mentor from the list.")
    mentee = SelectField("Mentee", coerce=int, invalid_choice_message="Choose the mentee from the list.")

    def validate_mentor(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError("Choose the mentor.")

    def validate_mentee(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError("Choose the mentee.")
        if field.data == self.mentor.data:
            raise ValidationError("Choose two different people: nobody can mentor themselves.")


def pair_form(participants: list[tuple[int, str]], *, from_request: bool = False) -> PairForm:
    """Choose a mentor and a mentee among ``participants`` (participant id, label)."""
    form = PairForm() if from_request else PairForm.blank()
    # The empty first option makes the admin choose, rather than pairing the first two by default.
    choices = [(0, "Choose a person")] + participants
    form.mentor.choices = choices
    form.mentee.choices = choices
    return form


ANSWER_MAX = HELP_MAX
# A garbled version matches no stored answer: the save becomes a conflict, never an overwrite.
_NO_SUCH_VERSION = datetime.min.replace(tzinfo=UTC)


class AnswerForm(Form):
    """The admin's answer to one request for help; it carries when the answer it was drawn with
    was saved, so a save over another admin's newer answer is refused instead of replacing it."""

    answer = TextAreaField(
        "Your answer",
        filters=[strip],
        validators=[
            DataRequired("Write your answer: it reaches only the person who asked."),
            Length(max=ANSWER_MAX, message=f"Keep it under {ANSWER_MAX:,} characters."),
        ],
    )
    answered_at = HiddenField()

    def base(self) -> datetime | None:
        """The answered_at the form was drawn with (None: there was no answer yet)."""
        value = self.answered_at.data or ""
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return _NO_SUCH_VERSION
        return moment if moment.tzinfo is not None else _NO_SUCH_VERSION


def answer_form_prefix(request_id: int) -> str:
    # Each request on the page has its own form: distinct ids, and a POST names its request.
    return f"request-{request_id}-"


def answer_form(request_id: int, answer: str = "", answered_at: datetime | None = None) -> AnswerForm:
    """The answer form of one request as drawn: with the stored answer and its moment."""
    return AnswerForm.blank(
        prefix=answer_form_prefix(request_id),
        answer=answer,
        answered_at=answered_at.isoformat() if answered_at else "",
    )


class AdminForm(Form):
    """An owner naming a program admin: someone new, or a person who already has an account."""

    name = StringField("Full name", validators=[DataRequired("Enter the admin's name."), longest(NAME_MAX, "the name")])
    email = email_field("Work email", "Enter the admin's email address: their sign-in links go there.")

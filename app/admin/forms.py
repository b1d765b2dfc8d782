"""Forms of the admin area: a program's set-up, adding a participant, importing a CSV of them,
making a pair, and answering a request for help."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
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

from app.forms import EmailAddress, Form
from app.idempotency import IdempotentForm
from app.models import (
    DEFAULT_PRIVACY_THRESHOLD,
    DEFAULT_RETENTION_MONTHS,
    EMAIL_MAX,
    HELP_MAX,
    MIN_PRIVACY_THRESHOLD,
    RETENTION_MONTHS_MAX,
    Participant,
    Program,
    User,
)

PROGRAM_NAME_MAX = Program.name.type.length
NAME_MAX = User.name.type.length
DEPARTMENT_MAX = Participant.department.type.length
LEVEL_MAX = Participant.level.type.length
EVERY_WEEKS_MAX = 12
# Far above any real program; it only stops a typo (500 for 5) from hiding every figure.
PRIVACY_THRESHOLD_MAX = 100


def _longest(limit: int, what: str) -> Length:
    return Length(max=limit, message=f"Keep the {what} to {limit} characters or fewer.")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class ProgramForm(Form):
    name = StringField(
        "Program name",
        validators=[DataRequired("Give the program a name people will recognise."), _longest(PROGRAM_NAME_MAX, "name")],
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
        validators=[
            InputRequired("Enter a number of weeks from 0 to 12."),
            NumberRange(0, EVERY_WEEKS_MAX, f"Enter a number of weeks from 0 to {EVERY_WEEKS_MAX}."),
        ],
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
    name = StringField("Full name", validators=[DataRequired("Enter the person's name."), _longest(NAME_MAX, "name")])
    email = EmailField(
        "Work email",
        # Addresses pasted from a spreadsheet or a mail often bring spaces along.
        filters=[_strip],
        validators=[
            DataRequired("Enter the person's email address: their sign-in links go there."),
            Length(max=EMAIL_MAX, message="That is longer than any email address can be."),
            EmailAddress(),
        ],
    )
    department = StringField("Department", validators=[_longest(DEPARTMENT_MAX, "department")])
    level = StringField("Level", validators=[_longest(LEVEL_MAX, "level")])

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
        filters=[_strip],
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

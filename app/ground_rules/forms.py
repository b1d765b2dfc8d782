"""Forms for the ground rules. Each clause form carries the version it was loaded at."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.dates import iso_date
from app.forms import Form, VersionedForm, planned_length
from app.idempotency import IdempotentForm
from app.models import BODY_MAX, TITLE_MAX, Cadence, Clause, ClauseKind

_TITLE = [
    DataRequired("Give the clause a title."),
    Length(max=TITLE_MAX, message=f"Keep the title under {TITLE_MAX} characters."),
]
_BODY = [Length(max=BODY_MAX, message=f"Keep it under {BODY_MAX:,} characters: a few short paragraphs.")]


class _ClauseForm(VersionedForm):
    title = StringField("Title", validators=_TITLE)

    def values(self) -> dict[str, Any]:
        return {"title": self.title.data.strip()}


class TextClauseForm(_ClauseForm):
    body = TextAreaField("What you agree", validators=_BODY)

    def values(self) -> dict[str, Any]:
        return {**super().values(), "body": (self.body.data or "").strip()}


class RhythmClauseForm(_ClauseForm):
    cadence = SelectField("How often", choices=[SelectChoice(c.value, c.label.capitalize()) for c in Cadence])
    custom = StringField(
        "If custom, describe it", validators=[Length(max=200, message="Keep it under 200 characters.")]
    )
    length_minutes = planned_length()

    def validate_custom(self, field) -> None:
        if self.cadence.data == Cadence.CUSTOM and not (field.data or "").strip():
            raise ValidationError("Describe how often you meet, for example “twice a month, more before launches”.")

    def values(self) -> dict[str, Any]:
        fields = {
            "cadence": self.cadence.data,
            "custom": (self.custom.data or "").strip(),
            "length_minutes": self.length_minutes.data,
        }
        return {**super().values(), "fields": fields}


class DatesClauseForm(_ClauseForm):
    midpoint = DateField("Midpoint review", validators=[Optional()])
    end = DateField("End", validators=[Optional()])

    def validate_end(self, field) -> None:
        if field.data and self.midpoint.data and field.data < self.midpoint.data:
            raise ValidationError("The end comes after the midpoint review.")

    def values(self) -> dict[str, Any]:
        iso = lambda d: d.isoformat() if d else ""  # noqa: E731
        return {**super().values(), "fields": {"midpoint": iso(self.midpoint.data), "end": iso(self.end.data)}}


FORMS: dict[ClauseKind, type[_ClauseForm]] = {
    ClauseKind.TEXT: TextClauseForm,
    ClauseKind.RHYTHM: RhythmClauseForm,
    ClauseKind.DATES: DatesClauseForm,
}


def _ids(form: Form, prefix: str) -> Form:
    """Give the form's inputs ids of their own (``prefix`` + name): a clause being edited and the
    "Add a clause" box are on the page together, and a label must name its own input."""
    for bound in form:
        bound.id = f"{prefix}{bound.name}"
        bound.label.field_id = bound.id
    return form


def form_for(clause: Clause, *, from_request: bool = False, values: dict[str, Any] | None = None) -> _ClauseForm:
    """The edit form for ``clause``: bound to the submitted data (only in the view handling the
    POST), or drawn blank, filled with ``values`` (a conflicting draft, say) or with what is stored."""
    form_class = FORMS[clause.kind]
    if from_request:
        return _ids(form_class(), f"clause-{clause.id}-")
    data: dict[str, Any] = {"title": clause.title, "version": str(clause.version), "body": clause.body}
    data.update((values or {}).get("fields") or clause.fields or {})
    if values:
        data.update({k: v for k, v in values.items() if k != "fields"})
    for key in ("midpoint", "end"):
        if isinstance(data.get(key), str):
            data[key] = iso_date(data[key])
    return _ids(form_class.blank(**data), f"clause-{clause.id}-")


class NewClauseForm(IdempotentForm, Form):
    title = StringField("Title", validators=_TITLE)
    body = TextAreaField("What you agree", validators=_BODY)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _ids(self, "new-clause-")


class AgreeForm(Form):
    version = HiddenField(validators=[InputRequired()])


def restore_form(dropped: Clause, *, title: str, body: str) -> NewClauseForm:
    """The "Add it back" box drawn in place of a clause the partner dropped while it was being
    edited, holding what was typed (its inputs named apart from the "Add a clause" box's)."""
    return _ids(NewClauseForm.blank(title=title, body=body), f"clause-{dropped.id}-restore-")

"""The base of every form in Twoway."""

from __future__ import annotations

import re
from typing import Self

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, FieldList, FormField, HiddenField, IntegerField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.models.user import EMAIL_MAX, valid_email
from app.numbers import bounded_int

# C0 control characters other than tab, newline and carriage return. PostgreSQL refuses NUL in
# text, and none of them can be shown, so they never reach a view or the database.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def drop_control_characters(value: object) -> object:
    return _CONTROL.sub("", value) if isinstance(value, str) else value


class Form(FlaskForm):
    """A CSRF-protected form whose text inputs are cleaned of control characters.

    Build a form with ``Form()`` only in the view that handles its POST; build every form that is
    only drawn with ``Form.blank()``.
    """

    @classmethod
    def blank(cls, obj: object | None = None, **data: object) -> Self:
        """A form drawn only to be shown, filled from ``obj`` and ``data``: it never binds to the
        request, so the words of a failed or finished POST can't leak into it (a topic box that
        keeps the topic just added invites duplicates; a stale version makes every press a 409)."""
        return cls(formdata=None, obj=obj, **data)

    class Meta:
        def bind_field(self, form, unbound_field, options):
            # Add the filter for this binding only: the unbound field is shared by every instance.
            # Enclosures (FieldList, FormField) take no filters; their inner fields get their own.
            if not issubclass(unbound_field.field_class, (FieldList, FormField)):
                options = {**options, "filters": (drop_control_characters, *unbound_field.kwargs.get("filters", ()))}
            return super().bind_field(form, unbound_field, options)


class VersionedForm(Form):
    """A form that edits something two people share: it carries the version it was loaded at, so
    a save over a newer version can be refused as a conflict instead of overwriting it."""

    version = HiddenField()

    def base_version(self) -> int:
        # A missing or garbled version matches no stored one: the save becomes a conflict, which
        # shows both versions and carries the current one, rather than a dead end.
        return bounded_int(self.version.data) or 0


class EmptyForm(Form):
    """A one-button POST: it still carries the CSRF token."""


class EmailAddress:
    """The email check of every form: ``valid_email``, with the app's own words."""

    def __init__(self, message: str = "That doesn't look like an email address. Check for a typo.") -> None:
        self.message = message

    def __call__(self, _form: FlaskForm, field: Field) -> None:
        if field.data and not valid_email(field.data):
            raise ValidationError(self.message)


def strip(value: object) -> object:
    """A filter for text pasted from a spreadsheet, a mail or a slide, which often brings spaces along."""
    return value.strip() if isinstance(value, str) else value


def email_field(label: str, required: str) -> EmailField:
    """The email address of every form: spaces around it dropped, ``required`` said when it is
    empty, and checked as ``valid_email`` checks it."""
    return EmailField(
        label,
        filters=[strip],
        validators=[
            DataRequired(required),
            Length(max=EMAIL_MAX, message="That is longer than any email address can be."),
            EmailAddress(),
        ],
    )


def longest(limit: int, what: str) -> Length:
    """At most ``limit`` characters, saying so about ``what`` ("the department")."""
    return Length(max=limit, message=f"Keep {what} to {limit} characters or fewer.")


def number_between(low: int, high: int, message: str) -> list:
    """Validators of a number that must be given and lie from ``low`` to ``high``, one
    ``message`` for both: an empty box and a number out of range need the same words."""
    return [InputRequired(message), NumberRange(low, high, message)]


def planned_length() -> IntegerField:
    """How long a planned meeting takes, if they say: the ground rules' rhythm and the next
    meeting ask it alike."""
    return IntegerField(
        "How long, in minutes",
        validators=[Optional(), NumberRange(min=10, max=480, message="Between 10 minutes and 8 hours.")],
    )

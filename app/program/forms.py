"""The form for asking the program's admin for help."""

from __future__ import annotations

from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import Form, email_field
from app.idempotency import IdempotentForm
from app.models import HELP_MAX


class HelpForm(IdempotentForm, Form):
    message = TextAreaField(
        "What would you like help with?",
        validators=[
            DataRequired("Write a few words so the program knows how to help."),
            Length(max=HELP_MAX, message=f"Keep it under {HELP_MAX:,} characters."),
        ],
    )
    # Off unless the sender chooses: asking for help must feel safe.
    tell_partner = BooleanField(default=False)


class JoinForm(Form):
    """A program's join page: the person's own address, checked as the sign-in page checks it."""

    email = email_field("Your work email", "Enter the email address you use for Twoway.")

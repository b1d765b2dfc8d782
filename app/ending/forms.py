"""The forms of ending well: closing a pair early (with a private reason), and a closing reflection."""

from __future__ import annotations

from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length

from app.forms import Form
from app.models import CLOSING_MAX, REASON_MAX


class CloseForm(Form):
    reason = TextAreaField(
        "Why you're closing it (optional)",
        validators=[Length(max=REASON_MAX, message=f"Keep it under {REASON_MAX:,} characters.")],
    )
    share = BooleanField("Share this reason with the program's admin")


_LONG = [Length(max=CLOSING_MAX, message=f"Keep it under {CLOSING_MAX:,} characters: a few short paragraphs.")]


class ClosingReflectionForm(Form):
    learned = TextAreaField("What I learned", validators=_LONG)
    taught = TextAreaField("What I taught", validators=_LONG)
    keep_doing = TextAreaField("What I'll keep doing", validators=_LONG)

    def values(self) -> dict[str, str]:
        return {name: (getattr(self, name).data or "").strip() for name in ("learned", "taught", "keep_doing")}

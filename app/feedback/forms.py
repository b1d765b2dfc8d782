"""The answer form, built from the program's prompts: one field per prompt, and for each written
answer a "share with <partner>" box, unticked, so nothing written leaves its author by default."""

from __future__ import annotations

from typing import Any, ClassVar

from wtforms import BooleanField, HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from app.forms import Form
from app.idempotency import IdempotentForm
from app.models import ANSWER_MAX, Prompt, PromptKind

SCALE = [str(n) for n in range(1, 6)]
YES_NO = {"yes": "Yes", "no": "No"}


def _one_of(allowed: list[str]):
    """A choice that may be left empty; anything sent that isn't offered is refused."""

    def check(_form, field) -> None:
        if field.data not in (None, "") and field.data not in allowed:
            raise ValidationError("Choose one of the answers offered.")

    return check


class AnswerForm(IdempotentForm, Form):
    """Answers to one round. Every prompt may be skipped, but not all of them. It carries an
    idempotency key, so a double tap or a retry stores one set of answers and answers the same."""

    round = HiddenField()
    prompts: ClassVar[list[Prompt]] = []  # replaced on each instance by answer_form()

    def answer_field(self, prompt: Prompt):
        return self[f"p{prompt.id}"]

    def share_field(self, prompt: Prompt):
        return self[f"share{prompt.id}"]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.answers():
            self.form_errors.append("Answer at least one question, or leave this check-in for another time.")
            return False
        return valid

    def answers(self) -> list[dict[str, Any]]:
        """What to store: one row per prompt answered. Scores and yes/no are revealed to the
        partner like a shared answer (once both answered); written answers only when ticked."""
        rows = []
        for prompt in self.prompts:
            value = self.answer_field(prompt).data
            if prompt.kind == PromptKind.SCALE and value in SCALE:
                rows.append({"prompt_id": prompt.id, "score": int(value), "shared": True})
            elif prompt.kind == PromptKind.YES_NO and value in ("yes", "no"):
                rows.append({"prompt_id": prompt.id, "yes": value == "yes", "shared": True})
            elif prompt.kind == PromptKind.TEXT and (value or "").strip():
                shared = bool(self.share_field(prompt).data)
                rows.append({"prompt_id": prompt.id, "text": value.strip(), "shared": shared})
        return rows


def answer_form(prompts: list[Prompt], partner_name: str, round_key: str, from_request: bool = False) -> AnswerForm:
    """The form for ``prompts`` and round ``round_key``: empty, or filled from the request."""
    fields: dict[str, Any] = {}
    for prompt in prompts:
        name = f"p{prompt.id}"
        if prompt.kind == PromptKind.SCALE:
            fields[name] = RadioField(
                prompt.text,
                choices=[SelectChoice(n, n) for n in SCALE],
                validate_choice=False,
                validators=[_one_of(SCALE)],
            )
        elif prompt.kind == PromptKind.YES_NO:
            fields[name] = RadioField(
                prompt.text,
                choices=[SelectChoice(v, label) for v, label in YES_NO.items()],
                validate_choice=False,
                validators=[_one_of(list(YES_NO))],
            )
        else:
            fields[name] = TextAreaField(
                prompt.text,
                validators=[
                    Length(
                        max=ANSWER_MAX, message=f"Keep it under {ANSWER_MAX:,} characters: a few sentences is plenty."
                    )
                ],
            )
            fields[f"share{prompt.id}"] = BooleanField(f"Share with {partner_name}")
    form_class = type("PromptAnswerForm", (AnswerForm,), fields)
    form = form_class() if from_request else form_class.blank()
    form.prompts = prompts
    # The round comes from the page's own choice, never trusted from the form alone.
    form.round.data = round_key
    return form

"""The feedback section: answer the check-ins that are due, and read back each round once both
partners answered. Registered under the ``pair`` blueprint, which has already loaded the
membership (or answered 404); what each person may read is decided in ``rounds._readable``."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, request, url_for

from app import authz, htmx
from app.extensions import db
from app.feedback import rounds
from app.feedback.forms import AnswerForm, answer_form
from app.models import PromptKind
from app.next_meeting.pace import pace

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

TEMPLATE = "feedback/index.html"
FORM_BLOCK = "answer_form"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"PromptKind": PromptKind}


def _partner_name() -> str:
    return authz.current_membership().partner().user.first_name


def _form_context(
    current: rounds.Round | None,
    asked: rounds.Asked,
    data: rounds.Facts | rounds.Page,
    today: date,
    form: AnswerForm | None = None,
) -> dict[str, Any]:
    """What the answer form block needs, whether it is rendered alone or inside the page."""
    found_pace = data.pace if isinstance(data, rounds.Page) else pace(data.rhythm, data.last_met_on, today)
    if current is not None and form is None:
        form = answer_form(asked.prompts, _partner_name(), current.key)
    return {
        "current": current,
        "asked": asked,
        "form": form,
        "rhythm_line": rounds.rhythm_words(data.rhythm, found_pace, _partner_name()),
    }


def _page(today: date, chosen: str | None = None, form: AnswerForm | None = None, status: int = 200) -> Response:
    membership = authz.current_membership()
    if membership.pair.program.prompt_set_id is None:
        # Nothing to ask yet: the page says so without reading anything else.
        return htmx.render(TEMPLATE, status=status, program=membership.pair.program)
    data = rounds.page(membership, today)
    current = next((r for r in data.due if r.key == chosen), data.due[0] if data.due else None)
    asked = rounds.asked(membership, current.key) if current else rounds.Asked([], False, False)
    return htmx.render(
        TEMPLATE,
        status=status,
        data=data,
        program=membership.pair.program,
        **_form_context(current, asked, data, today, form),
    )


@bp.get("")
def index() -> Response:
    today = date.today()
    chosen = request.args.get("round", "")[:40]
    if htmx.target() == FORM_BLOCK and chosen:
        # The form for another due round, swapped in place: four queries, not the whole page's.
        membership = authz.current_membership()
        found = rounds.facts(membership.pair_id, today)
        current = next((r for r in rounds.open_rounds(membership.pair.program, found, today) if r.key == chosen), None)
        if current is not None and membership.pair.program.prompt_set_id is not None:
            asked = rounds.asked(membership, current.key)
            if not asked.i_answered:
                return htmx.render(TEMPLATE, FORM_BLOCK, **_form_context(current, asked, found, today))
    return _page(today, chosen)


@bp.post("")
def answer() -> Response:
    membership = authz.current_membership()
    program = membership.pair.program
    today = date.today()
    key = (request.form.get("round") or "")[:40]
    found = rounds.facts(membership.pair_id, today)
    current = next((r for r in rounds.open_rounds(program, found, today) if r.key == key), None)
    if current is None or program.prompt_set_id is None:
        flash(
            "That check-in has closed, as newer ones came along, so nothing was saved. The latest one is below.",
            "error",
        )
        return htmx.redirect(url_for(".index"))
    asked = rounds.asked(membership, current.key)
    if asked.i_answered:
        flash("You had already answered this check-in, so nothing changed.", "success")
        return htmx.redirect(url_for(".index") + f"#round-{current.key}")
    form = answer_form(asked.prompts, _partner_name(), current.key, from_request=True)
    if not form.validate():
        if htmx.target() == FORM_BLOCK:
            return htmx.render(TEMPLATE, FORM_BLOCK, status=422, **_form_context(current, asked, found, today, form))
        return _page(today, current.key, form, status=422)
    if rounds.submit(membership, current.key, form.answers()):
        db.session.commit()
        partner = _partner_name()
        flash(
            f"Thank you: saved. {partner} has answered too, so you can both see what you shared."
            if asked.partner_answered
            else f"Thank you: saved. Once {partner} answers too, you'll both see what you shared.",
            "success",
        )
    else:
        flash("You had already answered this check-in, so nothing changed.", "success")
    return htmx.redirect(url_for(".index") + f"#round-{current.key}")

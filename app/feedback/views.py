"""The feedback section: answer the check-ins that are due, and read back each round once both
partners answered. Registered under the ``pair`` blueprint, which has already loaded the
membership (or answered 404); what each person may read is decided in ``authz.readable_feedback``."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, request, url_for

from app import authz, htmx
from app.feedback import rounds
from app.feedback.forms import AnswerForm, answer_form
from app.idempotency import idempotent
from app.models import PromptKind
from app.models.feedback import ROUND_KEY_MAX
from app.next_meeting.pace import pace
from app.pairs import badges

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

TEMPLATE = "feedback/index.html"
# The whole section (after an answer: the thanks, what is due next and what was answered), or
# just the form (another due round, picked from "Also waiting").
BLOCKS = ("feedback", "answer_form")


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


def _page_context(
    today: date,
    chosen: str | None = None,
    *,
    current: rounds.Round | None = None,
    form: AnswerForm | None = None,
    saved: str | None = None,
    again: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """The whole section: the form for ``current`` (or the due round ``chosen``, or the latest
    due), and the thanks for round ``saved`` when the viewer has answered it (``again``: it had
    been answered already, from another tab, so this submission was not stored)."""
    membership = authz.current_membership()
    if membership.pair.program.prompt_set_id is None:
        # Nothing to ask yet: the page says so without reading anything else.
        return {"program": membership.pair.program, **extra}
    data = rounds.page(membership, today)
    if current is None:
        current = next((r for r in data.due if r.key == chosen), data.due[0] if data.due else None)
    asked = rounds.asked(membership, current.key) if current else rounds.Asked([], False, False)
    return {
        "data": data,
        "program": membership.pair.program,
        # Thanks only for a round the viewer really answered: the address alone proves nothing.
        "saved": next((done for done in data.answered if done.round.key == saved), None),
        "again": again,
        **_form_context(current, asked, data, today, form),
        **extra,
    }


@bp.get("")
def index() -> Response:
    today = date.today()
    chosen = request.args.get("round", "")[:ROUND_KEY_MAX]
    if htmx.chosen_block(("answer_form",)) and chosen:
        # The form for another due round, swapped in place: four queries, not the whole page's.
        membership = authz.current_membership()
        found = rounds.facts(membership.pair_id, today)
        current = next((r for r in rounds.open_rounds(membership.pair.program, found, today) if r.key == chosen), None)
        if current is not None and membership.pair.program.prompt_set_id is not None:
            asked = rounds.asked(membership, current.key)
            if not asked.i_answered:
                return htmx.render(TEMPLATE, blocks=("answer_form",), **_form_context(current, asked, found, today))
    saved = request.args.get("saved", "")[:ROUND_KEY_MAX] or None
    return htmx.render(TEMPLATE, **_page_context(today, chosen, saved=saved))


@bp.post("")
@idempotent
def answer() -> Response:
    """Store the viewer's answers to the round the form was opened for. Answers to a round that
    lapsed while they were typed are kept too (``rounds.answerable``); a double tap or a retry
    gets the first answer again (``@idempotent``), and a second tab finds the round answered and
    gets its words back."""
    membership = authz.current_membership()
    program = membership.pair.program
    today = date.today()
    key = (request.form.get("round") or "")[:ROUND_KEY_MAX]
    found = rounds.facts(membership.pair_id, today)
    current = rounds.answerable(program, membership.pair_id, found, key, today)
    if current is None:
        # Not a round this pair was ever asked (a garbled or hand-made form): nothing is saved,
        # and what was typed comes back in the latest check-in's form, to save there.
        return _refused(today, notice="unknown-round")
    asked = rounds.asked(membership, current.key)
    form = answer_form(asked.prompts, _partner_name(), current.key, from_request=True)
    if asked.i_answered:
        return _already_answered(today, current, form)
    if not form.validate():
        return htmx.render(TEMPLATE, blocks=BLOCKS, status=422, **_page_context(today, current=current, form=form))
    if not rounds.submit(membership, current.key, form.answers()):
        return _already_answered(today, current, form)
    # The Check-in tab's badge counts one fewer now.
    return badges.with_fresh_tabs(
        htmx.after_write(
            url_for(".index", saved=current.key) + f"#round-{current.key}",
            TEMPLATE,
            blocks=BLOCKS,
            # The thanks come from the stored state (the address names the round), so a replayed
            # answer shows them too.
            context=lambda: _page_context(today, saved=current.key),
        )
    )


def _already_answered(today: date, current: rounds.Round, form: AnswerForm) -> Response:
    """The round was answered from another tab or device first. Answers are never overwritten,
    so these are not stored; they come back in the form (409), to copy from, beside the ones saved."""
    return htmx.render(
        TEMPLATE,
        blocks=BLOCKS,
        status=409,
        **_page_context(today, current=current, form=form, saved=current.key, again=True),
    )


def _refused(today: date, notice: str) -> Response:
    context = _page_context(today, notice=notice)
    if context.get("current") is not None:
        context["form"] = answer_form(
            context["asked"].prompts, _partner_name(), context["current"].key, from_request=True
        )
    return htmx.render(TEMPLATE, blocks=BLOCKS, status=422, **context)

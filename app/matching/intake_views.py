"""``/programs/<id>/intake``: a participant's own intake answers, on their phone.

Access is ``authz.intake_participant``: the signed-in person's own place in the program, or 404.
The page says beside each question who reads the answer. Once the person is in a pair of the
program, the answers are shown but no longer changed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, url_for

from app import authz, htmx
from app.extensions import db
from app.matching import intake
from app.matching.forms import intake_form
from app.models import Program
from app.models.user import time_zone_names

bp = Blueprint("intake", __name__, url_prefix="/programs/<int:program_id>/intake")
TEMPLATE = "matching/intake.html"


def _context(program_id: int, **extra: Any) -> dict[str, Any]:
    participant = authz.intake_participant(program_id)
    settings = intake.settings_for(program_id)
    answers = intake.intake_of(participant.id)
    context = {
        "program": db.session.get(Program, program_id),
        "participant": participant,
        "settings": settings,
        "answers": answers,
        "questions": intake.asked(settings),
        "matched": authz.matched_in(program_id, participant.user_id),
        "zones": sorted(time_zone_names()),
    }
    context["form"] = extra.pop("form", None) or intake_form(settings, participant, answers)
    return context | extra


@bp.get("")
def show(program_id: int) -> Response:
    return htmx.render(TEMPLATE, **_context(program_id))


@bp.post("")
def save(program_id: int) -> Response:
    context = _context(program_id)
    if context["matched"]:
        return htmx.render(TEMPLATE, status=409, **context)
    form = intake_form(context["settings"], context["participant"], context["answers"], from_request=True)
    if not form.validate():
        return htmx.render(TEMPLATE, status=422, **(context | {"form": form}))
    intake.save(context["participant"], form.values(), context["settings"])
    db.session.commit()
    return htmx.after_write(
        url_for(".show", program_id=program_id), notice="Saved. You can change your answers until you're matched."
    )

"""``/admin/programs/<id>/matching``: proposals, run and re-run, lock and reject, and the
program's intake form and matching rules.

Registered under the ``admin`` blueprint (app/admin/area.py), which has checked for an admin. A
proposal id from another program is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, request, url_for

from app import htmx
from app.admin import setup
from app.extensions import db
from app.matching import intake, proposals
from app.matching.forms import settings_form
from app.models import ProposalState

bp = Blueprint("matching", __name__, url_prefix="/programs/<int:program_id>/matching")
TEMPLATE = "matching/proposals.html"
SETTINGS_TEMPLATE = "matching/settings.html"
BLOCKS = ("proposals",)


def _number(name: str) -> int:
    return min(max(request.args.get(name, type=int, default=1), 1), proposals.MAX_PAGE)


def _context(program_id: int) -> dict[str, Any]:
    program = setup.get_program(program_id)
    page, left_page = _number("page"), _number("left")
    shown, more = proposals.page(program_id, page)
    run = proposals.latest_run(program_id)
    left, more_left = proposals.unmatched_page(run, left_page)
    return {
        "program": program,
        "proposals": shown,
        "page": page,
        "more": more,
        "run": run,
        "left": left,
        "left_page": left_page,
        "more_left": more_left,
        "counts": proposals.counts(program_id),
        "settings": intake.settings_for(program_id),
    }


@bp.get("")
def index(program_id: int) -> Response:
    return htmx.render(TEMPLATE, blocks=BLOCKS, **_context(program_id))


@bp.post("/run")
def run(program_id: int) -> Response:
    setup.get_program(program_id)
    result = proposals.run(program_id)
    db.session.commit()
    made = proposals.counts(program_id)
    flash(
        f"Proposed {made['proposed']} pair{'s' if made['proposed'] != 1 else ''}"
        f"{' beside ' + str(made['locked']) + ' locked' if made['locked'] else ''}; "
        f"{len(result.unmatched)} {'person' if len(result.unmatched) == 1 else 'people'} left unmatched.",
        "success",
    )
    return htmx.redirect(url_for(".index", program_id=program_id))


def _change(
    program_id: int, proposal_id: int, allowed_from: tuple[ProposalState, ...], to: ProposalState, notice: str
) -> Response:
    setup.get_program(program_id)
    proposal = proposals.get_proposal(program_id, proposal_id)
    if proposal is None:
        abort(404)
    if proposal.state in allowed_from:
        proposals.set_state(proposal, to)
        db.session.commit()
    return htmx.after_write(
        url_for(".index", program_id=program_id) + "#proposals",
        TEMPLATE,
        blocks=BLOCKS,
        context=lambda: _context(program_id),
        notice=notice,
    )


@bp.post("/proposals/<int:proposal_id>/lock")
def lock(program_id: int, proposal_id: int) -> Response:
    return _change(
        program_id, proposal_id, (ProposalState.PROPOSED,), ProposalState.LOCKED, "Locked: a re-run keeps it."
    )


@bp.post("/proposals/<int:proposal_id>/unlock")
def unlock(program_id: int, proposal_id: int) -> Response:
    return _change(
        program_id, proposal_id, (ProposalState.LOCKED,), ProposalState.PROPOSED, "Unlocked: a re-run may change it."
    )


@bp.post("/proposals/<int:proposal_id>/reject")
def reject(program_id: int, proposal_id: int) -> Response:
    return _change(
        program_id,
        proposal_id,
        (ProposalState.PROPOSED, ProposalState.LOCKED),
        ProposalState.REJECTED,
        "Rejected: these two won't be proposed again. Re-run to find both someone else.",
    )


@bp.get("/settings")
def settings(program_id: int) -> Response:
    program = setup.get_program(program_id)
    form = settings_form(intake.settings_for(program_id))
    return htmx.render(SETTINGS_TEMPLATE, program=program, form=form)


@bp.post("/settings")
def save_settings(program_id: int) -> Response:
    program = setup.get_program(program_id)
    stored = intake.settings_for(program_id)
    form = settings_form(stored, from_request=True)
    if not form.validate():
        return htmx.render(SETTINGS_TEMPLATE, status=422, program=program, form=form)
    for name, value in form.values().items():
        setattr(stored, name, value)
    db.session.add(stored)  # the shipped default is stored the first time the admin saves
    db.session.commit()
    flash("Saved the intake form and the matching rules.", "success")
    return htmx.redirect(url_for(".settings", program_id=program_id))

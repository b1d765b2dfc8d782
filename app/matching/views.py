"""``/admin/programs/<id>/matching``: proposals, run and re-run, lock, reject and swap, sending
locked proposals to their two people, and the program's intake form and matching rules.

Once sent, a proposal shows the admin only "waiting", "going ahead" or "not going ahead": never
either person's answer.

Registered under the ``admin`` blueprint (app/admin/area.py), which has checked for an admin. A
proposal id from another program is a 404.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, flash, request, url_for

from app import htmx
from app.admin import audit, setup
from app.extensions import db
from app.matching import answers, intake, proposals
from app.matching.forms import settings_form
from app.models import AuditAction, ProposalState
from app.numbers import page_number

bp = Blueprint("matching", __name__, url_prefix="/programs/<int:program_id>/matching")
TEMPLATE = "matching/proposals.html"
SETTINGS_TEMPLATE = "matching/settings.html"
SWAP_TEMPLATE = "matching/swap.html"
BLOCKS = ("proposals",)
SWAP_PER_PAGE = 20
VIEWS = {"open": proposals.OPEN, "sent": proposals.SENT}
# Why locked proposals stayed when the admin sent them all: for one, for several.
STAYED = {
    answers.NO_ROOM: (
        "its mentor or mentee has no room left (paired by hand since the run). Reject it and run again.",
        "their mentors or mentees have no room left (paired by hand since the run). Reject them and run again.",
    ),
    answers.NOT_JOINED: (
        "one of its two people hasn't joined Twoway yet. Share the join page, and send it once they have.",
        "one of their two people hasn't joined Twoway yet. Share the join page, and send them once they have.",
    ),
}


def _number(name: str) -> int:
    return page_number(proposals.MAX_PAGE, name)


def _view() -> str:
    view = request.args.get("view", "open")
    return view if view in VIEWS else "open"


def _context(program_id: int) -> dict[str, Any]:
    program = setup.get_program(program_id)
    page, left_page, view = _number("page"), _number("left"), _view()
    shown, more = proposals.page(program_id, page, VIEWS[view])
    run = proposals.latest_run(program_id)
    left, more_left = proposals.unmatched_page(run, left_page)
    return {
        "program": program,
        "proposals": shown,
        "view": view,
        "page": page,
        "more": more,
        "run": run,
        "left": left,
        "left_page": left_page,
        "more_left": more_left,
        "counts": proposals.counts(program_id),
        "answer_days": answers.ANSWER_DAYS,
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
    proposal = proposals.proposal_or_404(program_id, proposal_id)
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


def _index_url(program_id: int) -> str:
    args = {k: v for k, v in (("view", _view()), ("page", _number("page"))) if v not in ("open", 1)}
    return url_for(".index", program_id=program_id, **args) + "#proposals"


@bp.post("/proposals/<int:proposal_id>/send")
def send(program_id: int, proposal_id: int) -> Response:
    setup.get_program(program_id)
    proposal = proposals.proposal_or_404(program_id, proposal_id)
    if proposal.state != ProposalState.LOCKED:
        notice = "Only a locked proposal can be sent: lock it first."
    else:
        sending = answers.send(program_id, [proposal.id])
        if sending.sent:
            audit.record(program_id, AuditAction.PAIRS_PROPOSED, proposals=sending.sent)
            notice = "Sent to both. Each says yes or no privately; you'll see only whether it goes ahead."
        else:
            _, why = sending.refused.get(proposal.id, ("", "it is no longer locked."))
            notice = f"Not sent: {why}"
        db.session.commit()
    return htmx.after_write(
        _index_url(program_id), TEMPLATE, blocks=BLOCKS, context=lambda: _context(program_id), notice=notice
    )


@bp.post("/proposals/<int:proposal_id>/withdraw")
def withdraw(program_id: int, proposal_id: int) -> Response:
    setup.get_program(program_id)
    proposal = proposals.proposal_or_404(program_id, proposal_id)
    withdrawn = answers.withdraw(proposal)
    if withdrawn:
        audit.record(program_id, AuditAction.PROPOSAL_WITHDRAWN, proposals=1)
    db.session.commit()
    notice = (
        "Withdrawn. Both are told only that this match didn't go ahead, the same words as after a no."
        if withdrawn
        else "Not withdrawn: this proposal is no longer waiting for answers."
    )
    return htmx.after_write(
        _index_url(program_id), TEMPLATE, blocks=BLOCKS, context=lambda: _context(program_id), notice=notice
    )


@bp.post("/send-locked")
def send_locked(program_id: int) -> Response:
    setup.get_program(program_id)
    sending = answers.send(program_id)
    if sending.sent:
        audit.record(program_id, AuditAction.PAIRS_PROPOSED, proposals=sending.sent)
    db.session.commit()
    sent = sending.sent
    why = Counter(kind for kind, _ in sending.refused.values())
    if sent:
        notice = (
            f"Sent {sent} locked proposal{'s' if sent != 1 else ''} to both people. They have "
            f"{answers.ANSWER_DAYS} days to answer."
        )
    elif not why:
        notice = "There was no locked proposal to send. Lock the ones you want first."
    else:
        notice = "Nothing was sent."
    for kind, words in STAYED.items():
        if n := why[kind]:
            notice += f" {n} locked proposal{'s weren' if n != 1 else ' wasn'}'t sent: {words[n != 1]}"
    flash(notice, "success")
    return htmx.redirect(url_for(".index", program_id=program_id, view="sent"))


def _swap_context(program_id: int, proposal_id: int, **extra: Any) -> dict[str, Any]:
    program = setup.get_program(program_id)
    proposal = proposals.proposal_or_404(program_id, proposal_id)
    page = _number("page")
    name = request.args.get("q", "")[: proposals.NAME_QUERY_MAX]
    options: list[proposals.SwapOption] = []
    more = False
    if proposal.state == ProposalState.PROPOSED:
        others, more = proposals.page(
            program_id,
            page,
            (ProposalState.PROPOSED,),
            per_page=SWAP_PER_PAGE,
            name=name,
            leave_out=proposal.id,
        )
        options = proposals.swap_options(program_id, proposal, others)
    this, _ = proposals.page(program_id, 1, (proposal.state,), per_page=1, leave_out=None, only=proposal.id)
    return {
        "program": program,
        "proposal": this[0] if this else None,
        "state": proposal.state,
        "options": options,
        "page": page,
        "more": more,
        "q": name,
    } | extra


@bp.get("/proposals/<int:proposal_id>/swap")
def swap_options(program_id: int, proposal_id: int) -> Response:
    return htmx.render(SWAP_TEMPLATE, **_swap_context(program_id, proposal_id))


@bp.post("/proposals/<int:proposal_id>/swap")
def swap(program_id: int, proposal_id: int) -> Response:
    setup.get_program(program_id)
    first = proposals.proposal_or_404(program_id, proposal_id)
    other_id = request.form.get("other", type=int)
    second = proposals.get_proposal(program_id, other_id) if other_id is not None else None
    if second is None:
        problem = "choose the proposal to swap with"
    else:
        problem = proposals.swap(program_id, first, second)
    if problem:
        db.session.rollback()
        return htmx.render(
            SWAP_TEMPLATE, status=422, **_swap_context(program_id, proposal_id, problem=f"Not swapped: {problem}.")
        )
    db.session.commit()
    flash("Swapped. Both proposals explain themselves again below.", "success")
    return htmx.redirect(url_for(".index", program_id=program_id) + f"#proposal-{first.id}")


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

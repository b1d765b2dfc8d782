"""``/programs/<id>/match``: the matches proposed to the signed-in person, and their answer.

Access is ``authz.intake_participant`` (their own place in the program, or 404) and
``authz.proposal_to`` (a proposal sent to them, or 404). Each answers privately: the page never
shows the partner's answer, and after a no both people read the same "didn't go ahead".
Answering twice (a double tap, a second tab) changes nothing: each answer is a conditional
update of the proposal's state (app/matching/answers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, url_for
from sqlalchemy import select

from app import authz, htmx
from app.extensions import db
from app.matching import answers
from app.matching.proposals import ProposalPeople
from app.models import MatchProposal, Participant, Program, ProposalState, utcnow

bp = Blueprint("match", __name__, url_prefix="/programs/<int:program_id>/match")
TEMPLATE = "matching/match.html"
BLOCKS = ("answers",)
# A person sees their latest few: one at a time is the rule, a mentor of capacity 3 has three.
SHOWN = 6


@dataclass(frozen=True)
class Mine:
    """A proposal as one of its two people sees it."""

    id: int
    status: str  # "ask", "said-yes", "going-ahead", "not-going-ahead"
    partner: str
    role: str  # mine
    partner_role: str
    reasons: list[str]
    answer_by: datetime | None
    pair_id: int | None


def _status(proposal: MatchProposal, mine: str, now: datetime) -> str:
    if proposal.state == ProposalState.GOING_AHEAD:
        return "going-ahead"
    if proposal.state == ProposalState.NOT_GOING_AHEAD or answers.expired(proposal, now):
        return "not-going-ahead"
    said = proposal.mentor_yes if mine == answers.MENTOR else proposal.mentee_yes
    return "said-yes" if said else "ask"


def mine(participant: Participant) -> list[Mine]:
    """The person's proposals, newest first, with the partner's name: one query."""
    people = ProposalPeople()
    rows = db.session.execute(
        people.joined(
            authz.proposals_to(participant).add_columns(
                people.mentor.name.label("mentor"), people.mentee.name.label("mentee")
            )
        )
        .order_by(MatchProposal.sent_at.desc(), MatchProposal.id.desc())
        .limit(SHOWN)
    ).all()
    now = utcnow()
    shown = []
    for proposal, mentor_name, mentee_name in rows:
        side = answers.side_of(proposal, participant.id)
        status = _status(proposal, side, now)
        shown.append(
            Mine(
                proposal.id,
                status,
                mentee_name if side == answers.MENTOR else mentor_name,
                side,
                answers.MENTEE if side == answers.MENTOR else answers.MENTOR,
                # After a no, only that it didn't go ahead: the why was for deciding.
                list(proposal.reasons) if status in ("ask", "said-yes") else [],
                proposal.answer_by,
                proposal.pair_id if status == "going-ahead" else None,
            )
        )
    return shown


def _context(program_id: int) -> dict[str, Any]:
    participant = authz.intake_participant(program_id)
    return {
        "program": db.session.scalar(select(Program).where(Program.id == program_id)),
        "proposals": mine(participant),
    }


@bp.get("")
def show(program_id: int) -> Response:
    return htmx.render(TEMPLATE, blocks=BLOCKS, **_context(program_id))


def _answered(program_id: int, participant: Participant, proposal_id: int) -> Response:
    status = next((p.status for p in mine(participant) if p.id == proposal_id), None)
    notice = {
        "said-yes": "Thank you. We'll tell you as soon as there's news.",
        "going-ahead": "You both said yes: your pair is ready.",
        "not-going-ahead": "This match didn't go ahead. You're back with the people the program will match next.",
    }.get(status)
    return htmx.after_write(
        url_for(".show", program_id=program_id),
        TEMPLATE,
        blocks=BLOCKS,
        context=lambda: _context(program_id),
        notice=notice,
    )


@bp.post("/<int:proposal_id>/yes")
def say_yes(program_id: int, proposal_id: int) -> Response:
    participant = authz.intake_participant(program_id)
    proposal = authz.proposal_to(participant, proposal_id)
    answers.say_yes(proposal, participant.id)
    db.session.commit()
    return _answered(program_id, participant, proposal_id)


@bp.post("/<int:proposal_id>/no")
def say_no(program_id: int, proposal_id: int) -> Response:
    participant = authz.intake_participant(program_id)
    proposal = authz.proposal_to(participant, proposal_id)
    answers.say_no(proposal)
    db.session.commit()
    return _answered(program_id, participant, proposal_id)

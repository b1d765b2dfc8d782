"""Telling the two people of a match: the proposal sent to each of them, their pair made when
both said yes, or that the match didn't go ahead.

The reminder pass finds all three from the proposals themselves (when one was sent, when it
closed, when its time to answer ran out), so nothing is sent from a request and a retried pass
sends nothing twice. The words name the two people, the program and the proposal's reasons (which
come from the intake answers, never from anything a pair wrote). "Didn't go ahead" reads the same
for both people, whoever said no or didn't answer: nothing says who.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Delivery, Kind, MatchProposal, Participant, Program, ProposalState, User
from app.models.matching import ANSWER_DAYS
from app.reminders.messages import NO_NAME, Message, when
from app.reminders.outbox import Due
from app.urls import absolute_url

if TYPE_CHECKING:
    from app.reminders.preferences import Settings

SENT, MADE, CLOSED = "sent", "made", "closed"
ANSWER_TIME = timedelta(days=ANSWER_DAYS)
# A pair made or a match closed is still worth telling for a while (a person back from leave).
TELL_FOR = timedelta(days=ANSWER_DAYS)
# First strong isolate … pop directional isolate: Unicode's plain-text <bdi>.
ISOLATE = "\u2068{}\u2069"

_mentor, _mentee = aliased(Participant), aliased(Participant)


def find(since: datetime, at: datetime) -> list[Due]:
    """Proposals sent in (since, at], those that went ahead or closed in it, and those whose time
    to answer ran out in it (the pass closes them): a message to each of the two people. One query."""
    rows = db.session.execute(
        select(
            MatchProposal.id,
            MatchProposal.state,
            MatchProposal.sent_at,
            MatchProposal.closed_at,
            _mentor.user_id.label("mentor"),
            _mentee.user_id.label("mentee"),
        )
        .join(_mentor, _mentor.id == MatchProposal.mentor_id)
        .join(_mentee, _mentee.id == MatchProposal.mentee_id)
        .where(
            or_(
                and_(MatchProposal.sent_at > since, MatchProposal.sent_at <= at),
                and_(MatchProposal.closed_at > since, MatchProposal.closed_at <= at),
                and_(
                    MatchProposal.state == ProposalState.SENT,
                    MatchProposal.sent_at > since - ANSWER_TIME,
                    MatchProposal.sent_at <= at - ANSWER_TIME,
                ),
            )
        )
    ).all()
    found: list[Due] = []
    for row in rows:
        steps: list[tuple[str, datetime, datetime | None]] = []
        if since < row.sent_at <= at:
            steps.append((SENT, row.sent_at, row.sent_at + ANSWER_TIME))
        if row.state == ProposalState.GOING_AHEAD and row.closed_at and since < row.closed_at <= at:
            steps.append((MADE, row.closed_at, row.closed_at + TELL_FOR))
        # Ran out: the moment it closes is the moment its time ended, whether or not the pass
        # that closes it has run yet, so both searches name the same delivery.
        closed = row.closed_at if row.state == ProposalState.NOT_GOING_AHEAD else None
        if row.state == ProposalState.SENT and row.sent_at + ANSWER_TIME <= at:
            closed = row.sent_at + ANSWER_TIME
        if closed is not None and since < closed <= at:
            steps.append((CLOSED, closed, closed + TELL_FOR))
        for step, due_at, useful_until in steps:
            for user_id in (row.mentor, row.mentee):
                found.append(
                    Due(
                        user_id,
                        Kind.MATCH,
                        f"match:{row.id}:{step}",
                        due_at,
                        useful_until,
                        {"proposal": row.id, "step": step},
                    )
                )
    return found


def compose(delivery: Delivery, user: User, settings: Settings) -> Message | None:
    """The words for one of the two people; None when the proposal is gone, isn't theirs, or is
    no longer what the message would say (a proposal answered before its notice went)."""
    partner_user = aliased(User)
    row = db.session.execute(
        select(
            MatchProposal,
            Program.name.label("program"),
            _mentor.user_id.label("mentor"),
            _mentee.user_id.label("mentee"),
        )
        .join(Program, Program.id == MatchProposal.program_id)
        .join(_mentor, _mentor.id == MatchProposal.mentor_id)
        .join(_mentee, _mentee.id == MatchProposal.mentee_id)
        .where(MatchProposal.id == delivery.details.get("proposal"))
    ).one_or_none()
    if row is None or user.id not in (row.mentor, row.mentee):
        return None
    proposal: MatchProposal = row.MatchProposal
    partner_id = row.mentee if user.id == row.mentor else row.mentor
    partner = db.session.scalar(select(partner_user.name).where(partner_user.id == partner_id)) or NO_NAME
    partner_role = "mentee" if user.id == row.mentor else "mentor"
    page = absolute_url("match.show", program_id=proposal.program_id)
    step = delivery.details.get("step")
    if step == SENT:
        if proposal.state != ProposalState.SENT:
            return None
        return Message(
            delivery.kind,
            f"A proposed match: you and {partner}",
            [
                f"{row.program} proposes {partner} as your {partner_role}.",
                # Each reason isolated, as each is in a <bdi> of its own on the pages: a direction
                # override typed into one answer (a department, a name) can't turn the rest backwards.
                *(
                    ["Why you two: " + "; ".join(ISOLATE.format(r) for r in proposal.reasons) + "."]
                    if proposal.reasons
                    else []
                ),
                f"Say yes or no in Twoway by {when(proposal.answer_by, settings.zone)}. Your answer is yours "
                "alone: if either of you says no, you both hear only that the match didn't go ahead.",
            ],
            url=page,
            action="See the proposal",
        )
    if step == MADE:
        if proposal.state != ProposalState.GOING_AHEAD:
            return None
        url = absolute_url("pair.home", pair_id=proposal.pair_id) if proposal.pair_id else page
        return Message(
            delivery.kind,
            f"You and {partner} are a pair",
            [
                f"You and {partner} both said yes: your pair in {row.program} is ready.",
                "A good first step is to agree your ground rules together.",
            ],
            url=url,
            action="Open your pair",
        )
    if step == CLOSED:
        if proposal.state == ProposalState.GOING_AHEAD:
            return None
        return Message(
            delivery.kind,
            "Your proposed match didn't go ahead",
            [
                f"The match proposed with {partner} in {row.program} didn't go ahead.",
                "Nothing else changes: you're back with the people the program will match next.",
            ],
            url=page,
            action="Open Twoway",
        )
    return None

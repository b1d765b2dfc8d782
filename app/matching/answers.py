"""Both say yes: a locked proposal sent to its two people, each one's private answer, and the pair
made when both said yes.

- A yes is kept on the proposal while it waits. A no closes it at once and clears both yeses, so
  nothing stored says who declined; no answer within ANSWER_DAYS closes it the same way (the
  reminder pass runs ``expire``). The admin sees only "waiting", "going ahead" or "not going
  ahead", and each person, after a no, only that the match didn't go ahead.
- Every change is one conditional UPDATE on the proposal's state, so a double tap, two people
  answering at the same moment, or an answer racing the expiry settle on one outcome, and only
  the answer that completes both yeses makes the pair (through the admin's own pair-making).
- Nothing is sent from here: the reminder pass finds proposals sent, made and closed
  (app/reminders/matching.py) and tells both people.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from app.admin import setup
from app.extensions import db
from app.models import MatchProposal, Pair, PairMember, Participant, Program, ProposalState, Role, User, utcnow
from app.models.matching import ANSWER_DAYS

ANSWER_TIME = timedelta(days=ANSWER_DAYS)
MENTOR, MENTEE = "mentor", "mentee"


def _paired_mentees(program_id: int):
    """Participants of the program who are a mentee in one of its pairs."""
    return (
        select(Participant.id)
        .join(PairMember, PairMember.user_id == Participant.user_id)
        .join(Pair, (Pair.id == PairMember.pair_id) & (Pair.program_id == program_id))
        .where(Participant.program_id == program_id, PairMember.role == Role.MENTEE)
    )


def send(program_id: int, proposal_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Send locked proposals (``proposal_ids``, or every locked one of the program) to their two
    people; returns how many went. One whose mentee has a pair by now (made by hand meanwhile)
    stays locked. Does not commit."""
    now = now or utcnow()
    statement = (
        update(MatchProposal)
        .where(
            MatchProposal.program_id == program_id,
            MatchProposal.state == ProposalState.LOCKED,
            MatchProposal.mentee_id.not_in(_paired_mentees(program_id)),
        )
        .values(state=ProposalState.SENT, sent_at=now, mentor_yes=False, mentee_yes=False)
        .returning(MatchProposal.id)
        .execution_options(synchronize_session=False)
    )
    if proposal_ids is not None:
        statement = statement.where(MatchProposal.id.in_(proposal_ids))
    sent = len(db.session.scalars(statement).all())
    db.session.expire_all()
    return sent


def side_of(proposal: MatchProposal, participant_id: int) -> str:
    return MENTOR if proposal.mentor_id == participant_id else MENTEE


def expired(proposal: MatchProposal, now: datetime | None = None) -> bool:
    return proposal.state == ProposalState.SENT and proposal.answer_by <= (now or utcnow())


def _waiting(proposal_id: int, now: datetime):
    return (
        MatchProposal.id == proposal_id,
        MatchProposal.state == ProposalState.SENT,
        MatchProposal.sent_at > now - ANSWER_TIME,
    )


def say_yes(proposal: MatchProposal, participant_id: int, now: datetime | None = None) -> None:
    """This person's yes. If it is the second, the proposal goes ahead and the pair is made. A
    proposal no longer waiting (answered, closed, run out) is left as it is. Does not commit."""
    now = now or utcnow()
    column = "mentor_yes" if side_of(proposal, participant_id) == MENTOR else "mentee_yes"
    both = db.session.execute(
        update(MatchProposal)
        .where(*_waiting(proposal.id, now))
        .values({column: True})
        .returning(MatchProposal.mentor_yes, MatchProposal.mentee_yes)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if both is not None and both.mentor_yes and both.mentee_yes:
        # Only the answer whose UPDATE saw both yeses gets here; this one takes the proposal
        # (on PostgreSQL the row stays locked by the first UPDATE until commit).
        ahead = db.session.scalar(
            update(MatchProposal)
            .where(*_waiting(proposal.id, now), MatchProposal.mentor_yes, MatchProposal.mentee_yes)
            .values(state=ProposalState.GOING_AHEAD, closed_at=now)
            .returning(MatchProposal.id)
            .execution_options(synchronize_session=False)
        )
        if ahead is not None:
            _make_pair(proposal)
    db.session.expire_all()


def say_no(proposal: MatchProposal, now: datetime | None = None) -> None:
    """A no: the proposal closes at once, and both yeses go, so nothing says who declined."""
    now = now or utcnow()
    db.session.execute(
        update(MatchProposal)
        .where(*_waiting(proposal.id, now))
        .values(state=ProposalState.NOT_GOING_AHEAD, closed_at=now, mentor_yes=False, mentee_yes=False)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()


def withdraw(proposal: MatchProposal, now: datetime | None = None) -> bool:
    """The admin takes back a waiting proposal. It closes exactly as after a no (both yeses
    cleared, the same "didn't go ahead" to both, never proposed again), so neither person can
    tell a withdrawal from their partner's no. Whether it was still waiting. Does not commit."""
    now = now or utcnow()
    closed = db.session.scalar(
        update(MatchProposal)
        .where(*_waiting(proposal.id, now))
        .values(state=ProposalState.NOT_GOING_AHEAD, closed_at=now, mentor_yes=False, mentee_yes=False)
        .returning(MatchProposal.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return closed is not None


def expire(at: datetime) -> int:
    """Close every proposal whose time to answer ended by ``at`` as not going ahead, at the moment
    it ended (so its notice names the same moment whenever this runs). Idempotent: a closed
    proposal is never touched again. Does not commit."""
    rows = db.session.execute(
        select(MatchProposal.id, MatchProposal.sent_at).where(
            MatchProposal.state == ProposalState.SENT, MatchProposal.sent_at <= at - ANSWER_TIME
        )
    ).all()
    if not rows:
        return 0
    table = MatchProposal.__table__
    db.session.execute(
        table.update()
        .where(table.c.id == bindparam("proposal"), table.c.state == ProposalState.SENT)
        .values(state=ProposalState.NOT_GOING_AHEAD, closed_at=bindparam("ended"), mentor_yes=False, mentee_yes=False),
        [{"proposal": row.id, "ended": row.sent_at + ANSWER_TIME} for row in rows],
    )
    return len(rows)


def _make_pair(proposal: MatchProposal) -> None:
    """The pair and its space, made the one way pairs are made (app/admin/setup.py)."""
    rows = {
        row.participant_id: row
        for row in db.session.execute(
            select(
                Participant.id.label("participant_id"),
                User.id.label("user_id"),
                User.name,
                User.email,
                Participant.department,
                Participant.level,
                User.active,
                User.first_signed_in_at,
            )
            .join(User, User.id == Participant.user_id)
            .where(Participant.id.in_((proposal.mentor_id, proposal.mentee_id)))
        )
    }
    mentor, mentee = (setup.Person(*rows[pid]) for pid in (proposal.mentor_id, proposal.mentee_id))
    program = db.session.get(Program, proposal.program_id)
    try:
        pair = setup.make_pair(program, mentor, mentee)
    except setup.AlreadyPaired:
        pair_id = None  # the admin paired them by hand meanwhile: that pair is theirs
    except setup.AdminsDontTakePart:
        # One of them was made an admin meanwhile, and admins are never in a pair.
        db.session.execute(
            update(MatchProposal)
            .where(MatchProposal.id == proposal.id)
            .values(state=ProposalState.NOT_GOING_AHEAD, mentor_yes=False, mentee_yes=False)
            .execution_options(synchronize_session=False)
        )
        return
    else:
        pair_id = pair.id
    db.session.execute(
        update(MatchProposal)
        .where(MatchProposal.id == proposal.id)
        .values(pair_id=pair_id)
        .execution_options(synchronize_session=False)
    )

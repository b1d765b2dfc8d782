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

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from app.admin import setup
from app.extensions import db
from app.matching import intake
from app.matching.proposals import ProposalPeople
from app.models import MatchProposal, Pair, PairMember, Participant, Program, ProposalState, Role, User, utcnow
from app.models.matching import ANSWER_DAYS

ANSWER_TIME = timedelta(days=ANSWER_DAYS)
# Ids per UPDATE when sending: well under every database's limit on bound parameters.
CHUNK = 500
MENTOR, MENTEE = "mentor", "mentee"


NOT_JOINED, NO_ROOM = "not-joined", "no-room"


@dataclass(frozen=True)
class Sending:
    """What ``send`` did: how many went, and for each locked proposal that stayed, why (``NOT_JOINED``
    or ``NO_ROOM``, and a sentence for the admin)."""

    sent: int
    refused: dict[int, tuple[str, str]]


def _room(program_id: int, now: datetime) -> tuple[Counter[int], set[int]]:
    """How many places each mentor of the program has taken (their pairs in it and the proposals
    waiting for their answers), and the mentees who have a pair there or a waiting proposal. Two
    queries."""
    mentors: Counter[int] = Counter()
    mentees: set[int] = set()
    for participant_id, role in db.session.execute(
        select(Participant.id, PairMember.role)
        .join(PairMember, PairMember.user_id == Participant.user_id)
        .join(Pair, (Pair.id == PairMember.pair_id) & (Pair.program_id == program_id))
        .where(Participant.program_id == program_id)
    ):
        if role == Role.MENTOR:
            mentors[participant_id] += 1
        else:
            mentees.add(participant_id)
    for mentor_id, mentee_id in db.session.execute(
        select(MatchProposal.mentor_id, MatchProposal.mentee_id).where(
            MatchProposal.program_id == program_id,
            MatchProposal.state == ProposalState.SENT,
            MatchProposal.sent_at > now - ANSWER_TIME,
        )
    ):
        mentors[mentor_id] += 1
        mentees.add(mentee_id)
    return mentors, mentees


def _no_room(mentor: str, places: int) -> str:
    return (
        f"{mentor} already mentors {places} {'person' if places == 1 else 'people'}, as many as the program "
        "lets one mentor take. Reject this proposal and run again."
    )


def send(program_id: int, proposal_ids: list[int] | None = None, now: datetime | None = None) -> Sending:
    """Send locked proposals (``proposal_ids``, or every locked one of the program) to their two
    people, once both have joined Twoway. The places are counted again first, since the admin may
    have paired people by hand after the run: a proposal whose mentor has no place left (their
    pairs and waiting proposals) or whose mentee has a pair or a waiting proposal stays locked,
    the best ones going first. Does not commit."""
    now = now or utcnow()
    people = ProposalPeople()
    chosen = (
        people.joined(
            select(
                MatchProposal.id,
                MatchProposal.mentor_id,
                MatchProposal.mentee_id,
                people.mentor.name,
                people.mentee.name,
                people.mentor.first_signed_in_at,
                people.mentee.first_signed_in_at,
            )
        )
        .where(MatchProposal.program_id == program_id, MatchProposal.state == ProposalState.LOCKED)
        .order_by(MatchProposal.score.desc(), MatchProposal.id)
    )
    if proposal_ids is not None:
        chosen = chosen.where(MatchProposal.id.in_(proposal_ids))
    locked = db.session.execute(chosen).all()
    if not locked:
        return Sending(0, {})
    places = intake.settings_for(program_id).capacity
    taken, busy = _room(program_id, now)
    going, refused = [], {}
    for proposal_id, mentor_id, mentee_id, mentor_name, mentee_name, mentor_joined, mentee_joined in locked:
        if mentor_joined is None or mentee_joined is None:
            # The admin's list of participants says who hasn't joined: sent to someone who
            # hasn't, a proposal could only close early by the other's no, and the admin would
            # know whose.
            refused[proposal_id] = (
                NOT_JOINED,
                f"{mentor_name if mentor_joined is None else mentee_name} hasn't joined Twoway yet, and until "
                "both have, a match that didn't go ahead would tell you which of them said no. Share the "
                "join page, and send it once they have.",
            )
        elif mentee_id in busy:
            refused[proposal_id] = (
                NO_ROOM,
                "the mentee is in a pair already, or has another proposal waiting. Reject this proposal and run again.",
            )
        elif taken[mentor_id] >= places:
            refused[proposal_id] = (NO_ROOM, _no_room(mentor_name, taken[mentor_id]))
        else:
            going.append(proposal_id)
            taken[mentor_id] += 1
            busy.add(mentee_id)
    sent = 0
    for start in range(0, len(going), CHUNK):
        sent += len(
            db.session.scalars(
                update(MatchProposal)
                .where(MatchProposal.id.in_(going[start : start + CHUNK]), MatchProposal.state == ProposalState.LOCKED)
                .values(state=ProposalState.SENT, sent_at=now, mentor_yes=False, mentee_yes=False)
                .returning(MatchProposal.id)
                .execution_options(synchronize_session=False)
            ).all()
        )
    db.session.expire_all()
    return Sending(sent, refused)


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


def _no_place(program_id: int, mentor_user: int, mentee_user: int) -> bool:
    """Whether making this pair would give the mentor more mentees than the program allows, or the
    mentee a second pair: the admin may have paired either by hand while the proposal waited."""
    pairs: dict[int, set[int]] = {}
    mentoring = mentee_paired = 0
    for pair_id, user_id, role in db.session.execute(
        select(PairMember.pair_id, PairMember.user_id, PairMember.role)
        .join(Pair, Pair.id == PairMember.pair_id)
        .where(Pair.program_id == program_id, PairMember.user_id.in_((mentor_user, mentee_user)))
    ):
        pairs.setdefault(pair_id, set()).add(user_id)
        mentoring += user_id == mentor_user and role == Role.MENTOR
        mentee_paired += user_id == mentee_user and role == Role.MENTEE
    if any(len(users) == 2 for users in pairs.values()):
        return False  # paired together by hand meanwhile: make_pair says so
    return bool(mentee_paired) or mentoring >= intake.settings_for(program_id).capacity


def _make_pair(proposal: MatchProposal) -> None:
    """The pair and its space, made the one way pairs are made (app/admin/setup.py), if there is
    still a place for it; otherwise the proposal doesn't go ahead, in the same words as a no."""
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
    # Two last yeses for one mentor (two of their proposals) count the places one after the
    # other on PostgreSQL: the mentor's row is locked until commit. FOR NO KEY UPDATE, since the
    # proposal's update has already taken FOR KEY SHARE on it (its foreign key's check), which
    # FOR UPDATE would wait on in the other transaction, and each for the other. SQLite writes
    # one transaction at a time anyway.
    db.session.execute(
        select(Participant.id).where(Participant.id == proposal.mentor_id).with_for_update(key_share=True)
    )
    mentor, mentee = (setup.Person(*rows[pid]) for pid in (proposal.mentor_id, proposal.mentee_id))
    program = db.session.get(Program, proposal.program_id)
    try:
        if _no_place(program.id, mentor.user_id, mentee.user_id):
            raise _NoPlace
        pair = setup.make_pair(program, mentor, mentee)
    except setup.AlreadyPaired:
        pair_id = None  # the admin paired them by hand meanwhile: that pair is theirs
    except (setup.AdminsDontTakePart, _NoPlace):
        # One of them was made an admin meanwhile (admins are never in a pair), or has no place.
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


class _NoPlace(Exception):
    pass

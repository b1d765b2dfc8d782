"""Running a program's matching and keeping its proposals.

``population`` reads everything the solver needs in a fixed number of queries, whatever the size
of the program; ``run`` solves and stores. Locked proposals stay through a re-run, rejected ones
never come back, and people already in a pair of the program are not matched again. Nothing a
pair wrote is read here: intake answers, departments, levels and who was paired with whom.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.matching import intake, solver
from app.models import (
    Intake,
    MatchingRun,
    MatchingSettings,
    MatchProposal,
    Pair,
    PairMember,
    Participant,
    ProposalState,
    User,
    utcnow,
)

PER_PAGE = 50
MAX_PAGE = 10_000
NOT_ANSWERED = "hasn't answered the intake form yet"


def rules_of(settings: MatchingSettings) -> solver.Rules:
    return solver.Rules(
        level_gap=settings.level_gap,
        higher_is_senior=settings.higher_is_senior,
        different_department=settings.different_department,
        shared_language="languages" in settings.questions,
        capacity=settings.capacity,
        weight_skills=settings.weight_skills,
        weight_interests=settings.weight_interests if "interests" in settings.questions else 0,
        weight_time_zone=settings.weight_time_zone if "time_zone" in settings.questions else 0,
        weight_rhythm=settings.weight_rhythm if "rhythm" in settings.questions else 0,
    )


def _keys(items: list[str], labels: dict[str, str]) -> frozenset[str]:
    keys = []
    for item in items:
        key = " ".join(item.split()).casefold()
        if key:
            labels.setdefault(key, item)
            keys.append(key)
    return frozenset(keys)


def person(row, settings: MatchingSettings) -> solver.Person:
    """The solver's view of one participant's answers (only the questions the program asks)."""
    answers: Intake = row.Intake
    on = set(settings.questions)
    labels: dict[str, str] = {}
    return solver.Person(
        id=row.participant_id,
        name=row.name,
        email=row.email,
        role=answers.role.value,
        department=row.department.strip(),
        level=intake.level_number(row.level),
        teach=_keys(list(answers.teach) + intake.split_list(answers.teach_other), labels),
        learn=_keys(list(answers.learn) + intake.split_list(answers.learn_other), labels),
        interests=_keys(intake.split_list(answers.interests), labels) if "interests" in on else frozenset(),
        languages=_keys(intake.split_list(answers.languages), labels) if "languages" in on else frozenset(),
        utc_offset=intake.utc_offset(answers.time_zone) if "time_zone" in on else None,
        rhythm=answers.rhythm if "rhythm" in on else "",
        avoid=frozenset(answers.avoid) if "avoid" in on else frozenset(),
        labels=labels,
    )


@dataclass
class Population:
    people: list[solver.Person]
    not_answered: list[int]  # participant ids
    never: set[frozenset[int]]
    locked: list[tuple[int, int]]


def population(program_id: int, settings: MatchingSettings) -> Population:
    """Who takes part in this run, and which pairs may not be proposed. Four queries."""
    rows = db.session.execute(
        select(
            Participant.id.label("participant_id"),
            Participant.user_id,
            Participant.department,
            Participant.level,
            User.name,
            User.email,
            Intake,
        )
        .join(User, User.id == Participant.user_id)
        .outerjoin(Intake, Intake.participant_id == Participant.id)
        .where(Participant.program_id == program_id, User.active.is_(True), User.is_admin.is_(False))
    ).all()
    by_user = {row.user_id: row.participant_id for row in rows}

    # Every pair two of these people are or were in, in any program: never proposed again.
    a, b = aliased(PairMember), aliased(PairMember)
    in_program = select(Participant.user_id).where(Participant.program_id == program_id).scalar_subquery()
    pairs = db.session.execute(
        select(a.user_id, b.user_id, Pair.program_id)
        .join(b, (b.pair_id == a.pair_id) & (b.user_id != a.user_id))
        .join(Pair, Pair.id == a.pair_id)
        .where(a.user_id.in_(in_program))
    ).all()
    never: set[frozenset[int]] = set()
    paired_here: set[int] = set()
    for user_id, other_id, pair_program in pairs:
        if pair_program == program_id:
            paired_here.add(user_id)
        if user_id in by_user and other_id in by_user:
            never.add(solver.unordered(by_user[user_id], by_user[other_id]))

    locked: list[tuple[int, int]] = []
    for mentor_id, mentee_id, state in db.session.execute(
        select(MatchProposal.mentor_id, MatchProposal.mentee_id, MatchProposal.state).where(
            MatchProposal.program_id == program_id, MatchProposal.state != ProposalState.PROPOSED
        )
    ):
        if state == ProposalState.REJECTED:
            never.add(solver.unordered(mentor_id, mentee_id))
        else:
            locked.append((mentor_id, mentee_id))

    people, not_answered = [], []
    for row in rows:
        if row.user_id in paired_here:
            continue  # matched already: their pair exists
        if row.Intake is None:
            not_answered.append(row.participant_id)
        else:
            people.append(person(row, settings))
    present = {p.id for p in people}
    locked = [(m, e) for m, e in locked if m in present and e in present]
    return Population(people, not_answered, never, locked)


def run(program_id: int) -> MatchingRun:
    """Solve the program's matching again: locked proposals stay, the rest is replaced."""
    settings = intake.settings_for(program_id)
    rules = rules_of(settings)
    pop = population(program_id, settings)
    result = solver.solve(pop.people, rules, pop.never, pop.locked)

    db.session.execute(
        delete(MatchProposal).where(
            MatchProposal.program_id == program_id, MatchProposal.state == ProposalState.PROPOSED
        )
    )
    db.session.execute(delete(MatchingRun).where(MatchingRun.program_id == program_id))
    now = utcnow()
    if result.proposals:
        db.session.execute(
            insert(MatchProposal),
            [
                {
                    "program_id": program_id,
                    "mentor_id": p.mentor.id,
                    "mentee_id": p.mentee.id,
                    "state": ProposalState.PROPOSED,
                    "score": p.score,
                    "reasons": list(p.reasons),
                    "created_at": now,
                }
                for p in result.proposals
            ],
        )
    unmatched = [{"participant_id": u.person.id, "role": u.role, "reason": u.reason} for u in result.unmatched]
    unmatched += [{"participant_id": pid, "role": "", "reason": NOT_ANSWERED} for pid in pop.not_answered]
    matching_run = MatchingRun(program_id=program_id, ran_at=now, total_score=result.total, unmatched=unmatched)
    db.session.add(matching_run)
    db.session.flush()
    return matching_run


# --- reading, locking, rejecting -----------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    id: int
    state: ProposalState
    score: float
    reasons: list[str]
    mentor: str
    mentee: str


def page(program_id: int, number: int) -> tuple[list[Shown], bool]:
    """Page ``number`` of the program's open proposals (locked first, then best first), and
    whether another page follows. One query."""
    mentor_p, mentee_p = aliased(Participant), aliased(Participant)
    mentor_u, mentee_u = aliased(User), aliased(User)
    rows = db.session.execute(
        select(
            MatchProposal.id,
            MatchProposal.state,
            MatchProposal.score,
            MatchProposal.reasons,
            mentor_u.name,
            mentee_u.name,
        )
        .join(mentor_p, mentor_p.id == MatchProposal.mentor_id)
        .join(mentor_u, mentor_u.id == mentor_p.user_id)
        .join(mentee_p, mentee_p.id == MatchProposal.mentee_id)
        .join(mentee_u, mentee_u.id == mentee_p.user_id)
        .where(MatchProposal.program_id == program_id, MatchProposal.state != ProposalState.REJECTED)
        .order_by((MatchProposal.state == ProposalState.LOCKED).desc(), MatchProposal.score.desc(), MatchProposal.id)
        .offset((number - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
    ).all()
    return [Shown(*row) for row in rows[:PER_PAGE]], len(rows) > PER_PAGE


def counts(program_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(MatchProposal.state, func.count())
        .where(MatchProposal.program_id == program_id)
        .group_by(MatchProposal.state)
    )
    found = {state.value: n for state, n in rows}
    return {state.value: found.get(state.value, 0) for state in ProposalState}


def latest_run(program_id: int) -> MatchingRun | None:
    return db.session.scalar(
        select(MatchingRun).where(MatchingRun.program_id == program_id).order_by(MatchingRun.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class Left:
    name: str
    role: str
    reason: str


def unmatched_page(run: MatchingRun | None, number: int) -> tuple[list[Left], bool]:
    """Page ``number`` of the people the run left unmatched, with why. One query for their names."""
    if run is None:
        return [], False
    entries = run.unmatched[(number - 1) * PER_PAGE : number * PER_PAGE]
    names = dict(
        db.session.execute(
            select(Participant.id, User.name)
            .join(User, User.id == Participant.user_id)
            .where(Participant.id.in_([e["participant_id"] for e in entries]))
        ).all()
    )
    shown = [Left(names[e["participant_id"]], e["role"], e["reason"]) for e in entries if e["participant_id"] in names]
    return shown, len(run.unmatched) > number * PER_PAGE


def get_proposal(program_id: int, proposal_id: int) -> MatchProposal | None:
    return db.session.scalar(
        select(MatchProposal).where(MatchProposal.id == proposal_id, MatchProposal.program_id == program_id)
    )


def set_state(proposal: MatchProposal, state: ProposalState) -> None:
    proposal.state = state

"""Running a program's matching and keeping its proposals.

``population`` reads everything the solver needs in a fixed number of queries, whatever the size
of the program; ``run`` solves and stores. Locked proposals stay through a re-run, rejected ones
never come back, and people already in a pair of the program are not matched again. Nothing a
pair wrote is read here: intake answers, departments, levels and who was paired with whom.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, insert, select
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
    Role,
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


def population(program_id: int, settings: MatchingSettings, among: Collection[int] | None = None) -> Population:
    """Who takes part in this run, and which pairs may not be proposed. Four queries. ``among``
    (participant ids) narrows it to a few people, to check a swap."""
    narrow = (Participant.id.in_(among),) if among is not None else ()
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
        .where(Participant.program_id == program_id, User.active.is_(True), User.is_admin.is_(False), *narrow)
    ).all()
    by_user = {row.user_id: row.participant_id for row in rows}

    # Every pair two of these people are or were in, in any program: never proposed again.
    a, b = aliased(PairMember), aliased(PairMember)
    in_program = select(Participant.user_id).where(Participant.program_id == program_id, *narrow).scalar_subquery()
    pairs = db.session.execute(
        select(a.user_id, a.role, b.user_id, Pair.program_id)
        .join(b, (b.pair_id == a.pair_id) & (b.user_id != a.user_id))
        .join(Pair, Pair.id == a.pair_id)
        .where(a.user_id.in_(in_program))
    ).all()
    never: set[frozenset[int]] = set()
    paired_here: set[int] = set()
    # A mentor's pairs in this program take places of their capacity, as locked proposals do.
    mentoring: list[tuple[int, int]] = []
    for user_id, role, other_id, pair_program in pairs:
        if pair_program == program_id:
            if role == Role.MENTOR and user_id in by_user:
                mentoring.append((by_user[user_id], by_user.get(other_id, -other_id)))
            else:
                paired_here.add(user_id)
        if user_id in by_user and other_id in by_user:
            never.add(solver.unordered(by_user[user_id], by_user[other_id]))

    locked: list[tuple[int, int]] = []
    for mentor_id, mentee_id, state in db.session.execute(
        select(MatchProposal.mentor_id, MatchProposal.mentee_id, MatchProposal.state).where(
            MatchProposal.program_id == program_id, MatchProposal.state != ProposalState.PROPOSED
        )
    ):
        if state in (ProposalState.LOCKED, ProposalState.SENT):
            locked.append((mentor_id, mentee_id))
        else:
            # Rejected by the admin, a match that didn't go ahead, or one that did (its pair may
            # be gone since, and a pair that existed is never proposed again): never again.
            never.add(solver.unordered(mentor_id, mentee_id))

    people, not_answered = [], []
    mentors_here = {m for m, _ in mentoring}
    for row in rows:
        if row.user_id in paired_here:
            continue  # matched already as a mentee: their pair exists
        if row.Intake is None:
            if row.participant_id in mentors_here:
                continue  # a mentor already, who never needed the form
            not_answered.append(row.participant_id)
        else:
            people.append(person(row, settings))
    present = {p.id for p in people}
    locked = [(m, e) for m, e in locked if m in present and e in present]
    locked += [(m, e) for m, e in mentoring if m in present]
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


OPEN = (ProposalState.PROPOSED, ProposalState.LOCKED)
SENT = (ProposalState.SENT, ProposalState.GOING_AHEAD, ProposalState.NOT_GOING_AHEAD)
NAME_QUERY_MAX = 120


@dataclass(frozen=True)
class Shown:
    id: int
    state: ProposalState
    score: float
    reasons: list[str]
    mentor: str
    mentee: str
    mentor_id: int
    mentee_id: int


class ProposalPeople:
    """The users behind a proposal's mentor and mentee, as aliases to select their columns from;
    ``joined`` adds the joins from ``MatchProposal`` to them."""

    def __init__(self) -> None:
        self.mentor_p, self.mentee_p = aliased(Participant), aliased(Participant)
        self.mentor, self.mentee = aliased(User), aliased(User)

    def joined(self, query: Select) -> Select:
        return (
            query.join(self.mentor_p, self.mentor_p.id == MatchProposal.mentor_id)
            .join(self.mentor, self.mentor.id == self.mentor_p.user_id)
            .join(self.mentee_p, self.mentee_p.id == MatchProposal.mentee_id)
            .join(self.mentee, self.mentee.id == self.mentee_p.user_id)
        )


def _shown(program_id: int, states: tuple[ProposalState, ...]):
    people = ProposalPeople()
    return (
        people.joined(
            select(
                MatchProposal.id,
                MatchProposal.state,
                MatchProposal.score,
                MatchProposal.reasons,
                people.mentor.name,
                people.mentee.name,
                MatchProposal.mentor_id,
                MatchProposal.mentee_id,
            )
        ).where(MatchProposal.program_id == program_id, MatchProposal.state.in_(states)),
        people.mentor,
        people.mentee,
    )


def page(
    program_id: int,
    number: int,
    states: tuple[ProposalState, ...] = OPEN,
    *,
    per_page: int = PER_PAGE,
    name: str = "",
    leave_out: int | None = None,
    only: int | None = None,
) -> tuple[list[Shown], bool]:
    """Page ``number`` of the program's proposals in ``states`` (locked first, or waiting first,
    then best first), and whether another page follows. ``name`` keeps those where either
    person's name holds it. One query."""
    statement, mentor_u, mentee_u = _shown(program_id, states)
    name = " ".join(name.split())[:NAME_QUERY_MAX]
    if name:
        # Typed text as a literal, never a pattern: % and _ match themselves.
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            mentor_u.name.ilike(pattern, escape="\\") | mentee_u.name.ilike(pattern, escape="\\")
        )
    if leave_out is not None:
        statement = statement.where(MatchProposal.id != leave_out)
    if only is not None:
        statement = statement.where(MatchProposal.id == only)
    first = ProposalState.LOCKED if states == OPEN else ProposalState.SENT
    rows = db.session.execute(
        statement.order_by((MatchProposal.state == first).desc(), MatchProposal.score.desc(), MatchProposal.id)
        .offset((number - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    return [Shown(*row) for row in rows[:per_page]], len(rows) > per_page


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


def _proposal(program_id: int, proposal_id: int):
    return select(MatchProposal).where(MatchProposal.id == proposal_id, MatchProposal.program_id == program_id)


def get_proposal(program_id: int, proposal_id: int) -> MatchProposal | None:
    return db.session.scalar(_proposal(program_id, proposal_id))


def proposal_or_404(program_id: int, proposal_id: int) -> MatchProposal:
    return db.one_or_404(_proposal(program_id, proposal_id))


def set_state(proposal: MatchProposal, state: ProposalState) -> None:
    proposal.state = state


# --- swapping two people between two unlocked proposals -----------------------------------------


@dataclass(frozen=True)
class SwapOption:
    """What swapping the mentees of a proposal and ``other`` would make, or why it can't."""

    other: Shown
    pairs: tuple[tuple[str, str], tuple[str, str]]  # (mentor, mentee) names, after the swap
    before: float
    after: float
    problem: str | None


def _people_for(program_id: int, ids: set[int]) -> tuple[dict[int, solver.Person], solver.Rules, set]:
    settings = intake.settings_for(program_id)
    pop = population(program_id, settings, among=ids)
    return {p.id: p for p in pop.people}, rules_of(settings), pop.never


def _swapped(
    people: dict[int, solver.Person],
    rules: solver.Rules,
    never: set,
    first: MatchProposal | Shown,
    second: MatchProposal | Shown,
) -> tuple[list[tuple[float, solver.Proposal | None]], str | None]:
    """The two proposals a swap of mentees makes (first's mentor with second's mentee and the
    other way round), each with its score, or the first rule it breaks."""
    (m1, e1, reasons1), (m2, e2, reasons2) = ((p.mentor_id, p.mentee_id, p.reasons) for p in (first, second))
    if m1 == m2:
        return [], "both proposals have the same mentor, so swapping their mentees changes nothing"
    missing = [pid for pid in (m1, e1, m2, e2) if pid not in people]
    if missing:
        return [], "one of these people no longer takes part or has no intake answers"
    placed: dict[int, tuple[str, str]] = {}
    for pid, reasons, side in ((m1, reasons1, solver.MENTOR), (e1, reasons1, solver.MENTEE)) + (
        (m2, reasons2, solver.MENTOR),
        (e2, reasons2, solver.MENTEE),
    ):
        sentence = solver.placement(reasons, people[pid])
        if sentence:
            placed[pid] = (side, sentence)
    made = []
    for mentor, mentee in ((m1, e2), (m2, e1)):
        score, problem = solver.check(people[mentor], people[mentee], rules, never)
        if problem:
            return [], problem
        made.append((score, solver.explain(people[mentor], people[mentee], score, rules, placed)))
    return made, None


def swap_options(program_id: int, proposal: MatchProposal, others: list[Shown]) -> list[SwapOption]:
    """For each of ``others`` (a page of them), what a swap with ``proposal`` would make. Four
    queries for the page, whatever its size."""
    ids = {proposal.mentor_id, proposal.mentee_id} | {i for o in others for i in (o.mentor_id, o.mentee_id)}
    people, rules, never = _people_for(program_id, ids)
    options = []
    for other in others:
        made, problem = _swapped(people, rules, never, proposal, other)
        options.append(
            SwapOption(
                other,
                (
                    (people_name(people, proposal.mentor_id), other.mentee),
                    (other.mentor, people_name(people, proposal.mentee_id)),
                ),
                proposal.score + other.score,
                sum(score for score, _ in made),
                problem,
            )
        )
    return options


def people_name(people: dict[int, solver.Person], participant_id: int) -> str:
    person = people.get(participant_id)
    return person.name if person else ""


def swap(program_id: int, first: MatchProposal, second: MatchProposal) -> str | None:
    """Swap the mentees of two unlocked proposals, with the hard rules checked again and both
    explanations written again; the reason in words when it is refused (nothing changes then).
    Does not commit."""
    if first.id == second.id:
        return "choose two different proposals"
    if first.state != ProposalState.PROPOSED or second.state != ProposalState.PROPOSED:
        return "only unlocked proposals can be swapped (unlock them first; sent ones are the two people's now)"
    people, rules, never = _people_for(
        program_id, {first.mentor_id, first.mentee_id, second.mentor_id, second.mentee_id}
    )
    made, problem = _swapped(people, rules, never, first, second)
    if problem:
        return problem
    (score1, one), (score2, two) = made
    first.mentee_id, second.mentee_id = second.mentee_id, first.mentee_id
    first.score, first.reasons = score1, list(one.reasons)
    second.score, second.reasons = score2, list(two.reasons)
    db.session.flush()
    return None

"""Setting a program up: its settings, its participants and its pairs.

What this module reads of people is what the admin needs to run the program (names, emails,
departments, levels) and which pairs exist. It never selects anything a pair writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from app.admin.csv_import import Row
from app.extensions import db
from app.feedback.prompts import create_default_set
from app.models import (
    Pair,
    PairMember,
    Participant,
    Program,
    PromptSet,
    Role,
    User,
    normalise_email,
)


class AlreadyInProgram(Exception):
    """The person is already a participant of the program: nothing was added."""


class AlreadyPaired(Exception):
    """These two people are already a pair in the program: no second pair was made."""


@dataclass(frozen=True)
class Person:
    """A participant as the admin sees them."""

    participant_id: int
    user_id: int
    name: str
    email: str
    department: str
    level: str
    active: bool
    may_get_link: bool  # see may_hand_out_link


@dataclass(frozen=True)
class PairNames:
    id: int
    mentor: str
    mentee: str


def get_program(program_id: int) -> Program:
    """The program ``program_id``, or 404."""
    program = db.session.get(Program, program_id)
    if program is None:
        abort(404)
    return program


def prompt_set_choices(program_id: int) -> list[tuple[int, str]]:
    """The program's own prompt sets, oldest first, as (id, name) for a select."""
    rows = db.session.execute(
        select(PromptSet.id, PromptSet.name).where(PromptSet.program_id == program_id).order_by(PromptSet.id)
    )
    return [(row.id, row.name) for row in rows]


def create_program(values: dict[str, Any]) -> Program:
    """A new program with ``values`` and its own copy of the default feedback questions."""
    program = Program(**values)
    db.session.add(program)
    db.session.flush()
    create_default_set(program)
    return program


def has_pairs(program_id: int) -> bool:
    return db.session.scalar(select(Pair.id).where(Pair.program_id == program_id).limit(1)) is not None


def update_program(program: Program, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(program, name, value)


def _link_allowed(user_id):
    """SQL: the admin may hand this person a sign-in link (see ``may_hand_out_link``)."""
    partner = aliased(User)
    mine, theirs = aliased(PairMember), aliased(PairMember)
    someone_started = (
        select(mine.id)
        .join(theirs, theirs.pair_id == mine.pair_id)
        .join(partner, partner.id == theirs.user_id)
        .where(mine.user_id == user_id, partner.last_signed_in_at.is_not(None))
        .exists()
    )
    return and_(User.last_signed_in_at.is_(None), User.is_admin.is_(False), ~someone_started)


def may_hand_out_link(user: User) -> bool:
    """Sign-in links from the admin are for getting started: only for someone who has never
    signed in, in pairs where nobody has yet. An admin who holds the link could use it, so it
    must never open a pair space with anything written in it; afterwards people sign in with
    their passkey or an email link sent to them alone."""
    return bool(db.session.scalar(select(_link_allowed(User.id)).where(User.id == user.id)))


def people(program_id: int) -> list[Person]:
    """Everyone taking part in the program, by name, in one query."""
    rows = db.session.execute(
        select(
            Participant.id,
            User.id,
            User.name,
            User.email,
            Participant.department,
            Participant.level,
            User.active,
            _link_allowed(User.id),
        )
        .join(User, User.id == Participant.user_id)
        .where(Participant.program_id == program_id)
        .order_by(func.lower(User.name), User.id)
    )
    return [Person(*row) for row in rows]


def get_person(program_id: int, participant_id: int) -> tuple[Participant, User]:
    """One participant of the program with their account, or 404 (another program's too)."""
    row = db.session.execute(
        select(Participant, User)
        .join(User, User.id == Participant.user_id)
        .where(Participant.id == participant_id, Participant.program_id == program_id)
    ).one_or_none()
    if row is None:
        abort(404)
    return row.Participant, row.User


def add_participant(program: Program, values: dict[str, str]) -> tuple[User, bool]:
    """Add one person to ``program``: their account is made if the email is new (an existing one
    keeps its name). Returns the account and whether it is new; raises ``AlreadyInProgram``."""
    email = normalise_email(values["email"])
    user = db.session.scalar(User.by_email(email))
    created = user is None
    if user is None:
        user = User(name=values["name"], email=email)
        db.session.add(user)
        db.session.flush()
    elif db.session.scalar(
        select(Participant.id).where(Participant.program_id == program.id, Participant.user_id == user.id)
    ):
        raise AlreadyInProgram(user.name)
    participant = Participant(
        program_id=program.id, user_id=user.id, department=values["department"], level=values["level"]
    )
    db.session.add(participant)
    db.session.flush()
    return user, created


def participant_emails(program_id: int) -> set[str]:
    return set(
        db.session.scalars(
            select(User.email)
            .join(Participant, Participant.user_id == User.id)
            .where(Participant.program_id == program_id)
        )
    )


def import_rows(program: Program, rows: list[Row]) -> int:
    """Add every row (already checked by ``csv_import.read``) to ``program``; returns how many.
    People who already have an account keep it, and their name as they gave it."""
    emails = [row.email for row in rows]
    known = {user.email: user for user in db.session.scalars(select(User).where(User.email.in_(emails)))}
    new_users = [User(name=row.name, email=row.email) for row in rows if row.email not in known]
    db.session.add_all(new_users)
    db.session.flush()
    known |= {user.email: user for user in new_users}
    db.session.add_all(
        Participant(program_id=program.id, user_id=known[row.email].id, department=row.department, level=row.level)
        for row in rows
    )
    db.session.flush()
    return len(rows)


def pairs(program_id: int) -> list[PairNames]:
    """The program's pairs as the names of their two people, oldest pair first, in one query."""
    rows = db.session.execute(
        select(PairMember.pair_id, PairMember.role, User.name)
        .join(Pair, Pair.id == PairMember.pair_id)
        .join(User, User.id == PairMember.user_id)
        .where(Pair.program_id == program_id)
        .order_by(PairMember.pair_id)
    )
    names: dict[int, dict[Role, str]] = {}
    for pair_id, role, name in rows:
        names.setdefault(pair_id, {})[role] = name
    return [PairNames(pair_id, by_role[Role.MENTOR], by_role[Role.MENTEE]) for pair_id, by_role in names.items()]


def make_pair(program: Program, mentor: Person, mentee: Person) -> Pair:
    """Pair two participants of ``program``; raises ``AlreadyPaired`` if they already are one."""
    existing = db.session.scalar(
        select(PairMember.pair_id)
        .join(Pair, Pair.id == PairMember.pair_id)
        .where(Pair.program_id == program.id, PairMember.user_id.in_((mentor.user_id, mentee.user_id)))
        .group_by(PairMember.pair_id)
        .having(func.count() == 2)
        .limit(1)
    )
    if existing is not None:
        raise AlreadyPaired
    users = {
        user.id: user for user in db.session.scalars(select(User).where(User.id.in_((mentor.user_id, mentee.user_id))))
    }
    pair = Pair.create(program, mentor=users[mentor.user_id], mentee=users[mentee.user_id])
    db.session.add(pair)
    db.session.flush()
    return pair

"""Setting a program up: its settings, its participants and its pairs.

What this module reads of people is what the admin needs to run the program (names, emails,
departments, levels) and which pairs exist. It never selects anything a pair writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app import authz
from app.admin.csv_import import Problem, Row
from app.extensions import db
from app.feedback.prompts import create_default_set
from app.models import (
    Pair,
    PairMember,
    Participant,
    Program,
    ProgramAdmin,
    PromptSet,
    Role,
    User,
    normalise_email,
)


class AlreadyInProgram(Exception):
    """The person is already a participant of the program: nothing was added."""


class AlreadyPaired(Exception):
    """These two people are already a pair in the program: no second pair was made."""


class AdminsDontTakePart(Exception):
    """The person is a program admin, who may be neither a participant nor in a pair: nothing was
    added. The message says so in words for the admin."""

    def __init__(self, name: str) -> None:
        super().__init__(authz.ADMINS_ARE_NOT_MEMBERS.format(name=name))


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
    # Whether they have signed in at least once: "joined", or "not joined yet". Never when, nor
    # how often: when someone signs in says something about their pair's activity.
    joined: bool


@dataclass(frozen=True)
class PairNames:
    id: int
    mentor: str
    mentee: str


def get_program(program_id: int) -> Program:
    """The program ``program_id``, or 404."""
    return db.get_or_404(Program, program_id)


def prompt_set_choices(program_id: int) -> list[tuple[int, str]]:
    """The program's own prompt sets, oldest first, as (id, name) for a select."""
    rows = db.session.execute(
        select(PromptSet.id, PromptSet.name).where(PromptSet.program_id == program_id).order_by(PromptSet.id)
    )
    return [(row.id, row.name) for row in rows]


def create_program(values: dict[str, Any], *, created_by: int) -> Program:
    """A new program with ``values`` and its own copy of the default feedback questions; whoever
    created it is its first admin."""
    program = Program(**values)
    db.session.add(program)
    db.session.flush()
    db.session.add(ProgramAdmin(program_id=program.id, user_id=created_by, added_by_id=created_by))
    create_default_set(program)
    return program


def has_pairs(program_id: int) -> bool:
    return db.session.scalar(select(Pair.id).where(Pair.program_id == program_id).limit(1)) is not None


def update_program(program: Program, values: dict[str, Any]) -> list[str]:
    """Apply ``values``; the labels of the settings that changed, for the audit log."""
    changed = [name for name, value in values.items() if getattr(program, name) != value]
    for name in changed:
        setattr(program, name, values[name])
    return [SETTING_LABELS.get(name, name.replace("_", " ")) for name in changed]


# How the audit log names a changed setting.
SETTING_LABELS = {
    "name": "name",
    "starts_on": "start date",
    "ends_on": "end date",
    "privacy_threshold": "privacy threshold",
    "prompt_set_id": "feedback questions",
    "feedback_after_meeting": "check-in after each meeting",
    "feedback_every_weeks": "check-in every few weeks",
    "feedback_at_midpoint": "check-in at the midpoint",
    "feedback_at_end": "check-in at the end",
    "epsilon_per_release": "privacy budget per snapshot",
    "epsilon_per_year": "privacy budget per year",
    "retention_months": "how long pairs' words are kept",
}


def people(program_id: int, participant_id: int | None = None) -> list[Person]:
    """Everyone taking part in the program, by name, in one query (or the one ``participant_id``)."""
    query = (
        select(
            Participant.id,
            User.id,
            User.name,
            User.email,
            Participant.department,
            Participant.level,
            User.active,
            User.first_signed_in_at.is_not(None),
        )
        .join(User, User.id == Participant.user_id)
        .where(Participant.program_id == program_id)
        .order_by(func.lower(User.name), User.id)
    )
    if participant_id is not None:
        query = query.where(Participant.id == participant_id)
    return [Person(*row) for row in db.session.execute(query)]


def add_participant(program: Program, values: dict[str, str]) -> tuple[User, bool]:
    """Add one person to ``program``: their account is made if the email is new. An existing
    account is added as it is: the admin's name for them is ignored, and their address is theirs,
    so nothing typed here changes where their sign-in mail goes. Returns the account and whether it
    is new; raises ``AlreadyInProgram``, or ``AdminsDontTakePart`` for an admin's address."""
    email = normalise_email(values["email"])
    user = db.session.scalar(User.by_email(email))
    created = user is None
    if user is not None and not authz.may_take_part(user):
        raise AdminsDontTakePart(email)
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


def admins_among(rows: list[Row]) -> list[Problem]:
    """A problem for each row whose address is a program admin's: admins don't take part."""
    admins = set(
        db.session.scalars(select(User.email).where(User.email.in_([row.email for row in rows]), User.is_admin))
    )
    return [
        Problem(row.line, authz.ADMINS_ARE_NOT_MEMBERS.format(name=row.email)) for row in rows if row.email in admins
    ]


def import_rows(program: Program, rows: list[Row]) -> list[int]:
    """Add every row (already checked by ``csv_import.read``) to ``program``; returns who was added.
    People who already have an account keep it, and their name as they gave it."""
    emails = [row.email for row in rows]
    known = {user.email: user for user in db.session.scalars(select(User).where(User.email.in_(emails)))}
    new_users = [User(name=row.name, email=row.email) for row in rows if row.email not in known]
    db.session.add_all(new_users)
    db.session.flush()
    known |= {user.email: user for user in new_users}
    participants = [
        Participant(program_id=program.id, user_id=known[row.email].id, department=row.department, level=row.level)
        for row in rows
    ]
    db.session.add_all(participants)
    db.session.flush()
    # The intake answers a row carries (the same fields as the intake form), if any.
    from app.matching import intake

    intake.import_answers(program.id, [(p, row.answers) for p, row in zip(participants, rows, strict=True)])
    return [participant.user_id for participant in participants]


def pairs(program_id: int, pair_id: int | None = None) -> list[PairNames]:
    """The program's pairs as the names of their two people, oldest pair first, in one query (or
    the one ``pair_id``)."""
    query = (
        select(PairMember.pair_id, PairMember.role, User.name)
        .join(Pair, Pair.id == PairMember.pair_id)
        .join(User, User.id == PairMember.user_id)
        .where(Pair.program_id == program_id)
        .order_by(PairMember.pair_id)
    )
    if pair_id is not None:
        query = query.where(Pair.id == pair_id)
    rows = db.session.execute(query)
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
    for user in users.values():
        if not authz.may_take_part(user):  # promoted to admin after they were added
            raise AdminsDontTakePart(user.name)
    pair = Pair.create(program, mentor=users[mentor.user_id], mentee=users[mentee.user_id])
    db.session.add(pair)
    db.session.flush()
    return pair

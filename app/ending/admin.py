"""``/admin/programs/<id>/ending``: how a program ends, for its admin. Registered under the
``admin`` blueprint (app/admin/area.py), which has checked for an admin.

Four actions, each refused with a clear message when its condition fails, and otherwise asked
again on a confirm page: the first POST (from the ending page's button) answers with the page
that says what will happen, and only its own button (``confirmed=yes``) does it. So no action
hangs on a GET, and nothing is done by one tap: end the program (its pairs close), undo a pair
whose people never signed in, remove a participant who never joined, delete a program where
nobody in a pair has signed in.
Every action passes through ``_done``, the one place an audit log will record them.

What this page reads of pairs is whether they are closed (never how), whether their people have
joined (as the participants page shows), and a closing reason only where its author chose to
share it with the admin. Never whether a pair has written or met: that is for the noisy
dashboard alone (app/admin/snapshots.py), so the conditions of undoing a pair or deleting the
program rest on who has joined (someone who never signed in can't have written anything), and
the content check stays only as a safeguard in the DELETE itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_login import current_user
from sqlalchemy import delete, exists, or_, select

from app import htmx
from app.admin import audit, setup
from app.ending import closing
from app.ending.retention import content_tables, deletes_on
from app.extensions import db
from app.forms import EmptyForm
from app.models import (
    AuditAction,
    ClosingReason,
    Pair,
    PairMember,
    PairStatus,
    Participant,
    Program,
    User,
    utcnow,
)
from app.reminders import outbox

bp = Blueprint("ending", __name__, url_prefix="/programs/<int:program_id>/ending")

TEMPLATE = "admin/ending.html"
CONFIRM = "admin/ending_confirm.html"


def _done(action: AuditAction, program_id: int, *subjects: int | None, **details: int) -> None:
    """Every admin action of this page, in its own transaction (before the commit): kept in the
    program's log, one entry for each person it concerned."""
    current_app.logger.info("Admin %s: %s in program %s %s", current_user.id, action.value, program_id, details)
    for subject_id in subjects or (None,):
        audit.record(program_id, action, subject_id=subject_id, **details)


@dataclass(frozen=True)
class PairRow:
    id: int
    mentor: str
    mentee: str
    # Closed, never how: whether one of them closed it or it reached the end date they agreed is
    # their pair's doing, and the admin's own page would show it exactly.
    closed: bool
    # Neither of its people has signed in yet, so it holds nothing and may be undone.
    undoable: bool
    shared_reason: str | None


def _has_content(pair_ids):
    """An SQL condition: any row of any pair-content table for a pair among ``pair_ids``."""
    return or_(*(exists().where(table.c.pair_id.in_(pair_ids)) for table in content_tables()))


def _joined_pairs(program_id: int):
    """The ids of the program's pairs where someone has signed in to Twoway."""
    return (
        select(PairMember.pair_id)
        .join(Pair, Pair.id == PairMember.pair_id)
        .join(User, User.id == PairMember.user_id)
        .where(Pair.program_id == program_id, User.first_signed_in_at.is_not(None))
    )


def pair_rows(program_id: int) -> list[PairRow]:
    """The program's pairs with whether each may be undone and a closing reason shared with the
    admin: three queries (names, who joined, status and reasons)."""
    names = {row.id: row for row in setup.pairs(program_id)}
    if not names:
        return []
    joined = set(db.session.scalars(_joined_pairs(program_id)))
    rows = db.session.execute(
        select(Pair.id, Pair.status, ClosingReason.text)
        .outerjoin(ClosingReason, (ClosingReason.pair_id == Pair.id) & ClosingReason.shared.is_(True))
        .where(Pair.program_id == program_id)
        .order_by(Pair.id)
    )
    return [
        PairRow(
            pair_id,
            names[pair_id].mentor,
            names[pair_id].mentee,
            status == PairStatus.ENDED,
            pair_id not in joined,
            reason,
        )
        for pair_id, status, reason in rows
        if pair_id in names
    ]


def _never_joined(program_id: int) -> list[setup.Person]:
    paired = select(PairMember.user_id).join(Pair, Pair.id == PairMember.pair_id).where(Pair.program_id == program_id)
    return [
        person
        for person in setup.people(program_id)
        if not person.joined and person.user_id not in set(db.session.scalars(paired))
    ]


def _program_has_content(program_id: int) -> bool:
    pairs = select(Pair.id).where(Pair.program_id == program_id)
    return bool(db.session.scalar(select(_has_content(pairs))))


def _program_in_use(program_id: int) -> bool:
    """Someone in a pair has joined (what the admin sees anyway), or, as a safeguard, a pair
    holds something: then the program can't be deleted. Whichever holds, the admin is told the same."""
    return bool(db.session.scalar(select(exists(_joined_pairs(program_id))))) or _program_has_content(program_id)


@bp.get("")
def index(program_id: int) -> Response:
    program = setup.get_program(program_id)
    return htmx.render(
        TEMPLATE,
        program=program,
        pairs=pair_rows(program_id),
        never_joined=_never_joined(program_id),
        deletes_on=deletes_on(program),
        in_use=_program_in_use(program_id),
        form=EmptyForm(),
    )


def _refuse(program_id: int, message: str) -> Response:
    flash(message, "error")
    return htmx.redirect(url_for(".index", program_id=program_id))


def _confirmed() -> bool:
    return request.form.get("confirmed") == "yes"


def _confirm(program: Program, title: str, points: list[str], button: str, action: str) -> Response:
    return htmx.render(
        CONFIRM, program=program, title=title, points=points, button=button, action=action, form=EmptyForm()
    )


# --- end the program -----------------------------------------------------------------------------


def _confirm_end(program: Program) -> Response:
    program_id = program.id
    return _confirm(
        program,
        f"End {program.name} now",
        [
            "Its end date becomes today, and every pair still going closes now.",
            "Each person is told that their pair closed. Their spaces stay for them to read, and for two weeks "
            "they can answer a closing check-in and write a closing reflection.",
            f"Their words are deleted {program.retention_months} months after today, as the program's retention says.",
        ],
        "End the program",
        url_for(".end", program_id=program_id),
    )


@bp.post("/end")
def end(program_id: int) -> Response:
    program = setup.get_program(program_id)
    active = db.session.scalar(
        select(Pair.id).where(Pair.program_id == program_id, Pair.status == PairStatus.ACTIVE).limit(1)
    )
    if active is None and program.ends_on <= utcnow().date():
        return _refuse(program_id, f"{program.name} has already ended: there is no pair left to close.")
    if not _confirmed():
        return _confirm_end(program)
    ids = closing.close_program(program_id)
    _done(AuditAction.PROGRAM_ENDED, program_id)
    db.session.commit()
    outbox.queue_sending(ids)
    flash(f"{program.name} has ended. Its pairs are closed and their people told.", "success")
    return htmx.redirect(url_for(".index", program_id=program_id))


# --- undo a pair nobody has signed in to ---------------------------------------------------------


def _pair_of(program_id: int, pair_id: int) -> PairRow:
    row = next((row for row in pair_rows(program_id) if row.id == pair_id), None)
    if row is None:
        abort(404)
    return row


def _refuse_unpair(program_id: int, row: PairRow) -> Response:
    return _refuse(
        program_id,
        f"The pair of {row.mentor} and {row.mentee} can't be undone: only a pair whose people have not signed in "
        "yet can be. End it instead: it closes, and they keep their space.",
    )


def _confirm_unpair(program: Program, row: PairRow) -> Response:
    program_id, pair_id = program.id, row.id
    return _confirm(
        program,
        f"Undo the pair of {row.mentor} and {row.mentee}",
        [
            "Only a pair whose people have not signed in yet can be undone: they can't have written anything.",
            "Both stay participants of the program, and can be paired again, with each other or anyone else.",
        ],
        "Undo this pair",
        url_for(".unpair", program_id=program_id, pair_id=pair_id),
    )


@bp.post("/pairs/<int:pair_id>/undo")
def unpair(program_id: int, pair_id: int) -> Response:
    program = setup.get_program(program_id)
    row = _pair_of(program_id, pair_id)
    if not row.undoable:
        return _refuse_unpair(program_id, row)
    if not _confirmed():
        return _confirm_unpair(program, row)
    members = list(db.session.scalars(select(PairMember.user_id).where(PairMember.pair_id == pair_id)))
    undone = db.session.execute(
        delete(Pair).where(Pair.id == pair_id, Pair.program_id == program_id, ~_has_content([pair_id]))
    ).rowcount
    if not undone:
        # The safeguard held (a pair with words and nobody signed in): told as any other refusal.
        db.session.rollback()
        return _refuse_unpair(program_id, row)
    _done(AuditAction.PAIR_UNDONE, program_id, *members, pair=pair_id)
    db.session.commit()
    flash(f"The pair of {row.mentor} and {row.mentee} is undone.", "success")
    return htmx.redirect(url_for(".index", program_id=program_id))


# --- remove a participant who never joined -------------------------------------------------------


def _person(program_id: int, participant_id: int) -> setup.Person:
    person = next((p for p in setup.people(program_id) if p.participant_id == participant_id), None)
    if person is None:
        abort(404)
    return person


def _confirm_remove(program: Program, person: setup.Person) -> Response:
    program_id, participant_id = program.id, person.participant_id
    return _confirm(
        program,
        f"Remove {person.name} from {program.name}",
        [
            "Only someone who never signed in, and is in no pair of this program, can be removed.",
            "Their matching answers go with them. If they take part in no other program, their account goes too.",
        ],
        "Remove them",
        url_for(".remove", program_id=program_id, participant_id=participant_id),
    )


@bp.post("/participants/<int:participant_id>/remove")
def remove(program_id: int, participant_id: int) -> Response:
    program = setup.get_program(program_id)
    person = _person(program_id, participant_id)
    if person.joined:
        return _refuse(
            program_id, f"{person.name} has joined Twoway, so they stay: only people who never joined can be removed."
        )
    in_pair = db.session.scalar(
        select(PairMember.id)
        .join(Pair, Pair.id == PairMember.pair_id)
        .where(Pair.program_id == program_id, PairMember.user_id == person.user_id)
        .limit(1)
    )
    if in_pair is not None:
        return _refuse(program_id, f"{person.name} is in a pair. Undo the pair first, then remove them.")
    if not _confirmed():
        return _confirm_remove(program, person)
    db.session.execute(delete(Participant).where(Participant.id == participant_id))
    # Before the account may go with it: the entry then reads "a former participant".
    _done(AuditAction.PARTICIPANT_REMOVED, program_id, person.user_id)
    elsewhere = db.session.scalar(
        select(
            exists().where(Participant.user_id == person.user_id) | exists().where(PairMember.user_id == person.user_id)
        )
    )
    if not elsewhere:
        db.session.execute(
            delete(User).where(User.id == person.user_id, User.first_signed_in_at.is_(None), User.is_admin.is_(False))
        )
    db.session.commit()
    flash(f"{person.name} is no longer in the program.", "success")
    return htmx.redirect(url_for(".index", program_id=program_id))


# --- delete a program that holds no pair content -------------------------------------------------


def _confirm_delete(program: Program) -> Response:
    program_id = program.id
    return _confirm(
        program,
        f"Delete {program.name}",
        [
            "Only a program where nobody in a pair has signed in yet can be deleted: its pairs can't have written anything.",
            "Its settings, participants' places, matching answers and pairs go. People's accounts stay.",
        ],
        "Delete the program",
        url_for(".delete_program", program_id=program_id),
    )


@bp.post("/delete")
def delete_program(program_id: int) -> Response:
    program = setup.get_program(program_id)
    if _program_in_use(program_id):
        return _refuse(
            program_id,
            f"Someone in a pair of {program.name} has joined Twoway, so it can't be deleted. End it instead: what "
            f"its pairs wrote is deleted {program.retention_months} months after its end.",
        )
    if not _confirmed():
        return _confirm_delete(program)
    name = program.name
    # The database's cascades take its pairs, participants, prompts and matching with it.
    # The program's log goes with it (it held no pair content); the server's log keeps the deed.
    current_app.logger.info("Admin %s: deleted program %s", current_user.id, program_id)
    db.session.execute(delete(Program).where(Program.id == program_id))
    db.session.commit()
    flash(f"{name} is deleted.", "success")
    return htmx.redirect(url_for("admin.index"))

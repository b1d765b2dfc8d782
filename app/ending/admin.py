"""``/admin/programs/<id>/ending``: how a program ends, for its admin. Registered under the
``admin`` blueprint (app/admin/area.py), which has checked for an admin.

Four actions, each refused with a clear message when its condition fails, and otherwise asked
again on a confirm page: the first POST (from the ending page's button) answers with the page
that says what will happen, and only its own button (``confirmed=yes``) does it. So no action
hangs on a GET, and nothing is done by one tap: end the program (its pairs close), undo a pair
whose people never signed in, remove a participant who never joined, delete a program that held
nothing of anyone (``_why_kept``: deleting it takes its log too). None of these answers rests on
whether a pair wrote or met, which would tell the admin what the noisy dashboard hides.
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

from flask import Blueprint, Response, current_app, flash, request, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, delete, exists, or_, select, true, union

from app import authz, htmx
from app.admin import audit, setup
from app.ending import closing
from app.ending.retention import content_tables, deletes_on
from app.extensions import db
from app.forms import EmptyForm
from app.models import (
    AuditAction,
    ClosingReason,
    HelpRequest,
    Intake,
    Pair,
    PairMember,
    PairStatus,
    PairTally,
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


def _joined_pairs(program_id: int, only: ColumnElement[bool]):
    """The ids of the program's pairs where someone has signed in to Twoway."""
    return (
        select(PairMember.pair_id)
        .join(Pair, Pair.id == PairMember.pair_id)
        .join(User, User.id == PairMember.user_id)
        .where(Pair.program_id == program_id, User.first_signed_in_at.is_not(None), only)
    )


def pair_rows(program_id: int, pair_id: int | None = None) -> list[PairRow]:
    """The program's pairs (or the one ``pair_id``) with whether each may be undone and a closing
    reason shared with the admin: three queries (names, who joined, status and reasons)."""
    names = {row.id: row for row in setup.pairs(program_id, pair_id)}
    if not names:
        return []
    only = true() if pair_id is None else Pair.id == pair_id
    joined = set(db.session.scalars(_joined_pairs(program_id, only)))
    rows = db.session.execute(
        select(Pair.id, Pair.status, ClosingReason.text)
        .outerjoin(ClosingReason, (ClosingReason.pair_id == Pair.id) & ClosingReason.shared.is_(True))
        .where(Pair.program_id == program_id, only)
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
    paired = set(
        db.session.scalars(
            select(PairMember.user_id).join(Pair, Pair.id == PairMember.pair_id).where(Pair.program_id == program_id)
        )
    )
    return [person for person in setup.people(program_id) if not person.joined and person.user_id not in paired]


def _held(program_id: int) -> dict[str, ColumnElement[bool]]:
    """What a program may have held of anyone, each an SQL condition: its pairs' words now, their
    words since deleted by retention, and anyone who joined (signed in, answered its matching
    questions, asked for help)."""
    pairs = select(Pair.id).where(Pair.program_id == program_id)
    participants = select(Participant.id).where(Participant.program_id == program_id)
    people = union(
        select(Participant.user_id).where(Participant.program_id == program_id),
        select(PairMember.user_id).where(PairMember.pair_id.in_(pairs)),
    )
    return {
        "words": _has_content(pairs),
        "deleted words": or_(
            exists().where(PairTally.pair_id.in_(pairs)),
            exists().where(Program.id == program_id, Program.content_deleted_at.is_not(None)),
        ),
        "people": or_(
            exists().where(User.id.in_(people), User.first_signed_in_at.is_not(None)),
            exists().where(Intake.participant_id.in_(participants)),
            exists().where(HelpRequest.program_id == program_id),
        ),
    }


def _why_kept(program: Program) -> str | None:
    """Why ``program`` can't be deleted, in words, or None when it held nothing of anyone: one query.

    Deleting a program takes its log with it. That is acceptable only for a program set up and
    never used: once someone joined it or its pairs wrote (even words deleted since), the log of
    what its admins did is kept for them and for the owners, so an admin can't erase it."""
    held = db.session.execute(
        select(*(condition.label(name.replace(" ", "_")) for name, condition in _held(program.id).items()))
    ).one()
    # One answer whichever holds: which one would tell whether a pair wrote (once anyone in a pair
    # signed in, the admin could not tell the two apart from the participants page alone).
    if held.words or held.deleted_words or held.people:
        return (
            f"People have taken part in {program.name}, so it can't be deleted: the log of what its admins did "
            "stays, for them and for Twoway's owners. End it instead."
        )
    return None


@bp.get("")
def index(program_id: int) -> Response:
    program = setup.get_program(program_id)
    return htmx.render(
        TEMPLATE,
        program=program,
        pairs=pair_rows(program_id),
        never_joined=_never_joined(program_id),
        deletes_on=deletes_on(program),
        why_kept=_why_kept(program),
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
    """The pair's row as the page shows it; 404 for a pair not in this program (authz decides)."""
    [row] = pair_rows(program_id, authz.program_pair_id(program_id, pair_id))
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
    """The participant as the page shows them; 404 for one not in this program (authz decides)."""
    [person] = setup.people(program_id, authz.program_participant_id(program_id, participant_id))
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
    # The DELETE checks again: someone who signed in (or was paired) since the page read them stays.
    removed = db.session.execute(
        delete(Participant).where(
            Participant.id == participant_id,
            ~exists().where(User.id == Participant.user_id, User.first_signed_in_at.is_not(None)),
            ~exists().where(
                PairMember.user_id == Participant.user_id,
                PairMember.pair_id.in_(select(Pair.id).where(Pair.program_id == program_id)),
            ),
        )
    ).rowcount
    if not removed:
        db.session.rollback()
        return _refuse(program_id, f"{person.name} has joined or been paired meanwhile, so they stay.")
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


# --- delete a program that held nothing of anyone -------------------------------------------------


def _confirm_delete(program: Program) -> Response:
    program_id = program.id
    return _confirm(
        program,
        f"Delete {program.name}",
        [
            "Only a program nobody has used can be deleted: nobody joined it, answered its matching questions or asked for help, and its pairs wrote nothing.",
            "Its log of what its admins did goes with it.",
            "Its settings, participants' places and pairs go. People's accounts stay.",
        ],
        "Delete the program",
        url_for(".delete_program", program_id=program_id),
    )


@bp.post("/delete")
def delete_program(program_id: int) -> Response:
    program = setup.get_program(program_id)
    why_kept = _why_kept(program)
    if why_kept:
        return _refuse(program_id, why_kept)
    if not _confirmed():
        return _confirm_delete(program)
    name = program.name
    # The database's cascades take its pairs, participants, prompts and matching with it, and its
    # log (it held nothing of anyone); the server's log keeps the deed. The DELETE checks again:
    # a pair writing between the check and the delete keeps the program and its words.
    deleted = db.session.execute(
        delete(Program).where(Program.id == program_id, ~or_(*_held(program_id).values()))
    ).rowcount
    if not deleted:
        db.session.rollback()
        return _refuse(program_id, _why_kept(program) or f"{name} changed meanwhile: nothing was deleted.")
    current_app.logger.info("Admin %s: deleted program %s", current_user.id, program_id)
    db.session.commit()
    flash(f"{name} is deleted.", "success")
    return htmx.redirect(url_for("admin.index"))

"""Program set-up: settings, participants and pairs. Admins are never pair members here.

Registered under the ``admin`` blueprint (app/admin/area.py), which has checked for an admin. A
program id that doesn't exist is a 404. Nothing on these pages signs anyone in: the kick-off link
and QR code open the program's join page, where each person types their own address and gets a
sign-in link by mail (app/program/join.py).
"""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, Response, flash, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app import htmx
from app.admin import audit, csv_import, setup
from app.admin.forms import (
    ImportForm,
    ParticipantForm,
    edit_program_form,
    new_program_form,
    pair_form,
)
from app.extensions import db
from app.idempotency import idempotent
from app.models import AuditAction, Program
from app.urls import absolute_url

bp = Blueprint("programs", __name__)

PROGRAM_TEMPLATE = "admin/program.html"
PARTICIPANTS_TEMPLATE = "admin/participants.html"
PAIRS_TEMPLATE = "admin/pairs.html"


# --- program set-up ------------------------------------------------------------------------------


@bp.get("/programs/new")
def new_program() -> Response:
    return htmx.render(PROGRAM_TEMPLATE, form=new_program_form(), program=None)


@bp.post("/programs/new")
@idempotent
def create_program() -> Response:
    form = new_program_form(from_request=True)
    if not form.validate():
        return htmx.render(PROGRAM_TEMPLATE, status=422, form=form, program=None)
    program = setup.create_program(form.values(), created_by=current_user.id)
    audit.record(program.id, AuditAction.PROGRAM_CREATED)
    flash(f"Created {program.name}. Add its participants next.", "success")
    return htmx.redirect(url_for(".participants", program_id=program.id))


@bp.get("/programs/<int:program_id>/settings")
def edit_program(program_id: int) -> Response:
    program = setup.get_program(program_id)
    form = edit_program_form(program, setup.prompt_set_choices(program.id))
    return htmx.render(PROGRAM_TEMPLATE, form=form, program=program)


@bp.post("/programs/<int:program_id>/settings")
def save_program(program_id: int) -> Response:
    program = setup.get_program(program_id)
    form = edit_program_form(program, setup.prompt_set_choices(program.id), from_request=True)
    valid = form.validate()
    lowered = form.privacy_threshold.data is not None and form.privacy_threshold.data < program.privacy_threshold
    if valid and lowered and setup.has_pairs(program.id):
        # Participants were told "no figure describes fewer than k pairs": k may not shrink under them.
        form.privacy_threshold.errors.append(
            f"Once a program has pairs, its privacy threshold can only go up (it is {program.privacy_threshold})."
        )
        valid = False
    if valid and setup.has_pairs(program.id):
        # Participants were told how little any figure can tell about their pair: a larger ε per
        # snapshot makes each figure sharper and a larger year's budget buys more of them, so
        # neither may grow under them (as with k).
        values = form.values()
        for name in ("epsilon_per_release", "epsilon_per_year"):
            if name in values and values[name] > getattr(program, name):
                getattr(form, name).errors.append(
                    "Once a program has pairs, its privacy budget can only go down (it is "
                    f"{program.epsilon_per_release:g} a snapshot, {program.epsilon_per_year:g} a year)."
                )
                valid = False
    if not valid:
        return htmx.render(PROGRAM_TEMPLATE, status=422, form=form, program=program)
    changed = setup.update_program(program, form.values())
    if changed:
        audit.record(program.id, AuditAction.SETTINGS_CHANGED, changed=changed)
    db.session.commit()
    flash("Saved the program's settings.", "success")
    return htmx.redirect(url_for(".edit_program", program_id=program.id))


# --- participants --------------------------------------------------------------------------------


def _kick_off(program: Program) -> dict[str, str]:
    """The program's join page as a link and a QR code, to show at a kick-off or put in a mail.
    It signs nobody in: whoever opens it types their address and gets a link only in that inbox."""
    url = absolute_url("join.page", token=program.join_token)
    return {"url": url, "qr": segno.make(url, error="m").png_data_uri(scale=5, border=2, dark="#1d2b2a")}


def _participants_page(program: Program, status: int = 200, **extra: Any) -> Response:
    context = {
        "program": program,
        "people": setup.people(program.id),
        "join": _kick_off(program),
        "form": ParticipantForm.blank(),
        "import_form": ImportForm.blank(),
    } | extra
    return htmx.render(PARTICIPANTS_TEMPLATE, status=status, **context)


def _changed_meanwhile(program: Program, **forms: Any) -> Response:
    # Another admin added the same person between our check and our write: nothing of ours was saved.
    db.session.rollback()
    return _participants_page(program, 409, changed_meanwhile=True, **forms)


@bp.get("/programs/<int:program_id>/participants")
def participants(program_id: int) -> Response:
    return _participants_page(setup.get_program(program_id))


@bp.post("/programs/<int:program_id>/participants")
@idempotent
def add_participant(program_id: int) -> Response:
    program = setup.get_program(program_id)
    form = ParticipantForm()
    if not form.validate():
        return _participants_page(program, 422, form=form)
    try:
        user, created = setup.add_participant(program, form.values())
    except setup.AlreadyInProgram as already:
        form.email.errors = [f"{already.args[0]} is already in this program."]
        return _participants_page(program, 422, form=form)
    except setup.AdminsDontTakePart as refused:
        form.email.errors = [str(refused)]
        return _participants_page(program, 422, form=form)
    except IntegrityError:
        return _changed_meanwhile(program, form=form)
    audit.record(program.id, AuditAction.PARTICIPANT_ADDED, subject_id=user.id)
    flash(
        f"Added {user.name}."
        if created
        else f"Added {user.name}, who already has a Twoway account: they take part as themselves, "
        "with the name and address they have.",
        "success",
    )
    return htmx.redirect(url_for(".participants", program_id=program.id))


@bp.post("/programs/<int:program_id>/participants/import")
@idempotent
def import_participants(program_id: int) -> Response:
    program = setup.get_program(program_id)
    form = ImportForm()
    if not form.validate():
        return _participants_page(program, 422, import_form=form)
    data = form.file.data.read(csv_import.MAX_BYTES + 1)
    try:
        rows = csv_import.read(data, setup.participant_emails(program.id))
    except csv_import.Invalid as invalid:
        return _participants_page(program, 422, import_form=form, import_problems=invalid.problems)
    if problems := setup.admins_among(rows):
        return _participants_page(program, 422, import_form=form, import_problems=problems)
    try:
        added = setup.import_rows(program, rows)
    except IntegrityError:
        return _changed_meanwhile(program, import_form=form)
    audit.record(program.id, AuditAction.PARTICIPANTS_IMPORTED, count=len(added))
    for user_id in added:
        audit.record(program.id, AuditAction.PARTICIPANT_ADDED, subject_id=user_id, source="csv")
    flash(f"Added {len(added)} {'person' if len(added) == 1 else 'people'} from the file.", "success")
    return htmx.redirect(url_for(".participants", program_id=program.id))


# --- pairs ---------------------------------------------------------------------------------------


def _choices(people: list[setup.Person]) -> list[tuple[int, str]]:
    def label(person: setup.Person) -> str:
        about = ", ".join(part for part in (person.department, person.level) if part)
        return f"{person.name} ({about})" if about else f"{person.name} ({person.email})"

    return [(person.participant_id, label(person)) for person in people]


def _pairs_page(program: Program, people: list[setup.Person], status: int = 200, **extra: Any) -> Response:
    context = {
        "program": program,
        "pairs": setup.pairs(program.id),
        "people_count": len(people),
        "form": pair_form(_choices(people)),
    } | extra
    return htmx.render(PAIRS_TEMPLATE, status=status, **context)


@bp.get("/programs/<int:program_id>/pairs")
def pairs(program_id: int) -> Response:
    program = setup.get_program(program_id)
    return _pairs_page(program, setup.people(program.id))


@bp.post("/programs/<int:program_id>/pairs")
@idempotent
def make_pair(program_id: int) -> Response:
    program = setup.get_program(program_id)
    people = setup.people(program.id)
    form = pair_form(_choices(people), from_request=True)
    if not form.validate():
        return _pairs_page(program, people, 422, form=form)
    by_id = {person.participant_id: person for person in people}
    mentor, mentee = by_id[form.mentor.data], by_id[form.mentee.data]
    try:
        pair = setup.make_pair(program, mentor, mentee)
    except setup.AlreadyPaired:
        form.mentee.errors = [f"{mentor.name} and {mentee.name} are already a pair in this program."]
        return _pairs_page(program, people, 422, form=form)
    except setup.AdminsDontTakePart as refused:
        db.session.rollback()
        form.mentee.errors = [str(refused)]
        return _pairs_page(program, people, 422, form=form)
    for person in (mentor, mentee):
        audit.record(program.id, AuditAction.PAIR_MADE, subject_id=person.user_id, pair=pair.id)
    flash(f"Paired {mentor.name} (mentor) with {mentee.name} (mentee).", "success")
    return htmx.redirect(url_for(".pairs", program_id=program.id))

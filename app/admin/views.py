"""The admin area: program set-up and aggregates only. Admins are never pair members here.

Every route sits behind ``require_admin``. A program or participant id that doesn't exist (or a
participant of another program) is a 404. Sign-in links are shown once, in the answer to the POST
that made them, and never on a page that can be fetched again.
"""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, Response, flash, url_for
from sqlalchemy.exc import IntegrityError

from app import authz, htmx
from app.admin import aggregates, csv_import, setup
from app.admin.forms import (
    ImportForm,
    ParticipantForm,
    edit_program_form,
    new_program_form,
    pair_form,
)
from app.auth import links
from app.extensions import db
from app.forms import EmptyForm
from app.models import Program

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(authz.require_admin)

PROGRAM_TEMPLATE = "admin/program.html"
PARTICIPANTS_TEMPLATE = "admin/participants.html"
PAIRS_TEMPLATE = "admin/pairs.html"


@bp.get("")
def index() -> Response:
    return htmx.render("admin/index.html", programs=aggregates.program_summaries())


# --- program set-up ------------------------------------------------------------------------------


@bp.get("/programs/new")
def new_program() -> Response:
    return htmx.render(PROGRAM_TEMPLATE, form=new_program_form(), program=None)


@bp.post("/programs/new")
def create_program() -> Response:
    form = new_program_form(from_request=True)
    if not form.validate():
        return htmx.render(PROGRAM_TEMPLATE, status=422, form=form, program=None)
    program = setup.create_program(form.values())
    db.session.commit()
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
    if not valid:
        return htmx.render(PROGRAM_TEMPLATE, status=422, form=form, program=program)
    setup.update_program(program, form.values())
    db.session.commit()
    flash("Saved the program's settings.", "success")
    return htmx.redirect(url_for(".edit_program", program_id=program.id))


# --- participants --------------------------------------------------------------------------------


def _participants_page(program: Program, status: int = 200, **extra: Any) -> Response:
    context = {
        "program": program,
        "people": setup.people(program.id),
        "form": ParticipantForm(formdata=None),
        "import_form": ImportForm(formdata=None),
        "link_form": EmptyForm(formdata=None),
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
def add_participant(program_id: int) -> Response:
    program = setup.get_program(program_id)
    form = ParticipantForm()
    if not form.validate():
        return _participants_page(program, 422, form=form)
    try:
        user, created = setup.add_participant(program, form.values())
        db.session.commit()
    except setup.AlreadyInProgram as already:
        form.email.errors = [f"{already.args[0]} is already in this program."]
        return _participants_page(program, 422, form=form)
    except IntegrityError:
        return _changed_meanwhile(program, form=form)
    flash(f"Added {user.name}." if created else f"Added {user.name}, who already had a Twoway account.", "success")
    return htmx.redirect(url_for(".participants", program_id=program.id))


@bp.post("/programs/<int:program_id>/participants/import")
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
    try:
        added = setup.import_rows(program, rows)
        db.session.commit()
    except IntegrityError:
        return _changed_meanwhile(program, import_form=form)
    flash(f"Added {added} {'person' if added == 1 else 'people'} from the file.", "success")
    return htmx.redirect(url_for(".participants", program_id=program.id))


@bp.post("/programs/<int:program_id>/participants/<int:participant_id>/sign-in-link")
def issue_link(program_id: int, participant_id: int) -> Response:
    program = setup.get_program(program_id)
    _participant, user = setup.get_person(program.id, participant_id)
    if not EmptyForm().validate():
        return _participants_page(program, 422)
    if not user.active:
        return _participants_page(program, 409, inactive=user.name)
    if not setup.may_hand_out_link(user):
        return _participants_page(program, 409, started=user.name)
    url = links.issue(user)
    db.session.commit()
    qr = segno.make(url, error="m").png_data_uri(scale=5, border=2, dark="#1d2b2a")
    # The answer to this POST is the only place the link ever appears: it works once, for 15 minutes.
    response = _participants_page(program, issued={"name": user.name, "url": url, "qr": qr})
    response.headers["Cache-Control"] = "no-store"
    return response


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
def make_pair(program_id: int) -> Response:
    program = setup.get_program(program_id)
    people = setup.people(program.id)
    form = pair_form(_choices(people), from_request=True)
    if not form.validate():
        return _pairs_page(program, people, 422, form=form)
    by_id = {person.participant_id: person for person in people}
    mentor, mentee = by_id[form.mentor.data], by_id[form.mentee.data]
    try:
        setup.make_pair(program, mentor, mentee)
    except setup.AlreadyPaired:
        form.mentee.errors = [f"{mentor.name} and {mentee.name} are already a pair in this program."]
        return _pairs_page(program, people, 422, form=form)
    db.session.commit()
    flash(f"Paired {mentor.name} (mentor) with {mentee.name} (mentee).", "success")
    return htmx.redirect(url_for(".pairs", program_id=program.id))

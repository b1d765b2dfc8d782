"""A program's admins, named by the owners (``/admin/programs/<id>/admins``).

Owners run the Twoway instance and administer every program; each program admin administers the
programs an owner made them an admin of, and sees nothing of any other (app/authz.py). This
blueprint's ``before_request`` is ``authz.require_owner``, under the admin area's own guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, flash, url_for
from flask_login import current_user
from sqlalchemy import delete, func, select

from app import authz, htmx
from app.admin import audit, setup
from app.admin.forms import AdminForm
from app.auth import links
from app.extensions import db
from app.models import AuditAction, ProgramAdmin, User, normalise_email

bp = Blueprint("admins", __name__, url_prefix="/programs/<int:program_id>/admins")
bp.before_request(authz.require_owner)

TEMPLATE = "admin/admins.html"


@dataclass(frozen=True)
class Admin:
    id: int
    name: str
    email: str
    added_at: datetime


def program_admins(program_id: int) -> list[Admin]:
    rows = db.session.execute(
        select(User.id, User.name, User.email, ProgramAdmin.added_at)
        .join(ProgramAdmin, ProgramAdmin.user_id == User.id)
        .where(ProgramAdmin.program_id == program_id)
        .order_by(func.lower(User.name), User.id)
    )
    return [Admin(*row) for row in rows]


def _page(program_id: int, form: AdminForm, status: int = 200) -> Response:
    program = setup.get_program(program_id)
    return htmx.render(TEMPLATE, status=status, program=program, admins=program_admins(program_id), form=form)


@bp.get("")
def index(program_id: int) -> Response:
    return _page(program_id, AdminForm.blank())


@bp.post("")
def add(program_id: int) -> Response:
    setup.get_program(program_id)
    form = AdminForm()
    if not form.validate():
        return _page(program_id, form, 422)
    email = normalise_email(form.email.data)
    user = db.session.scalar(User.by_email(email))
    if user is not None and authz.takes_part(user.id):
        # The admin is an adversary of pairs' privacy: someone taking part can't become one.
        form.email.errors.append(authz.IN_A_PROGRAM.format(name=user.name))
        return _page(program_id, form, 422)
    if user is None:
        user = User(name=form.name.data, email=email, is_admin=True)
        db.session.add(user)
        db.session.flush()
    user.is_admin = True
    already = db.session.get(ProgramAdmin, (program_id, user.id)) is not None
    if not already:
        db.session.add(ProgramAdmin(program_id=program_id, user_id=user.id, added_by_id=current_user.id))
        audit.record(program_id, AuditAction.ADMIN_ADDED, subject_id=user.id)
    db.session.commit()
    if not already:
        # Their invitation: a sign-in link to their own address, landing on the program.
        links.mail_to(user, url_for("admin.dashboard.show", program_id=program_id))
        flash(f"{user.name} is an admin of this program. A sign-in link is on its way to {user.email}.", "success")
    else:
        flash(f"{user.name} is already an admin of this program.", "success")
    return htmx.redirect(url_for(".index", program_id=program_id))


@bp.post("/<int:user_id>/remove")
def remove(program_id: int, user_id: int) -> Response:
    setup.get_program(program_id)
    removed = db.session.execute(
        delete(ProgramAdmin).where(ProgramAdmin.program_id == program_id, ProgramAdmin.user_id == user_id)
    ).rowcount
    if removed:
        audit.record(program_id, AuditAction.ADMIN_REMOVED, subject_id=user_id)
    db.session.commit()
    flash(
        "Removed: they no longer see this program." if removed else "They were not an admin of this program.", "success"
    )
    return htmx.redirect(url_for(".index", program_id=program_id))

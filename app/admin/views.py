"""The admin area: program set-up and aggregates only. Admins are never pair members here."""

from flask import Blueprint, Response

from app import authz, htmx
from app.admin import aggregates

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(authz.require_admin)


@bp.get("")
def index() -> Response:
    return htmx.render("admin/index.html", programs=aggregates.program_summaries())

"""``/admin``: the parent of every admin page, and the list of programs.

The ``admin`` blueprint's ``before_request`` is ``authz.require_admin``, so every admin section
registered under it (program set-up, the dashboard) is guarded before any of its views runs, and
a new section is guarded the moment it is registered here. No admin view checks access itself.
Each program's pages answer only its own admins and the owners; the list shows only theirs.
"""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user

from app import authz, htmx
from app.admin import aggregates
from app.admin.admins import bp as admins_bp
from app.admin.audit import bp as log_bp
from app.admin.dashboard import bp as dashboard_bp
from app.admin.views import bp as programs_bp
from app.ending.admin import bp as ending_bp
from app.matching.views import bp as matching_bp

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(authz.require_admin)
for _section in (programs_bp, dashboard_bp, matching_bp, ending_bp, log_bp, admins_bp):
    bp.register_blueprint(_section)


@bp.get("")
def index() -> Response:
    return htmx.render(
        "admin/index.html", programs=aggregates.program_summaries(authz.administered_programs(current_user))
    )

"""Views of the ground rules section; registered under the ``pair`` blueprint, which guards access."""

from flask import Blueprint, Response

from app import htmx

bp = Blueprint("ground_rules", __name__, url_prefix="/ground-rules")


@bp.get("")
def index() -> Response:
    return htmx.render("ground_rules/index.html")

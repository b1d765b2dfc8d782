"""Views of the goals section; registered under the ``pair`` blueprint, which guards access."""

from flask import Blueprint, Response

from app import htmx

bp = Blueprint("goals", __name__, url_prefix="/goals")


@bp.get("")
def index() -> Response:
    return htmx.render("goals/index.html")

"""Views of the feedback section; registered under the ``pair`` blueprint, which guards access."""

from flask import Blueprint, Response

from app import htmx

bp = Blueprint("feedback", __name__, url_prefix="/feedback")


@bp.get("")
def index() -> Response:
    return htmx.render("feedback/index.html")

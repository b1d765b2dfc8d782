"""Views of the journal section; registered under the ``pair`` blueprint, which guards access."""

from flask import Blueprint, Response

from app import htmx

bp = Blueprint("journal", __name__, url_prefix="/journal")


@bp.get("")
def index() -> Response:
    return htmx.render("journal/index.html")

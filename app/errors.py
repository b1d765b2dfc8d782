"""Error pages in Twoway's own words, for pages, htmx fragments and the passkey scripts alike.

An error page needs nothing that may have failed: the 500 handler rolls the session back first,
and no error page queries the database or reads anything a view loaded (after a failed
transaction every loaded object is expired, and our relationships refuse lazy loads). The pages
use their own small layout, rendered without the app's context processors (which read the
signed-in person and the pair), and know who is signed in only if that was already loaded.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, has_request_context, jsonify, request, url_for
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

MESSAGES = {
    400: ("That didn't work", "Something in the request was off. Go back, reload the page and try again."),
    404: ("Not found", "There is nothing here, or it isn't yours to see. Check the link, or go back to your pairs."),
    405: ("Not allowed", "That page can't be used this way."),
    410: ("Link no longer valid", "This link has expired or was already used."),
    413: ("Too much at once", "That was more text than Twoway can take in one go. Shorten it and try again."),
    429: (
        "Too many tries",
        "You've tried that a lot in a short time. Wait a few minutes, then try again.",
    ),
    500: (
        "Something went wrong on our side",
        "Twoway hit an error. Go back and try again in a moment; if it keeps happening, tell your program's admin.",
    ),
}
CSRF_MESSAGE = (
    "Your sign-in changed since this page was loaded, so Twoway didn't save it. "
    "Go back, copy what you wrote, reload the page, paste it in and save again."
)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def _signed_in(may_query: bool) -> bool:
    """Whether someone is signed in, from Flask-Login's per-request cache when the request already
    loaded them; asking the database only when ``may_query`` and it answers."""
    user = g.get("_login_user")
    if user is not None:
        return bool(user.is_authenticated)
    if not may_query:
        return False
    try:
        return bool(current_user.is_authenticated)
    except Exception:  # noqa: BLE001 (an error page must show, whatever the database raises)
        current_app.logger.warning("Error page: could not tell who is signed in", exc_info=True)
        return False


def _render(status: int, title: str, message: str, *, may_query: bool = True) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(error=message), status
    if has_request_context() and request_ctx.url_adapter is None:
        # A Host header Werkzeug refuses (BadHost) left this request no way to build its URLs: the
        # page's links are the configured origin's.
        base = urlsplit(current_app.config["BASE_URL"])
        request_ctx.url_adapter = current_app.url_map.bind(base.netloc, url_scheme=base.scheme)
    if _signed_in(may_query):
        home, label = url_for("pairs.index"), "Back to your pairs"
    else:
        home, label = url_for("auth.sign_in"), "Go to sign-in"
    template = current_app.jinja_env.get_template("errors/error.html")
    page = template.render(status=status, title=title, message=message, home=home, home_label=label)
    return page, status


def _described(error: HTTPException, default: str) -> str:
    """For a 400, the message a view gave ``abort(400, description=...)`` (what was wrong with
    the request, in words for the person); for anything else, or without one, ours."""
    given = error.description
    return given if error.code == 400 and given and given != type(error).description else default


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError):
        if _wants_json():
            # Said so, for the page's script to take a fresh token and try once more: a request
            # still in flight at sign-out can put an older session cookie back under the page.
            return jsonify(error=CSRF_MESSAGE, stale_token=True), 400
        return _render(400, "Please try again", CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code >= 500:
            return server_error(error)
        title, message = MESSAGES.get(code, (error.name, error.description or ""))
        return _render(code, title, _described(error, message))

    @app.errorhandler(UnicodeDecodeError)
    def undecodable(error: UnicodeDecodeError):
        # Werkzeug reads the query string as UTF-8 and raises on raw bytes that aren't (a browser
        # always escapes them): the request's fault, a 400. Any other decoding error is ours (500).
        try:
            request.query_string.decode()
        except UnicodeDecodeError:
            return _render(400, MESSAGES[400][0], "The address has characters Twoway can't read. Check the link.")
        raise error

    @app.errorhandler(InternalServerError)
    def server_error(_error: HTTPException):
        # Whatever failed may have left the session in a failed transaction (or its connection
        # killed): end it before anything else, and don't ask the database anything more.
        try:
            db.session.rollback()
        except SQLAlchemyError:
            app.logger.warning("Could not roll back the session after an error", exc_info=True)
        return _render(500, *MESSAGES[500], may_query=False)

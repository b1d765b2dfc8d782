"""Error pages in Twoway's own words, for pages, htmx fragments and the passkey scripts alike."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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


def _render(status: int, title: str, message: str) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(error=message), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError):
        return _render(400, "Please try again", CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        title, message = MESSAGES.get(code, (error.name, error.description or ""))
        return _render(code, title, message)

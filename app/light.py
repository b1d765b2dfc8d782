"""The live probes' "nothing changed", answered before Flask's request cycle.

An open pair page asks its probe every few seconds while it is visible (``pair.changes.changes``,
and the ground rules' own while both people edit them), and almost every answer is a 204 or a 304,
decided by one indexed read (``authz.quick_visit``). Going through Flask's request cycle for it
(request and app contexts, Flask-Login, Flask-WTF, the rate limiter, every before- and
after-request hook) cost several times that read, on every probe of every open phone.

``LightProbes`` sits right in front of Flask's own WSGI app (inside ProxyFix, so the client's
address is already the real one) and answers such a GET itself when everything about it is plain:
a light view with a ``quick`` answer (``authz.light``), a session cookie that verifies (Flask's
own, opened by ``sessions.CookieSessions.peek``), the browser that signed in (Flask-Login's session
protection), and a read that finds the signed-in person a member of the pair. Its answer is the
view's own function's, with the headers every answer gets (``security.secure``). Anything else
goes on to Flask unchanged, which answers it as it always did: no session or a stale one, a moved
browser, someone who isn't a member, an admin, a malformed ``since`` (Flask says what is wrong),
a replayed write, a database that fails, and what the quick answer can't give (the ground rules'
edits to tell, which need the membership: Flask's path is handed the read already made).

What the skipped hooks would have done to such a request is nothing: no rate limit applies to pair
GETs (app/pairs/views.py), CSRF and the origin check look only at writes, the session isn't
written. tests/test_light_probes.py holds both paths to the same answer for every case, and fails
when Flask gains a hook this module hasn't been told about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from app import authz, security

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


class LightProbes:
    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._endings: frozenset[str] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        answer = self.answer(environ) if environ.get("REQUEST_METHOD") == "GET" else None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        return answer(environ, start_response)

    def endings(self) -> frozenset[str]:
        """The last path segments of the routes answered here: any other URL goes straight on."""
        if self._endings is None:  # known once the blueprints are registered, at the first request
            self._endings = frozenset(
                rule.rule.rpartition("/")[2]
                for rule in self.app.url_map.iter_rules()
                if authz.quick_answer(self.app.view_functions.get(rule.endpoint)) is not None
            )
        return self._endings

    def answer(self, environ: dict[str, Any]) -> Response | None:
        """The probe's answer when everything about it is plain and the view's quick answer can
        give it, else None (Flask answers)."""
        if environ.get("PATH_INFO", "").rpartition("/")[2] not in self.endings():
            return None
        asked = Request(environ)
        if authz.REPLAY_FOR in asked.headers:
            return None  # a replayed write's header on a GET: ``refuse_foreign_replay`` decides
        try:
            adapter = self.app.url_map.bind_to_environ(environ, server_name=self.app.config["SERVER_NAME"])
            endpoint, arguments = adapter.match(method="GET")
        except HTTPException:
            return None
        found = authz.quick_answer(self.app.view_functions.get(endpoint))
        if found is None or "pair_id" not in arguments:
            return None
        columns, quick = found
        with self.app.app_context():
            try:
                visit = authz.quick_visit(self.app, asked, arguments["pair_id"], columns)
                answer = None if visit is None else quick(visit, asked)
            except (HTTPException, UnicodeDecodeError, SQLAlchemyError):
                return None  # a bad query string or a failing database: Flask answers, as ever
        if answer is None:
            if visit is not None:
                environ[authz.VISIT_READ] = visit  # Flask's path needs more, but not this read again
            return None
        security.secure(answer, https=self.app.config["SESSION_COOKIE_SECURE"])
        answer.vary.add("Cookie")  # as Flask adds for every answer that read the session
        return answer


def init_app(app: Flask) -> None:
    """Before anything else wraps Flask's WSGI app: ProxyFix and the static files come first."""
    app.wsgi_app = LightProbes(app, app.wsgi_app)  # type: ignore[method-assign]
    app.extensions["light_probes"] = app.wsgi_app

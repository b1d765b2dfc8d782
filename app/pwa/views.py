"""The web app manifest, the service worker (served from the root so its scope is the whole app),
and the page it shows when the phone is offline."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app import authz
from app.authz import public

bp = Blueprint("pwa", __name__)
# A write queued offline names its author; sent under anyone else's session it is refused.
bp.before_app_request(authz.refuse_foreign_replay)

THEME_COLOUR = "#1d5c57"
BACKGROUND_COLOUR = "#f7f5f0"
# The static shell the service worker keeps for offline use. Of signed-in HTML it keeps only the
# person's own home and landing (keeps_offline_copy below, pwa/sw.js).
SHELL = (
    "css/app.css",
    "js/app.js",
    "js/passkeys.js",
    "js/ground_rules.js",
    "js/outbox.js",
    "js/offline.js",
    "vendor/htmx-2.0.11.min.js",
    "icons/icon.svg",
    "icons/icon-192.png",
)


@cache
def shell_version(static_folder: str) -> str:
    """A digest of the shell files: a deploy that changes any of them installs a new cache."""
    digest = hashlib.sha256()
    for name in SHELL:
        digest.update((Path(static_folder) / name).read_bytes())
    return digest.hexdigest()[:12]


@bp.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    icon = lambda name, size, purpose="any": {  # noqa: E731
        "src": url_for("static", filename=f"icons/{name}"),
        "sizes": size,
        "type": "image/png",
        "purpose": purpose,
    }
    body = {
        "id": "/",
        "name": "Twoway: reverse mentoring",
        "short_name": "Twoway",
        "description": "A private space for a reverse-mentoring pair: ground rules, goals, journal, feedback.",
        # Not "/": a person with one pair opens the app on that pair's home (app/pairs/landing.py).
        # The id stays "/", so phones that installed the app before keep it as the same app.
        "start_url": "/start",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            icon("icon-192.png", "192x192"),
            icon("icon-512.png", "512x512"),
            icon("icon-maskable-512.png", "512x512", "maskable"),
        ],
    }
    response = current_app.json.response(body)
    response.mimetype = "application/manifest+json"
    response.cache_control.max_age = 3600
    return response


@bp.get("/sw.js")
@public
def service_worker() -> Response:
    body = render_template(
        "pwa/sw.js",
        version=shell_version(current_app.static_folder),
        shell=[url_for("static", filename=name) for name in SHELL],
        offline_url=url_for(".offline"),
        outbox_script=url_for("static", filename="js/outbox.js"),
    )
    response = Response(body, mimetype="text/javascript")
    # Browsers must check for a new worker on every visit.
    response.cache_control.no_cache = True
    return response


@bp.app_template_global()
def keeps_offline_copy() -> bool:
    """Drawn into the pair home and the list of pairs (pwa/_offline_copy.html): the service worker
    keeps a copy of only the pages that say so, for opening the app with no network."""
    return authz.may_keep_offline_copy(current_user)


@bp.get("/offline")
@public
def offline() -> Response:
    response = Response(render_template("pwa/offline.html"))
    # The service worker keeps its own copy; this page holds nothing private.
    response.cache_control.no_cache = True
    return response


@bp.get("/outbox/session")
@public
def outbox_session() -> Response:
    """Whose session this browser holds now, with a CSRF token for it: fetched fresh before each
    replay of the device's outbox (app/static/js/outbox.js), by the page or by the service worker
    (which has no page to read a token from). A write queued under someone else is then dropped
    on the device, never sent in this person's name. Public, so a signed-out browser learns that
    it must wait rather than being sent to the sign-in page."""
    if current_user.is_authenticated:
        body = {"user": current_user.id, "generation": current_user.session_generation, "csrf": generate_csrf()}
    else:
        body = {"user": None}
    response = current_app.json.response(body)
    response.cache_control.no_store = True
    return response

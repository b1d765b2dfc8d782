"""The web app manifest, the service worker (served from the root so its scope is the whole app),
and the page it shows when the phone is offline."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for

from app.authz import public

bp = Blueprint("pwa", __name__)

THEME_COLOUR = "#1d5c57"
BACKGROUND_COLOUR = "#f7f5f0"
# The static shell the service worker keeps for offline use. Signed-in HTML is never cached.
SHELL = (
    "css/app.css",
    "js/app.js",
    "js/passkeys.js",
    "js/ground_rules.js",
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
    )
    response = Response(body, mimetype="text/javascript")
    # Browsers must check for a new worker on every visit.
    response.cache_control.no_cache = True
    return response


@bp.get("/offline")
@public
def offline() -> Response:
    response = Response(render_template("pwa/offline.html"))
    # The service worker keeps its own copy; this page holds nothing private.
    response.cache_control.no_cache = True
    return response

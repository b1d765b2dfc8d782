"""What makes Twoway installable: the manifest, its icons, the service worker, the offline page."""

from __future__ import annotations

import struct
from pathlib import Path

from factories import PairFactory

from app import static_build

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"


def static_url(name: str) -> str:
    """The URL pages use for ``name``: its content-hashed copy."""
    return "/static/" + static_build.read_manifest()[name]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_manifest_describes_an_installable_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["id"] == "/" and manifest["start_url"] == "/start" and manifest["scope"] == "/"
    assert manifest["name"].startswith("Twoway") and manifest["short_name"] == "Twoway"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
        width, height = png_size(static_build.TARGET / icon["src"].removeprefix("/static/"))
        assert f"{width}x{height}" == icon["sizes"]


def test_service_worker_is_served_from_the_root_and_always_revalidated(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.text
    assert '"/offline"' in body
    # The shell it keeps is the hashed files the pages link.
    for name in ("css/app.css", "vendor/htmx-2.0.11.min.js", "js/app.js"):
        asset = static_url(name)
        assert f'"{asset}"' in body
        assert client.get(asset).status_code == 200
        assert f'"/static/{name}"' not in body
    # Signed-in pages and htmx answers are never put in a cache.
    assert "cache.put" not in body
    assert 'request.headers.get("HX-Request")' in body


def test_offline_page_holds_nothing_personal_even_when_fetched_signed_in(client, login, session):
    pair = PairFactory()
    login(pair.mentor)
    response = client.get("/offline")
    assert response.status_code == 200
    assert "You're offline" in response.text
    for private in (pair.mentor.name, pair.mentee.name, pair.mentor.email, "csrf"):
        assert private not in response.text
    assert response.headers["Cache-Control"] == "no-cache"


def test_every_page_links_the_manifest_and_registers_the_worker(client):
    page = client.get("/auth/sign-in").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert f'src="{static_url("js/app.js")}"' in page
    assert 'serviceWorker.register("/sw.js"' in (STATIC / "js" / "app.js").read_text()

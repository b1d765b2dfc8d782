"""What makes Twoway installable: the manifest, its icons, the service worker, the offline page."""

from __future__ import annotations

import struct
from pathlib import Path

from factories import AdminFactory, PairFactory
from sqlalchemy import select

from app import static_build
from app.models import Topic

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
    # htmx answers are never put in a cache, and of signed-in pages only the kept home is, in
    # keepHome alone (tested below and in tests/browser/test_offline.py).
    kept = body[body.index("const keepHome") : body.index("const keptHome")]
    assert body.count("cache.put") == kept.count("cache.put") == 2
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


# --- The outbox: writes typed offline, replayed later (app/static/js/outbox.js) -----------------


def test_outbox_session_says_whose_session_this_is_with_a_fresh_token(client, mentor, pair, queries):
    signed_out = client.get("/outbox/session")
    assert signed_out.status_code == 200 and signed_out.get_json() == {"user": None}
    with queries() as log:
        answer = mentor.get("/outbox/session")
    # Asked before every replay: the person, loaded as every request does, and nothing more.
    assert log.count == 1, log.statements
    body = answer.get_json()
    assert body["user"] == pair.mentor.id and body["generation"] == pair.mentor.session_generation
    assert body["csrf"]
    # Never kept by a cache between two people or two sessions.
    assert "no-store" in answer.headers["Cache-Control"]


def test_pages_name_their_owner_for_the_devices_drafts_and_outbox(mentor, pair):
    page = mentor.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert f'<meta name="twoway-owner" content="{pair.mentor.id}:{pair.mentor.session_generation}">' in page
    assert static_url("js/outbox.js") in page and static_url("js/offline.js") in page


def test_a_write_replayed_under_someone_elses_session_is_refused(mentor, mentee, pair, session):
    replay = {"text": "Typed by Aisha offline", "idempotency_key": "k" * 22}
    refused = mentee.post(
        f"/pairs/{pair.id}/topics",
        data=replay,
        headers={"HX-Request": "true", "Twoway-Replay-For": str(pair.mentor.id)},
    )
    assert refused.status_code == 403 and refused.headers["Twoway-Replay-Refused"] == "other-person"
    assert session.scalars(select(Topic.text)).all() == []

    own = {"HX-Request": "true", "Twoway-Replay-For": str(pair.mentor.id)}
    assert mentor.post(f"/pairs/{pair.id}/topics", data=replay, headers=own).status_code < 300
    # Sent again (the first answer never reached the phone): still one topic.
    assert mentor.post(f"/pairs/{pair.id}/topics", data=replay, headers=own).status_code < 300
    assert session.scalars(select(Topic.text)).all() == ["Typed by Aisha offline"]


def test_a_replay_after_sign_out_is_told_so_and_makes_nothing(client, pair, session):
    answer = client.post(
        f"/pairs/{pair.id}/topics",
        data={"text": "Typed offline", "idempotency_key": "k" * 22},
        headers={"HX-Request": "true", "Twoway-Replay-For": str(pair.mentor.id)},
    )
    # 401, not the sign-in page: the device keeps the write until its owner signs in again.
    assert answer.status_code == 401
    assert session.scalars(select(Topic.text)).all() == []


def test_the_service_worker_sends_the_outbox_on_background_sync(client):
    body = client.get("/sw.js").get_data(as_text=True)
    assert f"importScripts({static_url('js/outbox.js')!r})".replace("'", '"') in body
    assert 'addEventListener("sync"' in body


# --- The home kept on the device for opening the app offline (pwa/sw.js) -------------------------

KEEP = '<meta name="twoway-offline-copy" content="keep">'


def test_only_the_home_and_the_landing_of_a_pair_member_ask_to_be_kept_offline(app, client, mentor, pair, login):
    # The pair home and the list of pairs (/start's landings) ask the device to keep a copy...
    assert KEEP in mentor.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert KEEP in mentor.get("/").get_data(as_text=True)
    # ...while the server still tells every cache on the way to keep nothing.
    assert "no-store" in mentor.get(f"/pairs/{pair.id}").headers["Cache-Control"]
    # Other pages don't, nor pages drawn for nobody signed in.
    assert KEEP not in mentor.get(f"/pairs/{pair.id}/journal").get_data(as_text=True)
    assert KEEP not in client.get("/auth/sign-in").get_data(as_text=True)
    # Never an admin's: their list of pairs links to the program admin.
    admin = login(AdminFactory(), on=app.test_client())
    page = admin.get("/").get_data(as_text=True)
    assert 'name="twoway-owner"' in page and KEEP not in page

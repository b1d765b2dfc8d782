"""Static files: content-hashed names that browsers keep for a year, precompressed, and the
service worker, which keeps its name and is always checked again."""

from __future__ import annotations

import re

import pytest
from support.apps import make_app

from app import create_app, static_build
from app.config import ConfigError

YEAR = "max-age=31536000"


def hashed(name: str) -> str:
    return "/static/" + static_build.read_manifest()[name]


def test_pages_link_the_hashed_names(client):
    page = client.get("/auth/sign-in").text
    linked = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page))
    assert hashed("css/app.css") in linked and hashed("js/app.js") in linked
    assert hashed("vendor/htmx-2.0.11.min.js") in linked
    assert all(re.search(r"\.[0-9a-f]{12}\.\w+$", url) for url in linked), linked


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_hashed_file_is_immutable_and_sent_compressed_when_asked(client, encoding):
    response = client.get(hashed("css/app.css"), headers={"Accept-Encoding": encoding})
    assert response.status_code == 200
    cache = response.headers["Cache-Control"]
    assert YEAR in cache and "immutable" in cache
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_hashed_file_is_sent_as_it_is_to_a_browser_that_asks_for_no_compression(client):
    response = client.get(hashed("js/app.js"))
    assert "Content-Encoding" not in response.headers
    assert response.data == (static_build.SOURCE / "js" / "app.js").read_bytes()


def test_unhashed_names_and_the_service_worker_are_never_immutable(client):
    plain = client.get("/static/css/app.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers["Cache-Control"]
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Cache-Control"] == "no-cache"
    # Served from the root under its fixed name, so its scope is the whole app.
    assert 'serviceWorker.register("/sw.js"' in (static_build.SOURCE / "js" / "app.js").read_text()


def test_the_web_manifest_and_its_icons_still_answer(client):
    manifest = client.get("/manifest.webmanifest").get_json(force=True)
    for icon in manifest["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"]


def test_a_changed_file_gets_a_new_name_and_the_old_one_stays(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    (source / "css" / "app.css").write_text("body { color: red; }\n" * 50)
    first = static_build.ensure(source, target)["css/app.css"]
    assert static_build.ensure(source, target)["css/app.css"] == first
    assert (target / (first + ".br")).is_file() and (target / (first + ".gz")).is_file()

    (source / "css" / "app.css").write_text("body { color: blue; }\n" * 50)
    with pytest.raises(static_build.StaleBuild):
        static_build.current(source, target)
    second = static_build.ensure(source, target)["css/app.css"]
    assert second != first
    assert static_build.read_manifest(target)["css/app.css"] == second
    # A page opened before the deploy may still ask for the old file.
    assert (target / first).is_file()


def test_production_refuses_to_start_without_the_build(tmp_path, monkeypatch):
    monkeypatch.setattr(static_build, "TARGET", tmp_path / "not-built")
    environ = {"SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3"}
    with pytest.raises(ConfigError, match="python -m app.static_build"):
        create_app(environ=environ)


def test_development_builds_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(static_build, "TARGET", tmp_path / "built")
    app = make_app(f"sqlite:///{tmp_path}/d.sqlite3")
    response = app.test_client().get(hashed("css/app.css"))
    assert (tmp_path / "built" / static_build.MANIFEST).is_file()
    assert response.status_code == 200

"""Vendored front-end files are the pinned versions we recorded, and pages load them with integrity."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "app" / "static" / "vendor"


def test_each_vendored_file_matches_its_recorded_sha384():
    recorded = json.loads((VENDOR / "VENDORED.json").read_text())
    assert recorded
    for filename, meta in recorded.items():
        digest = base64.b64encode(hashlib.sha384((VENDOR / filename).read_bytes()).digest()).decode()
        assert digest == meta["sha384"], filename
        assert meta["version"] in filename


def test_htmx_is_2_0_11():
    recorded = json.loads((VENDOR / "VENDORED.json").read_text())["htmx-2.0.11.min.js"]
    assert recorded["package"] == "htmx.org" and recorded["version"] == "2.0.11"
    assert b'version:"2.0.11"' in (VENDOR / "htmx-2.0.11.min.js").read_bytes()


def test_pages_load_htmx_with_subresource_integrity_and_csrf_headers(client):
    sha = json.loads((VENDOR / "VENDORED.json").read_text())["htmx-2.0.11.min.js"]["sha384"]
    page = client.get("/auth/sign-in").text
    assert f'integrity="sha384-{sha}"' in page
    assert "hx-headers='{&#34;X-CSRFToken&#34;:" in page or 'hx-headers=\'{"X-CSRFToken":' in page
    assert '"historyCacheSize":0' in page and '"allowEval":false' in page and '"includeIndicatorStyles":false' in page

"""The htmx helpers: which block a target may choose, and that nothing else reads HX-* headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import htmx

APP = Path(__file__).resolve().parent.parent / "app"


@pytest.mark.parametrize(
    ("target", "chosen"),
    [
        ("board", "board"),
        ("goal-12", "goal"),
        ("goal-", None),
        ("goal-x", None),
        ("base", None),  # a block of the layout the view never listed
        ("content", None),
        (None, None),
    ],
)
def test_a_target_picks_only_a_listed_block(app, target, chosen):
    headers = {"HX-Request": "true"} | ({"HX-Target": target} if target else {})
    with app.test_request_context("/", headers=headers):
        assert htmx.chosen_block(("board", "goal")) == chosen


def test_without_htmx_no_block_is_chosen(app):
    with app.test_request_context("/", headers={"HX-Target": "board"}):
        assert htmx.chosen_block(("board",)) is None


def test_an_unknown_block_is_named_in_the_error(app):
    with app.test_request_context("/"), pytest.raises(LookupError, match="no block 'nope'"):
        htmx.render_block("base.html", "nope")


def test_after_write_redirects_without_javascript_and_sends_the_block_with_it(app):
    def context():
        raise AssertionError("a redirect needs no context")

    with app.test_request_context("/", method="POST"):
        response = htmx.after_write("/done", "base.html", blocks=("content",), context=context)
        assert (response.status_code, response.headers["Location"]) == (303, "/done")
    with app.test_request_context("/", method="POST", headers={"HX-Request": "true", "HX-Target": "elsewhere"}):
        response = htmx.after_write("/done", "base.html", blocks=("content",), context=context)
        assert (response.status_code, response.headers["HX-Redirect"]) == (204, "/done")


def test_pages_vary_on_both_headers_that_choose_what_they_hold(client):
    response = client.get("/auth/sign-in")
    assert {"HX-Request", "HX-Target"} <= set(response.vary)


def test_only_the_htmx_module_reads_htmx_headers():
    readers = []
    for path in APP.rglob("*.py"):
        if path == APP / "htmx.py":
            continue
        text = path.read_text()
        if "request.htmx" in text or re.search(r"""["']HX-""", text) or "HTTP_HX_" in text:
            readers.append(str(path.relative_to(APP)))
    assert readers == []

"""Twoway as an installed app: the service worker, the offline page, installability, and what
sign-out clears."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from app import static_build

pytestmark = pytest.mark.browser


def wait_for_service_worker(page: Page) -> str:
    """Wait until the service worker is active (its shell cached), and return its script URL."""
    return page.evaluate("navigator.serviceWorker.ready.then((registration) => registration.active.scriptURL)")


def sign_in_with_link(page: Page, live_server, person) -> None:
    page.goto(live_server.sign_in_url(person))
    page.get_by_role("button", name=f"Continue as {person.name}").click()
    page.get_by_role("link", name="Not now").click()
    # In one pair: on to its home.
    expect(page).to_have_url(re.compile(r"/pairs/\d+$"))
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^You and "))).to_be_visible()


def test_service_worker_controls_pages_and_shows_the_offline_page(
    context: BrowserContext, page: Page, page_errors, live_server
):
    pair = live_server.create_pair(mentor="Lena Fischer", mentee="Tomas Varga")
    page.goto("/auth/sign-in")
    assert wait_for_service_worker(page) == f"{live_server.url}/sw.js"
    page.reload()
    controller = page.evaluate("navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL")
    assert controller == f"{live_server.url}/sw.js"

    sign_in_with_link(page, live_server, pair.mentor)
    page.goto(pair.url)
    expect(page.get_by_role("heading", level=1, name=f"You and {pair.mentee.name}")).to_be_visible()
    assert page_errors == [], "\n".join(page_errors)

    # The worker's shell is public files only; of the pages signed in to, it keeps the home alone,
    # apart, under its owner's name (the home kept for opening the app offline, test_offline.py).
    homes = "caches.keys().then((keys) => keys.filter((key) => key.startsWith('twoway-home:')).length)"
    for _ in range(200):
        if page.evaluate(homes):
            break
        page.wait_for_timeout(50)
    cached = page.evaluate(
        """async () => {
          const paths = {};
          for (const name of await caches.keys()) {
            const kind = name.startsWith("twoway-home:") ? name : "shell";
            for (const request of await (await caches.open(name)).keys()) {
              (paths[kind] = paths[kind] || []).push(new URL(request.url).pathname);
            }
          }
          for (const list of Object.values(paths)) list.sort();
          return paths;
        }"""
    )
    shell = cached.pop("shell")
    # The shell is the content-hashed files the pages link, so a deploy that changes one fetches it anew.
    stylesheet = "/static/" + static_build.read_manifest()["css/app.css"]
    assert "/offline" in shell and stylesheet in shell and "/static/css/app.css" not in shell, shell
    assert all(path == "/offline" or path.startswith("/static/") for path in shell), shell
    [(name, kept)] = cached.items()
    assert name.startswith(f"twoway-home:{pair.mentor.id}:") and kept == sorted([pair.url, "/start"]), cached

    context.set_offline(True)
    try:
        # A page other than the home is never kept: offline, it is the offline page.
        page.goto(f"{pair.url}/journal")
        expect(page.get_by_role("heading", name="You're offline")).to_be_visible()
        expect(page).to_have_title("You're offline · Twoway")
        # The shell came from the cache too: the page is styled and its button works.
        assert page.evaluate("document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 0")

        context.set_offline(False)
        page.get_by_role("button", name="Try again").click()
        expect(page.get_by_role("heading", level=1, name=f"You and {pair.mentee.name}")).to_be_visible()
        assert page_errors == []
    finally:
        context.set_offline(False)


def test_installable(playwright: Playwright, browser_type_launch_args: dict, live_server, tmp_path):
    """Chromium's own installability check, the one behind its "Install app" offer: a secure
    origin (localhost counts), a manifest with a name, start URL, display mode and large enough
    icons that load. It needs a persistent profile: from an incognito (throwaway) context, which
    is what every other test uses, Chromium answers "in-incognito" whatever the app does."""
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=tmp_path / "profile", **browser_type_launch_args
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{live_server.url}/auth/sign-in")
        wait_for_service_worker(page)
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], f"Chromium says Twoway can't be installed: {errors}"
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
    finally:
        context.close()


def test_sign_out_clears_the_browser_cache(page: Page, page_errors, live_server):
    pair = live_server.create_pair(mentor="Ada Brook", mentee="Clive Stone")
    sign_in_with_link(page, live_server, pair.mentor)
    expect(page.get_by_role("heading", level=1, name=f"You and {pair.mentee.name}")).to_be_visible()

    page.get_by_role("navigation", name="Account").get_by_text("Menu", exact=True).click()
    with page.expect_response(lambda r: r.url.endswith("/auth/sign-out") and r.request.method == "POST") as signed_out:
        page.get_by_role("button", name="Sign out").click()
    assert signed_out.value.status == 303
    assert signed_out.value.all_headers().get("clear-site-data") == '"cache"'
    expect(page.get_by_role("status").filter(has_text="You're signed out.")).to_be_visible()

    # Going back shows no signed-in page from memory: the browser asks the server, which says no.
    page.go_back()
    expect(page.get_by_role("heading", name="Sign in to Twoway")).to_be_visible()
    assert page_errors == [], "\n".join(page_errors)

"""Pair pages kept between writes (app/page_cache.py): served again only to the person, the session
and the moment they were drawn for, with the session's own CSRF token, and never instead of access
decisions, flash messages or a page that changed."""

from __future__ import annotations

import socket
from datetime import date, timedelta

import pytest
from factories import AdminFactory, PairFactory
from itsdangerous import URLSafeTimedSerializer
from support.limits import REDIS_URL, RUN_PREFIX, require_storage

from app import page_cache
from app.models import Goal, Meeting, Role, utcnow

SECRET = "only-Margaret-reads-this-7e21"


@pytest.fixture
def kept(app, monkeypatch) -> page_cache.MemoryStore:
    """The page cache on, in memory, as on the embedded default (the suite runs with it off)."""
    store = page_cache.MemoryStore()
    monkeypatch.setitem(app.extensions, page_cache.EXTENSION, store)
    return store


@pytest.fixture
def meeting(session, pair) -> Meeting:
    found = Meeting(pair_id=pair.id, held_on=date.today(), author_id=pair.mentor.id, notes="Shared notes")
    session.add(found)
    session.flush()
    return found


def token_of(client, app, body: str) -> str:
    """The CSRF token ``body`` carries, checked to be ``client``'s session's own."""
    token = body.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
    with client.session_transaction() as flask_session:
        raw = flask_session["csrf_token"]
    assert URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").loads(token) == raw
    with app.app_context():
        assert page_cache.csrf_placeholder() not in body
    return token


def served_from_cache(client, queries, url: str, **kwargs):
    """Ask for ``url``; return the answer and whether it was kept (only the person and the
    membership were read: nothing of the page was drawn)."""
    with queries() as log:
        response = client.get(url, **kwargs)
    return response, log.count <= 2


def told(client, home: str) -> None:
    """The first visit to the pair's home in a session: it names the roles, says so in the session
    (``_first_visit``) and so is never kept."""
    assert client.get(home).status_code == 200


def reflect(client, pair, meeting: Meeting, body: str):
    base = f"/pairs/{pair.id}/journal/meetings/{meeting.id}"
    page = client.get(base).text
    version = page.split(f'name="reflection-{meeting.id}-version" type="hidden" value="', 1)[1].split('"', 1)[0]
    data = {f"reflection-{meeting.id}-body": body, f"reflection-{meeting.id}-version": version}
    response = client.post(f"{base}/reflection", data=data)
    assert response.status_code == 303
    return base


def test_a_page_is_kept_and_served_again_with_each_sessions_own_token(app, kept, pair, mentee, login, queries, session):
    home = f"/pairs/{pair.id}"
    told(mentee, home)
    first, was_kept = served_from_cache(mentee, queries, home)
    assert first.status_code == 200 and not was_kept
    again, was_kept = served_from_cache(mentee, queries, home)
    assert again.status_code == 200 and was_kept
    assert again.text.replace(token_of(mentee, app, again.text), "") == first.text.replace(
        token_of(mentee, app, first.text), ""
    )
    # Margaret on her laptop too: the same page, with that session's token, never the phone's.
    laptop = login(pair.mentee, on=app.test_client())
    told(laptop, home)
    other, was_kept = served_from_cache(laptop, queries, home)
    assert was_kept
    assert token_of(laptop, app, other.text) != token_of(mentee, app, again.text)


def test_a_private_reflection_kept_in_a_page_reaches_nobody_else(
    app, kept, pair, mentor, mentee, login, meeting, session, queries
):
    page = reflect(mentee, pair, meeting, SECRET)
    mine, _ = served_from_cache(mentee, queries, page)
    assert SECRET in mine.text
    mine, was_kept = served_from_cache(mentee, queries, page)
    assert SECRET in mine.text and was_kept

    theirs = mentor.get(page)
    assert theirs.status_code == 200 and SECRET not in theirs.text
    admin = login(AdminFactory(), on=app.test_client())
    assert admin.get(page).status_code == 404
    stranger_pair = PairFactory()
    stranger = login(stranger_pair.mentee, on=app.test_client())
    assert stranger.get(page).status_code == 404
    for url in (page, f"/pairs/{stranger_pair.id}/journal/meetings/{meeting.id}"):
        assert SECRET not in stranger.get(url).text

    # After signing out, that browser's cookie opens nothing, kept or not.
    assert mentee.post("/auth/sign-out").status_code in (303, 204)
    after = mentee.get(page)
    assert after.status_code in (302, 303) and SECRET not in after.text


def test_a_write_by_the_partner_shows_at_once(kept, pair, mentor, mentee, queries):
    home = f"/pairs/{pair.id}"
    told(mentee, home)
    mentee.get(home)
    assert served_from_cache(mentee, queries, home)[1]
    assert mentor.post(f"{home}/topics", data={"text": "Pricing the pilot"}).status_code == 303
    fresh, was_kept = served_from_cache(mentee, queries, home)
    assert "Pricing the pilot" in fresh.text and not was_kept


def test_a_new_day_draws_the_page_again(kept, pair, mentee, queries, monkeypatch):
    home = f"/pairs/{pair.id}"
    told(mentee, home)
    mentee.get(home)
    assert served_from_cache(mentee, queries, home)[1]
    tomorrow = utcnow() + timedelta(days=1)
    monkeypatch.setattr(page_cache, "utcnow", lambda: tomorrow)
    assert not served_from_cache(mentee, queries, home)[1]


def test_a_flash_is_never_served_from_the_cache(kept, pair, mentee, queries):
    home = f"/pairs/{pair.id}"
    mentee.get(home)
    with mentee.session_transaction() as flask_session:
        flask_session["_flashes"] = [("success", "Your reminder is set.")]
    shown, was_kept = served_from_cache(mentee, queries, home)
    assert "Your reminder is set." in shown.text and not was_kept
    # The page that showed it was not kept either: the flash is shown once.
    again = mentee.get(home)
    assert "Your reminder is set." not in again.text


def test_a_page_and_its_fragments_are_kept_apart(kept, pair, mentee, session, queries):
    goal = Goal(pair_id=pair.id, learner=Role.MENTEE, title="Run a retro")
    session.add(goal)
    session.flush()
    board = f"/pairs/{pair.id}/goals"
    fragment = {"HX-Request": "true", "HX-Target": f"goal-{goal.id}"}
    whole = mentee.get(board).text
    part = mentee.get(f"{board}/{goal.id}", headers=fragment).text
    assert "<html" in whole and "<html" not in part
    for _ in range(2):
        assert "<html" not in mentee.get(f"{board}/{goal.id}", headers=fragment).text
        assert "<html" in mentee.get(f"{board}/{goal.id}").text
        assert "<html" in mentee.get(board).text
        # A target the board names no block for gets the whole page, as htmx's header is the client's word.
        assert "<html" in mentee.get(board, headers={"HX-Request": "true", "HX-Target": "elsewhere"}).text


def test_an_unchanged_page_answers_304_to_its_own_session_only(app, kept, pair, mentee, login):
    home = f"/pairs/{pair.id}"
    told(mentee, home)
    tag = mentee.get(home).headers["ETag"]
    assert mentee.get(home, headers={"If-None-Match": tag}).status_code == 304
    assert mentee.get(home, headers={"If-None-Match": tag}).status_code == 304
    laptop = login(pair.mentee, on=app.test_client())
    assert laptop.get(home, headers={"If-None-Match": tag}).status_code == 200


def _silent_server() -> socket.socket:
    """A port that accepts connections and never answers: a Redis that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    return server


@pytest.mark.parametrize("how", ["down", "hanging"])
def test_a_redis_that_fails_still_serves_every_page(app, pair, mentee, monkeypatch, how):
    if how == "down":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            url = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
        store = page_cache.RedisStore(url)
    else:
        server = _silent_server()
        store = page_cache.RedisStore(f"redis://127.0.0.1:{server.getsockname()[1]}/0")
    monkeypatch.setitem(app.extensions, page_cache.EXTENSION, store)
    for _ in range(3):
        assert mentee.get(f"/pairs/{pair.id}").status_code == 200


def test_pages_are_kept_in_redis_within_a_size(app, pair, mentee, queries, monkeypatch):
    require_storage(REDIS_URL)
    # Under this run's and worker's own prefix: parallel workers draw pairs with the same ids.
    store = page_cache.RedisStore(REDIS_URL, timeout=1, prefix=f"{RUN_PREFIX}:page:")
    monkeypatch.setitem(app.extensions, page_cache.EXTENSION, store)
    home = f"/pairs/{pair.id}"
    told(mentee, home)
    mentee.get(home)
    again, was_kept = served_from_cache(mentee, queries, home)
    assert again.status_code == 200 and was_kept and "Aisha" in again.text
    store.set("enormous", b"x" * (page_cache.MAX_PAGE_BYTES + 1), 60)
    assert store.get("enormous") is None


def test_the_memory_store_stays_within_its_bytes():
    store = page_cache.MemoryStore(max_bytes=1000)
    for n in range(20):
        store.set(f"page-{n}", b"x" * 200, 60)
    assert store.size <= 1000
    assert store.get("page-19") == b"x" * 200 and store.get("page-0") is None


def test_the_probe_answers_304_while_its_count_stands(pair, mentor, mentee):
    probe = f"/pairs/{pair.id}/changes?since=0"
    tag = mentee.get(probe).headers["ETag"]
    assert mentee.get(probe, headers={"If-None-Match": tag}).status_code == 304
    assert mentor.post(f"/pairs/{pair.id}/topics", data={"text": "Pricing the pilot"}).status_code == 303
    moved = mentee.get(probe, headers={"If-None-Match": tag})
    assert moved.status_code == 200 and moved.text == "1"


def test_the_light_read_decides_access_as_the_membership_does(app, kept, pair, mentor, mentee, login, session):
    """A kept page and the probe are answered after ``authz.visit``: it refuses whoever
    ``load_membership`` refuses (someone else's pair, an admin even with a membership), kept
    page or not."""
    home, probe = f"/pairs/{pair.id}", f"/pairs/{pair.id}/changes"
    assert mentor.get(home).status_code == 200 and mentee.get(home).status_code == 200
    stranger = login(PairFactory().mentor, on=app.test_client())
    assert stranger.get(home).status_code == 404 and stranger.get(probe).status_code == 404
    pair.mentor.is_admin = True  # a promotion done by hand in the database
    session.flush()
    assert mentor.get(home).status_code == 404 and mentor.get(probe).status_code == 404


def test_pages_showing_what_no_count_follows_are_never_kept(kept, pair, mentee, queries):
    for section in ("/program", "/ground-rules/print"):
        url = f"/pairs/{pair.id}{section}"
        assert mentee.get(url).status_code == 200
        again, was_kept = served_from_cache(mentee, queries, url)
        assert again.status_code == 200 and not was_kept, section


def test_a_rename_past_a_nul_character_shows_at_once(kept, pair, mentee, queries, session):
    """A kept page's key holds the people's rows as one text made by the database. SQLite's
    quote() stops reading a text at a NUL character, so two names alike up to one keyed the same
    page, and the old name went on being shown. The forms drop control characters; this is about
    what else may put one there (a script, an import done by hand)."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses NUL in a text")
    home = f"/pairs/{pair.id}"
    told(mentee, home)
    pair.mentor.name = "Ai\x00sha Khan"
    session.flush()
    assert "Ai\x00sha" in mentee.get(home).text
    assert served_from_cache(mentee, queries, home)[1]
    pair.mentor.name = "Ai\x00mee Khan"
    session.flush()
    fresh, was_kept = served_from_cache(mentee, queries, home)
    assert "Ai\x00mee" in fresh.text and not was_kept


def test_the_partners_private_writes_and_sign_ins_leave_ones_kept_page_and_its_tag_alone(
    app, kept, pair, mentee, mentor, meeting, login, queries, session
):
    """Private words move only their author's count (app/pairs/changes.py). Were it in the key,
    Margaret would see her page drawn afresh, or its ETag change, the moment Aisha wrote one."""
    home = f"/pairs/{pair.id}"
    told(mentee, home)
    first, _ = served_from_cache(mentee, queries, home)
    reflect(mentor, pair, meeting, "Only Aisha reads this.")
    session.get(type(pair.mentor), pair.mentor.id).last_signed_in_at = utcnow()
    session.flush()
    again, was_kept = served_from_cache(mentee, queries, home)
    assert was_kept
    assert again.headers["ETag"] == first.headers["ETag"]
    # Her own writes still move it.
    reflect(mentee, pair, meeting, SECRET)
    after, was_kept = served_from_cache(mentee, queries, home)
    assert not was_kept


@pytest.mark.parametrize("how", ["signed out since", "switched off"])
def test_a_kept_page_and_the_probe_need_a_live_session(app, kept, pair, mentee, session, how):
    """The read that answers a kept page and the probe proves the session itself (no User is
    built for them): a cookie from before sign-out, or of a switched-off person, opens neither,
    kept page or not."""
    home, probe = f"/pairs/{pair.id}", f"/pairs/{pair.id}/changes?since=0"
    assert mentee.get(home).status_code == 200 and mentee.get(home).status_code == 200  # kept now
    assert mentee.get(probe).status_code in (200, 204)
    copy = app.test_client()
    copy.set_cookie("twoway", mentee.get_cookie("twoway").value)
    assert copy.get(home).status_code == 200
    if how == "signed out since":
        assert mentee.post("/auth/sign-out").status_code == 303
    else:
        pair.mentee.active = False
        session.flush()
    for url in (home, probe):
        refused = copy.get(url)
        assert refused.status_code == 302 and refused.location.startswith("/auth/sign-in")
        assert SECRET not in refused.text


# --- Attacks on what issue 14 and 15 added ----------------------------------------------------

ROLES_SAID = "is the <strong>mentor</strong>"


def test_a_page_that_wrote_the_session_is_never_kept(kept, pair, mentee, queries):
    """The pair's home names the roles on the first visit only, and remembers that in the session
    cookie (``_first_visit``). Flask writes that cookie after every ``after_request``, so the
    answer shows no Set-Cookie yet when the cache decides: the page that said it must still not
    be kept, or every visit for five minutes says it again."""
    home = f"/pairs/{pair.id}"
    first = mentee.get(home)
    assert ROLES_SAID in first.text
    again, was_kept = served_from_cache(mentee, queries, home)
    assert ROLES_SAID not in again.text and not was_kept
    # The page drawn without writing the session is kept as before.
    assert served_from_cache(mentee, queries, home)[1]


def test_words_that_look_like_the_placeholder_never_become_a_token(app, kept, pair, mentor, mentee):
    """The placeholder the CSRF token is put in for is a secret of the server: text a person types
    can't name it, so nobody's token is ever put into words, the partner's page, or a form that
    would save it for the other to read."""
    home = f"/pairs/{pair.id}"
    typed = "twoway-csrf-token-placeholder-3f9c1e"
    assert mentee.post(f"{home}/topics", data={"text": typed}).status_code == 303
    for client in (mentor, mentee):
        for _ in range(3):  # drawn, kept, served again
            assert typed in client.get(home).text
    with app.app_context():
        assert page_cache.csrf_placeholder() != typed


def test_a_query_string_that_is_not_utf8_is_a_page_of_its_own_not_an_error(app, kept, pair, mentee):
    """A raw byte no browser sends, in the query of a page that may be kept: a 400 where the page
    reads its query, else drawn and kept under a key of its own; never a 500."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    def status(query: str, page: str = "/journal/search") -> str:
        environ = EnvironBuilder(path=f"/pairs/{pair.id}{page}", environ_base=mentee.environ_base).get_environ()
        environ["QUERY_STRING"] = query  # as a WSGI server hands it on: the raw bytes, as latin-1
        environ["HTTP_COOKIE"] = "; ".join(f"{c.key}={c.value}" for c in mentee._cookies.values())
        return run_wsgi_app(app, environ)[1]

    assert status("q=\xff") == "400 BAD REQUEST"  # the search can't read it, and says so
    assert status("q=plan") == "200 OK" and len(kept._entries) == 1
    # A page that reads no query: kept under a key of its own, and served again.
    assert status("x=\xff", "/ground-rules") == "200 OK"
    assert status("x=\xff", "/ground-rules") == "200 OK" and len(kept._entries) == 2

"""Pair pages served again, while nothing they show has changed, without drawing them again.

A pair page is a function of who looks, what the pair wrote and when: every write to what a pair
page shows bumps the count ``changes.seen_by`` reads (app/pairs/changes.py), and that count comes
with the membership every pair request loads anyway. So a page drawn once is kept under a key
made of everything its body depends on:

- the pair, the viewer and the viewer's ``seen_by`` count (a write by either of them, shared or
  private to the viewer, moves it; the partner's private writes move only the partner's);
- every column of the rows loaded with the membership (the pair, its program, both people and
  their memberships: a rename, a new time zone or a closed pair shows at once, though none of
  them bumps a count), read in one light query (``authz.visit``) that also decides access;
- the viewer's time zone and today's date on their clock and on the server's (pace, due rounds and
  "3 days ago" change with time, not with writes), and the Accept-Language header;
- the URL with its query string, and the htmx variant (``HX-Request``, ``HX-Target``).

What is never kept: anything but a 200 HTML answer to a GET; a page drawn while a flash message
waited (the flash is shown once, never again from the cache); an answer that sets a cookie or
writes the session (the page depends on what it wrote there).
Parts that change with the clock (the "changed 5 minutes ago" badge) say until when they hold
(``holds_until``), and no page is kept longer than ``MAX_AGE`` seconds anyway.

The CSRF token is never kept in a body: while a page that may be kept is drawn, Flask-WTF's
per-request token is a placeholder, and every answer, drawn or kept, gets this session's own
token put in its place. No template knows about it.

The store is chosen by ``PAGE_CACHE_URL``: ``memory://`` (the default) keeps pages in each worker,
least recently used first out, bounded in bytes; ``redis://…`` shares them between workers and
hosts. A Redis that is down or stuck costs a page at most a short timeout, once every few seconds,
and the page is drawn as if nothing were kept: never an error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from datetime import date, datetime
from functools import lru_cache
from typing import Protocol

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask.globals import request_ctx
from flask_wtf.csrf import generate_csrf

from app import htmx
from app.authz import Visit
from app.models import utcnow
from app.models.user import UTC_ZONE, zone_named

log = logging.getLogger(__name__)

EXTENSION = "twoway_page_cache"
# The text every answer's own CSRF token is put in for (``csrf_placeholder``).
_PLACEHOLDER_SALT = b"twoway-page-cache-csrf-placeholder"
# Even what no count or clock is known to move is drawn again this often.
MAX_AGE = 300
DEFAULT_BYTES = 32 * 1024 * 1024
# Bigger pages are drawn each time: bounded pages are far smaller (bench/history.py), so one this
# size is a pair's enormous words, which must not push every other page out.
MAX_PAGE_BYTES = 2 * 1024 * 1024
# Bumped when what a key or an entry holds changes, so entries of an older release are never read.
FORMAT = 1
# Pair pages that show what no pair count follows: the clock itself ("printed at 14:05"), and the
# program's page (figures for the whole program from the published snapshots, what its admins did).
NEVER = frozenset({"pair.ground_rules.printable", "pair.program.index"})
# Headers a kept answer replays (the type, and htmx's own); Flask, Flask-Login, the rate limiter
# and app/security.py add the rest to every answer, kept or drawn.
_REPLAYED = ("content-type", "hx-")
_KEY = "page_cache_key"
_UNTIL = "page_cache_until"


class Store(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, seconds: int) -> None: ...


class MemoryStore:
    """This worker's pages, the least recently used dropped first once they pass ``max_bytes``."""

    def __init__(self, max_bytes: int = DEFAULT_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires, value = found
            if expires <= time.monotonic():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, seconds: int) -> None:
        if len(value) > min(self.max_bytes // 4, MAX_PAGE_BYTES):
            return  # one page must not push out everything else
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic() + seconds, value)
            self.size += len(value)
            while self.size > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self.size -= len(value)


class RedisStore:
    """Pages shared by every worker. Any Redis error reads as a miss; after one, Redis is left
    alone for ``rest`` seconds, so a stuck server costs one timeout now and then, not one a page."""

    def __init__(self, url: str, timeout: float = 0.05, rest: float = 5.0, prefix: str = "twoway:page:") -> None:
        import redis

        self._prefix = prefix
        self._errors = (redis.RedisError, OSError)
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._rest = rest
        self._down_until = 0.0

    def get(self, key: str) -> bytes | None:
        return self._call(self._redis.get, self._prefix + key)

    def set(self, key: str, value: bytes, seconds: int) -> None:
        if len(value) > MAX_PAGE_BYTES:
            return  # as in memory: one enormous page must not push the others out of a shared Redis
        self._call(self._redis.set, self._prefix + key, value, ex=seconds)

    def _call(self, method, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return None
        try:
            return method(*args, **kwargs)
        except self._errors as error:
            self._down_until = time.monotonic() + self._rest
            log.warning("Page cache: Redis failed (%s); drawing pages for %.0f s", error, self._rest)
            return None


def make_store(url: str) -> Store | None:
    if not url or url == "none":
        return None
    if url.startswith("memory://"):
        return MemoryStore(int(url.removeprefix("memory://") or DEFAULT_BYTES))
    if url.split(":", 1)[0] in ("redis", "rediss", "unix"):
        return RedisStore(url)
    raise ValueError(f"PAGE_CACHE_URL must be memory://, redis://… or none, not {url!r}")


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = make_store(app.config.get("PAGE_CACHE_URL", "memory://"))
    app.after_request(_finish)


def _store() -> Store | None:
    return current_app.extensions.get(EXTENSION)


def enabled() -> bool:
    return _store() is not None


# --- Serving -------------------------------------------------------------------------------


def serve(visit: Visit) -> Response | None:
    """The kept answer to this request, or None (then the page is drawn, and kept if it may be).
    Called by the pair blueprint once access is decided (``authz.visit``)."""
    if request.method != "GET" or request.endpoint in NEVER or _store() is None:
        return None
    if "_flashes" in session:
        return None  # a flash waits: it must be shown, and a page showing it must not be kept
    key = _key(visit)
    g.setdefault(_FIELD(), csrf_placeholder())
    g.setdefault(_KEY, key)
    kept = _store().get(key)
    if kept is None:
        return None
    head, _, body = kept.partition(b"\n")
    try:
        meta = json.loads(head)
        headers, until, digest = meta["headers"], float(meta["until"]), str(meta["digest"])
    except (ValueError, KeyError, TypeError):
        return None  # whatever a shared store holds that isn't ours is a miss, never an error
    if until <= time.time():
        return None
    # Kept already: nothing to keep again, and this session's token goes in at once.
    g.pop(_KEY)
    delattr(g, _FIELD())
    response = Response(body.replace(csrf_placeholder().encode(), generate_csrf().encode()), headers=headers)
    response.headers["ETag"] = _etag(digest)
    return _conditional(response)


def holds_until(moment: datetime) -> None:
    """What is being drawn changes at ``moment`` (a "5 minutes ago"): keep it no longer."""
    if has_request_context():
        setattr(g, _UNTIL, min(g.get(_UNTIL, float("inf")), moment.timestamp()))


def _finish(response: Response) -> Response:
    """Every answer: put this session's CSRF token where the placeholder stands, and keep a pair
    page that may be kept."""
    field = _FIELD()
    placeholder = csrf_placeholder()
    if g.get(field) != placeholder:
        return response
    key = g.pop(_KEY, None)
    delattr(g, field)
    if response.is_streamed or response.direct_passthrough:
        return response
    body = response.get_data()
    # What the view wrote to the session (the home's "you're the mentor", said once), asked before
    # the CSRF secret below may be written too (the placeholder already makes that safe to keep).
    wrote_session = session.modified
    token = generate_csrf().encode()  # first: it may start this session's CSRF secret
    if key is not None and not wrote_session and _may_keep(response):
        until = min(time.time() + MAX_AGE, g.get(_UNTIL, float("inf")))
        seconds = int(until - time.time())
        if seconds > 0:
            headers = [(k, v) for k, v in response.headers.items() if k.lower().startswith(_REPLAYED)]
            digest = hashlib.blake2b(body, digest_size=16).hexdigest()
            meta = json.dumps({"headers": headers, "until": until, "digest": digest}).encode()
            _store().set(key, meta + b"\n" + body, seconds)
            response.headers["ETag"] = _etag(digest)
    if placeholder.encode() in body:
        response.set_data(body.replace(placeholder.encode(), token))
    return _conditional(response)


def _may_keep(response: Response) -> bool:
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        # Flask's own session cookie is added after every after_request, so it isn't here yet:
        # ``_finish`` asks the session whether the view wrote it.
        and "Set-Cookie" not in response.headers
        # A flash shown by this page (or one added while it was drawn) is never shown again.
        and not request_ctx.flashes
        and "_flashes" not in session
    )


def _conditional(response: Response) -> Response:
    """304 when the browser holds this very page already (``If-None-Match``)."""
    tag = response.headers.get("ETag")
    if tag and request.if_none_match.contains_weak(tag.strip('"')):
        response.status_code = 304
        response.set_data(b"")
    return response


def _etag(digest: str) -> str:
    # Made of the body (and its path), not of the key: a key moves for reasons the page doesn't
    # show, and a tag that moved with them would tell the viewer so. The session's own CSRF secret
    # is part of it: the body a browser holds carries that session's token, so a tag seen by one
    # session (one before sign-out, say) means nothing to another.
    secret = str(session.get(_FIELD(), ""))
    return '"' + hashlib.blake2b(f"{request.path}{digest}{secret}".encode(), digest_size=16).hexdigest() + '"'


def csrf_placeholder() -> str:
    """Where the session's CSRF token goes in a page that may be kept. Derived from the secret key
    (the same on every worker and host sharing a Redis), so no text a person types can be it: a
    known one, typed as a topic, was replaced by each reader's token, and saved again by the
    partner's edit it would have shown them that token. Hex only: HTML, JSON and URLs leave it
    alone, like a real token."""
    return _placeholder_for(current_app.secret_key)


@lru_cache(maxsize=8)
def _placeholder_for(secret: str | bytes) -> str:
    # Asked a few times for every pair page: the same text for as long as the key stands.
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    digest = hmac.new(key, _PLACEHOLDER_SALT, hashlib.sha256).hexdigest()
    return "twoway-csrf-" + digest[:32]


def _FIELD() -> str:  # noqa: N802  (Flask-WTF's own setting, read as it reads it)
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


# --- The key -------------------------------------------------------------------------------


def _key(visit: Visit) -> str:
    # From the visit, not ``current_user``: a kept page is served without building the User.
    zone = zone_named(visit.time_zone or "") or UTC_ZONE
    parts = (
        FORMAT,
        visit.pair_id,
        visit.user_id,
        visit.seen_by,
        visit.rows,
        # The viewer's own sign-out generation (the page names it for the device's drafts); the
        # partner's is left out of the rows.
        visit.generation,
        visit.time_zone,
        utcnow().astimezone(zone).date().isoformat(),
        date.today().isoformat(),
        request.headers.get("Accept-Language", ""),
        htmx.is_htmx(),
        htmx.target(),
        # The query as it came, bytes: one that isn't UTF-8 (no browser sends one) is still a key.
        request.path,
        request.query_string,
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()

"""Web Push: a person turns notifications on per browser, a reminder reaches each of their browsers
encrypted to that browser's keys and signed with Twoway's VAPID key, and what the push service
answers decides what happens next (gone: dropped; busy: retried; nobody left: email).

The push service is a local HTTPS server on 127.0.0.1 standing in for FCM or Mozilla's: it
decrypts each message (http_ece, aes128gcm) with keys the test made as a browser would, checks
the VAPID Authorization header, and answers what the test asks. pywebpush itself would post to a
plain http endpoint, but Twoway only accepts https endpoints from browsers, so the stand-in speaks
TLS with a self-signed certificate that this test trusts (REQUESTS_CA_BUNDLE): the code under test
runs exactly as in production, certificate checks included.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import ipaddress
import json
import re
import secrets
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import http_ece
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from factories import PairFactory, UserFactory
from py_vapid import Vapid02
from sqlalchemy import delete, select
from support.records import plan_in_person
from support.reminders import deliveries, run_pass, to

from app.config import DEFAULT_PUSH_SERVICES, ConfigError, load, vapid_settings
from app.models import (
    Channel,
    Kind,
    MeetingFormat,
    NextMeeting,
    NotificationPreference,
    PushSubscription,
    Role,
    State,
    Topic,
)
from app.reminders import push, sending

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SUBJECT = "mailto:ops@twoway.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the stand-in push service -------------------------------------------------------------------


@dataclass
class Browser:
    """One browser's push subscription, made as a browser makes it: a P-256 key pair and a
    16-byte auth secret, and an endpoint on the push service."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[1]

    def subscription(self) -> dict:
        """``PushSubscription.toJSON()``."""
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def stored_for(self, user) -> PushSubscription:
        """This browser's subscription as Twoway stores it for ``user``, without the web."""
        keys = self.subscription()["keys"]
        return PushSubscription(
            user_id=user.id,
            endpoint=self.endpoint,
            endpoint_hash=push.endpoint_hash(self.endpoint),
            p256dh=keys["p256dh"],
            auth=keys["auth"],
        )


@dataclass
class Received:
    token: str
    headers: dict[str, str]
    payload: dict | None
    claims: dict | None
    vapid_key: str | None
    problem: str | None


class PushService:
    def __init__(self, port: int) -> None:
        self.origin = f"https://127.0.0.1:{port}"
        self.browsers: dict[str, Browser] = {}
        # What to answer, per browser: the list is used up in order, its last answer then repeats.
        self.answers: dict[str, list[int | str]] = defaultdict(lambda: [201])
        self.received: list[Received] = []
        self.release = threading.Event()

    def browser(self) -> Browser:
        browser = Browser(f"{self.origin}/wpush/v2/{secrets.token_urlsafe(24)}")
        self.browsers[browser.token] = browser
        return browser

    def to(self, browser: Browser) -> list[Received]:
        return [r for r in self.received if r.token == browser.token]

    def reset(self) -> None:
        self.browsers.clear()
        self.answers.clear()
        self.received.clear()
        self.release.clear()

    def answer(self, token: str) -> int | str:
        queue = self.answers[token]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def take(self, token: str, headers: dict[str, str], body: bytes) -> Received:
        browser = self.browsers.get(token)
        payload = claims = key = problem = None
        try:
            if browser is None:
                raise LookupError("no such subscription")
            if headers.get("content-encoding") != "aes128gcm":
                raise ValueError(f"content-encoding {headers.get('content-encoding')!r}")
            payload = json.loads(
                http_ece.decrypt(body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm")
            )
            authorization = headers.get("authorization", "")
            if not Vapid02.verify(authorization):
                raise ValueError("the VAPID signature does not verify")
            fields = dict(part.split("=", 1) for part in authorization.split(" ", 1)[1].split(","))
            key = fields["k"]
            claims = json.loads(b64url_decode(fields["t"].split(".")[1]))
        except Exception as error:  # recorded, so the test shows what was wrong
            problem = f"{type(error).__name__}: {error}"
        received = Received(token, headers, payload, claims, key, problem)
        self.received.append(received)
        return received


def self_signed(tmp_path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "push.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "push.pem", tmp_path / "push.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


@pytest.fixture(scope="module")
def push_server(tmp_path_factory):
    cert_file, key_file = self_signed(tmp_path_factory.mktemp("push-tls"))
    service: PushService

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            token = self.path.rsplit("/", 1)[1]
            received = service.take(token, {k.lower(): v for k, v in self.headers.items()}, body)
            answer = service.answer(token)
            if answer == "stall":
                service.release.wait(10)
                answer = 201
            if isinstance(answer, str) and answer.startswith("redirect "):
                self.send_response(307)
                self.send_header("Location", answer.removeprefix("redirect "))
            else:
                self.send_response(400 if received.problem and answer == 201 else int(answer))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    service = PushService(server.server_address[1])
    # Polled every 0.05 s for the shutdown below (0.5 s by default, waited out at the module's end).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield service, cert_file
    finally:
        service.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def push_service(app, push_server, monkeypatch) -> PushService:
    service, cert_file = push_server
    service.reset()
    # The stand-in is the one push service sent to (in production: the browsers' own).
    monkeypatch.setitem(app.config, "PUSH_SERVICES", ("127.0.0.1",))
    # requests (under pywebpush) trusts this certificate, and goes straight to 127.0.0.1.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert_file)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    yield service
    service.release.set()


@pytest.fixture
def vapid(app, monkeypatch, tmp_path) -> dict:
    """A VAPID key configured as production configures it (a PEM in VAPID_PRIVATE_KEY)."""
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    settings = vapid_settings({"VAPID_PRIVATE_KEY": pem, "VAPID_SUBJECT": SUBJECT}, False, tmp_path, "localhost")
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    return settings


# --- the people and their meeting ----------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class People:
    id: int
    aisha: object
    margaret: object


@pytest.fixture
def people(session) -> People:
    aisha = UserFactory(name="Aisha Khan", time_zone="Europe/Berlin")
    margaret = UserFactory(name="Margaret Holloway", time_zone="Europe/Berlin")
    return People(PairFactory(mentor=aisha, mentee=margaret).id, aisha, margaret)


def plan_meeting(session, pair_id: int) -> datetime:
    """A meeting three days ahead at 15:00 UTC; returns 09:00 Berlin time the day before (when
    the day-before reminder falls due)."""
    day = date.today() + timedelta(days=3)
    starts = datetime.combine(day, dt.time(15, 0), tzinfo=UTC)
    plan_in_person(session, pair_id, starts, planned_at=datetime.now(UTC) - timedelta(days=2))
    return datetime.combine(day - timedelta(days=1), dt.time(9, 0), tzinfo=BERLIN).astimezone(UTC)


def on_one_browser(session, people, login, push_service, *answers) -> tuple[datetime, Browser]:
    """A meeting planned (when its reminder falls due is returned) and Aisha wanting push on one
    subscribed browser, whose push service answers ``answers`` in turn."""
    at = plan_meeting(session, people.id)
    wants_push(session, people.aisha)
    browser = push_service.browser()
    subscribe(login(people.aisha), browser)
    if answers:
        push_service.answers[browser.token] = list(answers)
    return at, browser


def wants_push(session, user) -> None:
    session.add(NotificationPreference(user_id=user.id, kind=Kind.MEETING_DAY_BEFORE, channel=Channel.PUSH))
    session.flush()


def subscribe(client, browser: Browser, user_agent: str = CHROME_ANDROID):
    return client.post(
        "/account/notifications/devices", json=browser.subscription(), headers={"User-Agent": user_agent}
    )


def rows(session, user_id: int | None = None) -> list[PushSubscription]:
    session.expire_all()
    query = select(PushSubscription).order_by(PushSubscription.id)
    if user_id is not None:
        query = query.where(PushSubscription.user_id == user_id)
    return list(session.scalars(query))


# --- delivery --------------------------------------------------------------------------------------


def test_a_reminder_reaches_the_browser_encrypted_signed_and_without_what_the_pair_wrote(
    app, session, people, login, push_service, vapid, sent_mail
):
    at = plan_meeting(session, people.id)
    session.add(Topic(pair_id=people.id, text="<script>alert(1)</script> My manager", added_by_role=Role.MENTEE))
    wants_push(session, people.aisha)
    browser = push_service.browser()
    assert subscribe(login(people.aisha), browser).status_code == 200

    run_pass(app, session, at)

    [received] = push_service.to(browser)
    assert received.problem is None, received.problem
    assert received.payload == {
        "title": "You meet Margaret Holloway tomorrow",
        "body": received.payload["body"],
        "url": f"http://localhost:5000/pairs/{people.id}/journal",
        "tag": f"meeting-day-before:/pairs/{people.id}/journal",
    }
    body = received.payload["body"]
    assert body.startswith("You and Margaret Holloway meet on ") and "(in person: Room 4.12)" in body
    assert "manager" not in json.dumps(received.payload) and "script" not in json.dumps(received.payload)
    # Signed with Twoway's key, for this push service, by someone it can contact, for at most a day.
    assert received.vapid_key == vapid["VAPID_PUBLIC_KEY"]
    assert received.claims["aud"] == push_service.origin and received.claims["sub"] == SUBJECT
    assert time.time() < received.claims["exp"] <= time.time() + 24 * 3600
    assert received.headers["ttl"] == str(push.TTL_SECONDS)

    # Push, not mail; the delivery says so, and the device shows when it was last used.
    assert to(sent_mail, people.aisha.email) == []
    [aisha] = [d for d in deliveries(session) if d.user_id == people.aisha.id]
    assert (aisha.state, aisha.channel) == (State.SENT, Channel.PUSH)
    [device] = rows(session, people.aisha.id)
    assert device.last_used_at is not None and device.device == "Chrome on Android"
    # Margaret chose nothing: her reminder came by email, as the default is.
    assert [m["Subject"] for m in to(sent_mail, people.margaret.email)] == ["You meet Aisha Khan tomorrow"]

    run_pass(app, session, at + timedelta(minutes=1))
    assert len(push_service.to(browser)) == 1  # once


def test_the_push_service_keeps_a_reminder_no_longer_than_it_is_useful(
    app, session, people, login, push_service, vapid
):
    """A meeting planned 40 minutes ahead: its hour-before reminder goes at once, and a phone that
    is off for the next hour never shows it after the meeting began."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=40)
    session.add(NextMeeting(pair_id=people.id, starts_at=starts, place="Room 4.12", format=MeetingFormat.IN_PERSON))
    session.add(NotificationPreference(user_id=people.aisha.id, kind=Kind.MEETING_HOUR_BEFORE, channel=Channel.PUSH))
    session.flush()
    browser = push_service.browser()
    assert subscribe(login(people.aisha), browser).status_code == 200

    run_pass(app, session, datetime.now(UTC))

    [received] = push_service.to(browser)
    assert received.payload["title"].startswith("You meet Margaret Holloway")
    assert 0 < int(received.headers["ttl"]) <= (starts - datetime.now(UTC)).total_seconds() + 1


def test_time_to_live_follows_usefulness():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert push.time_to_live(None, now) == push.TTL_SECONDS
    assert push.time_to_live(now + timedelta(days=2), now) == push.TTL_SECONDS
    assert push.time_to_live(now + timedelta(minutes=50), now) == 50 * 60
    assert push.time_to_live(now - timedelta(minutes=1), now) == 0


def test_only_the_browsers_push_services_are_sent_to(
    app, session, people, login, push_service, vapid, sent_mail, monkeypatch
):
    """The endpoint is the browser's word for where the worker sends a request: an address inside
    Twoway's own network (a database, a cloud's metadata service) is refused when subscribing, and
    a subscription saved before its service was left out gets nothing: the reminder comes by email."""
    client = login(people.aisha)
    browser = push_service.browser()
    assert subscribe(client, browser).status_code == 200  # while the stand-in is a known service
    monkeypatch.setitem(app.config, "PUSH_SERVICES", DEFAULT_PUSH_SERVICES)

    def offer(endpoint: str):
        return client.post(
            "/account/notifications/devices", json={**push_service.browser().subscription(), "endpoint": endpoint}
        )

    for endpoint in (
        "https://127.0.0.1:8443/wpush/x",
        "https://10.0.0.7/push",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://fcm.googleapis.com.evil.example/fcm/send/x",
        "https://evilfcm.googleapis.com/x",
    ):
        response = offer(endpoint)
        assert response.status_code == 400 and "come by email" in response.text, endpoint
    assert [r.endpoint for r in rows(session)] == [browser.endpoint]
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/QGxyz",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
    ):
        assert offer(endpoint).status_code == 200, endpoint
    session.execute(delete(PushSubscription).where(PushSubscription.endpoint != browser.endpoint))

    wants_push(session, people.aisha)
    run_pass(app, session, plan_meeting(session, people.id))
    assert push_service.to(browser) == []
    assert [m["Subject"] for m in to(sent_mail, people.aisha.email)] == ["You meet Margaret Holloway tomorrow"]


def test_every_browser_gets_it_and_a_gone_one_is_dropped(app, session, people, login, push_service, vapid, sent_mail):
    at = plan_meeting(session, people.id)
    wants_push(session, people.aisha)
    client = login(people.aisha)
    phone, laptop = push_service.browser(), push_service.browser()
    subscribe(client, phone)
    subscribe(client, laptop, FIREFOX_WINDOWS)
    push_service.answers[laptop.token] = [410]

    run_pass(app, session, at)

    assert len(push_service.to(phone)) == 1 and len(push_service.to(laptop)) == 1
    assert [r.endpoint for r in rows(session, people.aisha.id)] == [phone.endpoint]
    assert to(sent_mail, people.aisha.email) == []


def test_when_the_last_browser_is_gone_the_reminder_comes_by_email(
    app, session, people, login, push_service, vapid, sent_mail
):
    at, browser = on_one_browser(session, people, login, push_service, 404)

    run_pass(app, session, at)

    assert rows(session, people.aisha.id) == []
    [mail] = to(sent_mail, people.aisha.email)
    assert mail["Subject"] == "You meet Margaret Holloway tomorrow"
    [aisha] = [d for d in deliveries(session) if d.user_id == people.aisha.id]
    assert (aisha.state, aisha.channel) == (State.SENT, Channel.EMAIL)


def test_push_chosen_with_no_device_comes_by_email(app, session, people, push_service, vapid, sent_mail):
    at = plan_meeting(session, people.id)
    wants_push(session, people.aisha)
    run_pass(app, session, at)
    assert len(to(sent_mail, people.aisha.email)) == 1
    assert push_service.received == []


def test_a_busy_push_service_is_tried_again_then_the_delivery_fails(
    app, session, people, login, push_service, vapid, sent_mail
):
    at, browser = on_one_browser(session, people, login, push_service, 500)

    run_pass(app, session, at)  # tasks run eagerly: the retries run at once

    assert len(push_service.to(browser)) == sending.MAX_ATTEMPTS
    [aisha] = [d for d in deliveries(session) if d.user_id == people.aisha.id]
    assert (aisha.state, aisha.attempts) == (State.FAILED, sending.MAX_ATTEMPTS)
    assert "500" in aisha.error
    assert to(sent_mail, people.aisha.email) == []
    assert len(rows(session, people.aisha.id)) == 1  # busy is not gone


def test_a_push_service_that_recovers_gets_it_once(app, session, people, login, push_service, vapid, sent_mail):
    at, browser = on_one_browser(session, people, login, push_service, 429, 503, 201)

    run_pass(app, session, at)

    assert len(push_service.to(browser)) == 3
    [aisha] = [d for d in deliveries(session) if d.user_id == people.aisha.id]
    assert (aisha.state, aisha.channel, aisha.attempts) == (State.SENT, Channel.PUSH, 3)


def test_an_unreachable_or_stuck_push_service_means_try_later(app, session, people, push_service, vapid, monkeypatch):
    from app.reminders.messages import Message

    message = Message(Kind.MEETING_DAY_BEFORE, "You meet Margaret tomorrow", ["At 10:00."], "http://localhost:5000/")
    closed = Browser("https://127.0.0.1:9/wpush/v2/nobody-listens")
    session.add(closed.stored_for(people.aisha))
    session.flush()
    with app.app_context(), pytest.raises(push.TryLater, match="unreachable"):
        push.send(people.aisha, message)

    stuck = push_service.browser()
    push_service.answers[stuck.token] = ["stall"]
    session.query(PushSubscription).delete()
    session.add(stuck.stored_for(people.aisha))
    session.flush()
    # A read timeout of 0.1 s (production waits 5 s): the bound is ten of them.
    monkeypatch.setattr(push, "TIMEOUT", (1, 0.1))
    started = time.monotonic()
    with app.app_context(), pytest.raises(push.TryLater, match="Timeout"):
        push.send(people.aisha, message)
    assert time.monotonic() - started < 1


def test_a_push_service_that_redirects_is_not_followed_and_the_reminder_comes_by_email(
    app, session, people, login, push_service, vapid, sent_mail
):
    """The host is checked when subscribing; a redirect would send the worker's request (the
    payload and our VAPID signature with it) wherever the answer says, an address inside the
    network included. It is never followed: a refusal, so the person gets the mail."""
    at = plan_meeting(session, people.id)
    wants_push(session, people.aisha)
    browser, inside = push_service.browser(), push_service.browser()
    subscribe(login(people.aisha), browser)
    push_service.answers[browser.token] = [f"redirect {inside.endpoint}"]

    run_pass(app, session, at)

    assert len(push_service.to(browser)) == 1 and push_service.to(inside) == []
    assert [m["Subject"] for m in to(sent_mail, people.aisha.email)] == ["You meet Margaret Holloway tomorrow"]
    [aisha] = [d for d in deliveries(session) if d.user_id == people.aisha.id]
    assert (aisha.state, aisha.channel, aisha.attempts) == (State.SENT, Channel.EMAIL, 1)


def test_without_a_vapid_key_push_is_off_and_email_is_used(app, session, people, login, push_service, sent_mail):
    assert app.config["VAPID_PRIVATE_KEY"] is None  # the suite's app: production, nothing configured
    at = plan_meeting(session, people.id)
    wants_push(session, people.aisha)
    client = login(people.aisha)
    response = subscribe(client, push_service.browser())
    assert response.status_code == 409 and "aren't set up" in response.json["error"]
    page = client.get("/account/notifications")
    assert "aren't set up on this Twoway" in page.text and "data-push" not in page.text
    run_pass(app, session, at)
    assert len(to(sent_mail, people.aisha.email)) == 1


# --- subscribing, seeing and removing devices ----------------------------------------------------


def test_the_same_browser_subscribing_again_updates_its_one_row(session, people, login, push_service, vapid):
    client = login(people.aisha)
    browser = push_service.browser()
    assert subscribe(client, browser).json == {"redirect": "/account/notifications#devices"}
    browser.key, browser.auth = ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16)
    assert subscribe(client, browser, FIREFOX_WINDOWS).status_code == 200
    [row] = rows(session)
    assert row.p256dh == browser.subscription()["keys"]["p256dh"] and row.device == "Firefox on Windows"


def test_the_page_lists_devices_and_offers_this_one(session, people, login, push_service, vapid):
    client = login(people.aisha)
    empty = client.get("/account/notifications")
    assert "No devices yet" in empty.text
    assert f'data-key="{vapid["VAPID_PUBLIC_KEY"]}"' in empty.text
    assert "Get notifications on this device" in empty.text
    subscribe(client, push_service.browser())
    page = client.get("/account/notifications")
    assert "Notifications are on for this device." in page.text  # the flash after subscribing
    assert "Chrome on Android" in page.text and "no notification yet" in page.text


def test_removing_a_device_plain_and_with_htmx(session, people, login, push_service, vapid, htmx_client):
    client = login(people.aisha)
    subscribe(client, push_service.browser())
    subscribe(client, push_service.browser(), FIREFOX_WINDOWS)
    phone, laptop = rows(session)
    plain = client.post(f"/account/notifications/devices/{phone.id}/remove")
    assert plain.status_code == 303 and plain.location.endswith("/account/notifications#devices")
    login(people.aisha, on=htmx_client)
    fragment = htmx_client.post(f"/account/notifications/devices/{laptop.id}/remove", headers={"HX-Target": "devices"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="devices"')
    assert "Firefox on Windows gets no more notifications" in fragment.text and "No devices yet" in fragment.text
    assert rows(session) == []


def test_nobody_can_remove_or_take_over_another_persons_browser(
    app, session, people, login, push_service, vapid, sent_mail
):
    browser = push_service.browser()
    subscribe(login(people.aisha, on=app.test_client()), browser)
    [aisha_row] = rows(session)
    margaret = login(people.margaret)

    # The same endpoint with Margaret's own keys: refused, and the row stays Aisha's, keys and all.
    thief = Browser(browser.endpoint)
    response = subscribe(margaret, thief)
    assert response.status_code == 409 and "another person" in response.json["error"]
    assert margaret.post(f"/account/notifications/devices/{aisha_row.id}/remove").status_code == 404
    [row] = rows(session)
    assert (row.user_id, row.p256dh, row.auth) == (people.aisha.id, aisha_row.p256dh, aisha_row.auth)
    assert "Chrome on Android" not in margaret.get("/account/notifications").text

    # Aisha's reminders still reach her browser, readable with her keys only.
    at = plan_meeting(session, people.id)
    wants_push(session, people.aisha)
    run_pass(app, session, at)
    [received] = push_service.to(browser)
    assert received.problem is None and received.payload["title"] == "You meet Margaret Holloway tomorrow"


def test_signed_out_nobody_subscribes(client, push_service, vapid):
    response = client.post("/account/notifications/devices", json=push_service.browser().subscription())
    assert response.status_code == 302 and response.location.startswith("/auth/sign-in")


def _with(subscription: dict, **changes) -> dict:
    if "keys" in changes and changes["keys"] is None:
        return {**subscription, "keys": None}
    keys = {**subscription["keys"], **changes.pop("keys", {})}
    return {**subscription, **changes, "keys": keys}


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "http://127.0.0.1/wpush/plain-http"},
        {"endpoint": "javascript:alert(1)"},
        {"endpoint": "https://user:pw@push.example/x"},
        {"endpoint": "https://push.example/" + "a" * 100_000},
        # Python's URL parser drops tabs and line breaks (so the host looks known) where requests
        # refuses the URL: saved, it would make every reminder to this person fail, never mail.
        {"endpoint": "https://127.0.0.1\n/wpush/x"},
        {"endpoint": "https://evil.example\t.127.0.0.1/wpush/x"},
        {"endpoint": " https://127.0.0.1/wpush/x"},
        {"endpoint": "https://127.0.0.1/wpush/x\x00"},
        {"endpoint": ""},
        {"endpoint": None},
        {"keys": {"p256dh": "<script>alert(1)</script>"}},
        {"keys": {"p256dh": b64url(b"\x04" + b"\x01" * 64)}},  # 65 bytes, but not a point on P-256
        {"keys": {"auth": b64url(b"short")}},
        {"keys": {"auth": "💥" * 20}},
        {"keys": None},
    ],
)
def test_what_is_not_a_push_subscription_is_refused(session, people, login, push_service, vapid, change):
    client = login(people.aisha)
    response = client.post(
        "/account/notifications/devices", json=_with(push_service.browser().subscription(), **change)
    )
    assert response.status_code == 400, response.text
    assert rows(session) == []


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"x"', b"{}"])
def test_a_body_that_is_not_a_subscription_is_refused(session, people, login, vapid, body):
    client = login(people.aisha)
    response = client.post("/account/notifications/devices", data=body, content_type="application/json")
    assert response.status_code == 400 and rows(session) == []


def test_a_hostile_user_agent_becomes_a_plain_device_name(session, people, login, push_service, vapid):
    client = login(people.aisha)
    subscribe(client, push_service.browser(), '<img src=x onerror=alert(1)> "Android" ‮' + "x" * 100_000)
    page = client.get("/account/notifications")
    assert page.status_code == 200
    assert "A browser on Android" in page.text and "onerror" not in page.text


def test_ten_devices_at_most(session, people, login, push_service, vapid):
    client = login(people.aisha)
    for _ in range(push.MAX_DEVICES):
        assert subscribe(client, push_service.browser()).status_code == 200
    response = subscribe(client, push_service.browser())
    assert response.status_code == 400 and "Remove one" in response.json["error"]
    assert len(rows(session)) == push.MAX_DEVICES


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (CHROME_ANDROID, "Chrome on Android"),
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
            "Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        ("", "A browser"),
    ],
)
def test_device_labels(user_agent, label):
    assert push.device_label(user_agent) == label


# --- configuration -----------------------------------------------------------------------------


def test_in_development_a_vapid_key_is_made_once_and_kept(tmp_path):
    first = load(tmp_path, {"FLASK_DEBUG": "1"})
    second = load(tmp_path, {"FLASK_DEBUG": "1"})
    assert (tmp_path / "vapid_private_key.pem").stat().st_mode & 0o777 == 0o600
    assert first["VAPID_PUBLIC_KEY"] == second["VAPID_PUBLIC_KEY"]
    assert len(b64url_decode(first["VAPID_PUBLIC_KEY"])) == 65
    assert first["VAPID_SUBJECT"] == "mailto:no-reply@localhost"


def test_in_production_the_key_is_configured_as_pem_or_raw_and_the_public_key_derived(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    public = b64url(
        key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    env = {"SECRET_KEY": "s", "VAPID_SUBJECT": SUBJECT}
    assert load(tmp_path, {**env, "VAPID_PRIVATE_KEY": pem})["VAPID_PUBLIC_KEY"] == public
    assert load(tmp_path, {**env, "VAPID_PRIVATE_KEY": raw})["VAPID_PUBLIC_KEY"] == public
    assert load(tmp_path, {"SECRET_KEY": "s"})["VAPID_PUBLIC_KEY"] is None  # push off
    assert not (tmp_path / "vapid_private_key.pem").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VAPID_PRIVATE_KEY": "not a key", "VAPID_SUBJECT": SUBJECT}, "VAPID_PRIVATE_KEY must be a P-256"),
        ({"VAPID_PRIVATE_KEY": b64url(b"\x01" * 32)}, "set VAPID_SUBJECT"),
        ({"VAPID_SUBJECT": "ops@twoway.example"}, "mailto: or https:"),
    ],
)
def test_bad_vapid_settings_are_named(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, {"SECRET_KEY": "s", **env})


def test_the_page_posts_a_subscription_with_its_own_csrf_token_and_nothing_else_gets_in(
    csrf_app, monkeypatch, tmp_path, push_service
):
    """As app.js posts it: JSON with the page's token in X-CSRFToken (CSRF protection on)."""
    from support.apps import committed_session, sign_in

    settings = vapid_settings(
        {"VAPID_PRIVATE_KEY": b64url(b"\x07" * 32), "VAPID_SUBJECT": SUBJECT}, False, tmp_path, "x"
    )
    for name, value in settings.items():
        monkeypatch.setitem(csrf_app.config, name, value)
    monkeypatch.setitem(csrf_app.config, "PUSH_SERVICES", ("127.0.0.1",))
    with committed_session(csrf_app) as session:
        person = UserFactory()
        session.commit()
        client = csrf_app.test_client()
        sign_in(client, person)
        browser = push_service.browser()
        refused = client.post("/account/notifications/devices", json=browser.subscription())
        assert refused.status_code == 400 and rows(session, person.id) == []
        session.rollback()  # the read's transaction holds SQLite's lock: let the requests write
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/account/notifications").text)[1]
        saved = client.post(
            "/account/notifications/devices", json=browser.subscription(), headers={"X-CSRFToken": token}
        )
        assert saved.status_code == 200 and [r.endpoint for r in rows(session, person.id)] == [browser.endpoint]


def test_signing_out_stops_this_browsers_notifications_and_only_this_ones(
    app, session, people, login, push_service, vapid
):
    """A shared computer: once Aisha signs out there, it no longer shows whom she meets tomorrow.
    Her phone keeps its notifications."""
    shared, phone = login(people.aisha), login(people.aisha, on=app.test_client())
    assert subscribe(shared, push_service.browser(), FIREFOX_WINDOWS).status_code == 200
    assert subscribe(phone, push_service.browser()).status_code == 200
    assert shared.post("/auth/sign-out").status_code == 303
    assert [row.device for row in rows(session, people.aisha.id)] == ["Chrome on Android"]


def test_signing_out_everywhere_else_drops_every_other_browser(app, session, people, login, push_service, vapid):
    """Removing a passkey of a lost phone, with "sign out everywhere else": the phone stops
    showing reminders too; this browser keeps its own."""
    from app.models import Passkey

    here, lost = login(people.aisha), login(people.aisha, on=app.test_client())
    assert subscribe(here, push_service.browser(), FIREFOX_WINDOWS).status_code == 200
    assert subscribe(lost, push_service.browser()).status_code == 200
    for n in (1, 2):
        session.add(
            Passkey(
                user_id=people.aisha.id, credential_id=bytes([n]), public_key=b"k", aaguid="0" * 36, nickname=f"Key {n}"
            )
        )
    session.flush()
    key = session.scalar(select(Passkey).where(Passkey.user_id == people.aisha.id).order_by(Passkey.id.desc()))
    removed = here.post(f"/account/passkeys/{key.id}/remove", data={"end_other_sessions": "1"})
    assert removed.status_code in (302, 303)
    assert [row.device for row in rows(session, people.aisha.id)] == ["Firefox on Windows"]

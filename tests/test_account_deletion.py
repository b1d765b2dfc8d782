"""Deleting one's account: after a fresh sign-in, private words are erased from every table (and
from the task queue's messages and the database file's free pages), what was shared stays for the
partner under "a former participant", and the person's active pairs close."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from factories import PairFactory, UserFactory
from flask import Flask
from sqlalchemy import JSON, LargeBinary, String, Text, create_engine, func, select, text
from sqlalchemy.orm import Session
from support.apps import committed_session, own_app, sign_in
from support.pages import text as page_text
from support.pages import words
from support.records import add_link, add_passkey, add_prompt_set, add_recovery_code
from support.reminders import to

from app.auth.links import address_key, hash_secret
from app.config import celery_settings
from app.extensions import db
from app.models import (
    Agreement,
    CalendarFeed,
    Channel,
    Clause,
    ClauseConflict,
    ClosingReason,
    ClosingReflection,
    Delivery,
    FeedbackAnswer,
    FeedbackSubmission,
    HelpRequest,
    IdempotencyKey,
    Intake,
    Kind,
    Meeting,
    NotificationPreference,
    PairEnding,
    PairHistory,
    PairStatus,
    Participant,
    PromptKind,
    PushSubscription,
    Reflection,
    SignInAttempt,
    Topic,
    User,
    utcnow,
)

NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.quill@example.org"
PRIVATE = {
    "reflection": "Axolotl-reflection-91c2",
    "closing": "Axolotl-closing-4b7e",
    "reason": "Axolotl-reason-0d33",
    "answer": "Axolotl-answer-e5a0",
    "intake": "Axolotl-intake-77f1",
    "help": "Axolotl-help-2c9d",
    "push": "Axolotl-push-b81a",
    "passkey": "Axolotl-passkey-63f0",
    "remembered": "Axolotl-remembered-1e4c",
}
SHARED = {
    "notes": "Heron-notes-5a2b",
    "topic": "Heron-topic-c3d4",
    "clause": "Heron-clause-9e8f",
    "conflict": "Heron-conflict-7a6b",
    "answer": "Heron-answer-1f2e",
    "history": "Heron-history-0b1c",
}
TODAY = date.today()


def every_text(connection) -> dict[str, list[str]]:
    """Every text, JSON and binary value in every table, by table: what an erasure is checked against."""
    found: dict[str, list[str]] = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.c if isinstance(c.type, String | Text | JSON | LargeBinary)]
        if not columns:
            continue
        for row in connection.execute(select(*columns)):
            for value in row:
                if value is not None:
                    found.setdefault(table.name, []).append(
                        value.decode("latin-1")
                        if isinstance(value, bytes)
                        else json.dumps(value)
                        if not isinstance(value, str)
                        else value
                    )
    return found


def tables_holding(connection, needle: str) -> list[str]:
    needle = needle.lower()
    return sorted(name for name, values in every_text(connection).items() if any(needle in v.lower() for v in values))


def build(app: Flask, session: Session) -> dict:
    """Zephyrine and her partner Ines, with one of everything either of them can leave behind."""
    me = UserFactory(name=NAME, email=EMAIL, time_zone="Europe/Lisbon", first_signed_in_at=utcnow())
    partner = UserFactory(name="Ines Okafor")
    pair = PairFactory(mentor=me, mentee=partner)
    earlier = PairFactory(mentor=me, mentee=UserFactory(name="Tomas Berg"), program=pair.program)
    earlier.status, earlier.ended_at, earlier.ended_how = PairStatus.ENDED, utcnow(), PairEnding.EARLY
    session.flush()

    meeting = Meeting(pair_id=pair.id, held_on=TODAY, author_id=me.id, notes=SHARED["notes"])
    session.add_all([meeting, Topic(pair_id=pair.id, text=SHARED["topic"], added_by_id=me.id, added_by_role="mentor")])
    session.add(Agreement(pair_id=pair.id, version=2))
    session.flush()
    clause = Clause(pair_id=pair.id, title="Feedback", body=SHARED["clause"], position=0, updated_by_id=me.id)
    session.add(clause)
    session.flush()
    session.add(
        ClauseConflict(
            pair_id=pair.id,
            clause_id=clause.id,
            author_id=me.id,
            based_on_version=1,
            kind=clause.kind,
            title="Feedback",
            body=SHARED["conflict"],
        )
    )
    session.add(
        PairHistory(
            pair_id=pair.id,
            subject="topic",
            subject_id=1,
            action="edited",
            snapshot={"text": SHARED["history"]},
            by_id=me.id,
        )
    )
    session.add(Reflection(meeting_id=meeting.id, pair_id=pair.id, author_id=me.id, body=PRIVATE["reflection"]))
    session.add(ClosingReflection(pair_id=earlier.id, author_id=me.id, learned=PRIVATE["closing"]))
    session.add(ClosingReason(pair_id=earlier.id, author_id=me.id, text=PRIVATE["reason"]))

    first, second = add_prompt_set(
        session, pair.program_id, ("What works?", PromptKind.TEXT), ("What changes?", PromptKind.TEXT)
    )
    session.add_all(
        [
            FeedbackAnswer(
                pair_id=pair.id,
                round_key="end",
                prompt_id=first.id,
                user_id=me.id,
                text=PRIVATE["answer"],
                shared=False,
            ),
            FeedbackAnswer(
                pair_id=pair.id, round_key="end", prompt_id=second.id, user_id=me.id, text=SHARED["answer"], shared=True
            ),
            FeedbackSubmission(pair_id=pair.id, round_key="end", user_id=me.id),
        ]
    )

    mine = Participant(program_id=pair.program_id, user_id=me.id, department="Finance")
    theirs = Participant(program_id=pair.program_id, user_id=partner.id, department="Sales")
    session.add_all([mine, theirs])
    session.flush()
    session.add_all(
        [
            Intake(participant_id=mine.id, interests=PRIVATE["intake"], teach_other=PRIVATE["intake"]),
            # The partner's "don't pair me with" list names her address.
            Intake(participant_id=theirs.id, avoid=[EMAIL, "someone.else@example.org"]),
            HelpRequest(program_id=pair.program_id, sender_id=me.id, pair_id=pair.id, message=PRIVATE["help"]),
            NotificationPreference(user_id=me.id, kind=Kind.QUIET_PAIR, channel=Channel.PUSH),
            Delivery(
                user_id=me.id, kind=Kind.QUIET_PAIR, subject="quiet:1", due_at=utcnow(), details={"partner": "Ines"}
            ),
            # A notice still waiting for the partner names her.
            Delivery(
                user_id=partner.id,
                kind=Kind.QUIET_PAIR,
                subject=f"quiet:{pair.id}",
                due_at=utcnow(),
                details={"pair": pair.id, "partner": NAME},
            ),
            CalendarFeed(user_id=me.id, pair_id=pair.id, token_hash=hash_secret("feed")),
            SignInAttempt(address_key=key_of(app, EMAIL)),
            IdempotencyKey(user_id=me.id, key="k1", status=200, body=f"<p>{PRIVATE['remembered']}</p>"),
            # A page remembered for the partner's double tap names her beside what she wrote.
            IdempotencyKey(user_id=partner.id, key="k2", status=200, body="<li>Slides · Zephyrine</li>"),
        ]
    )
    endpoint = f"https://fcm.googleapis.com/fcm/send/{PRIVATE['push']}"
    session.add(
        PushSubscription(
            user_id=me.id,
            endpoint=endpoint,
            endpoint_hash=hashlib.sha256(endpoint.encode()).hexdigest(),
            p256dh="B" * 87,
            auth="A" * 22,
            device=PRIVATE["push"],
        )
    )
    add_passkey(session, me, nickname=PRIVATE["passkey"])
    add_recovery_code(session, me)
    add_link(session, me)
    session.flush()
    return {"me": me, "partner": partner, "pair": pair, "earlier": earlier, "meeting": meeting}


def key_of(app: Flask, email: str) -> str:
    with app.app_context():
        return address_key(email)


@pytest.fixture
def world(app, session):
    return build(app, session)


def delete_account(client):
    return client.post("/account/delete", data={"confirm": "y"})


def test_the_page_says_what_goes_and_what_stays_before_the_button(client, login, world):
    login(world["me"])
    page = words(client.get("/account/delete"))
    for phrase in (
        "Your private reflections on meetings, and your closing reflections",
        "Check-in answers you kept private",
        "Your matching answers",
        "Your passkeys, recovery codes, sign-in links",
        "Kept for your partner",
        "It shows as written by “a former participant”, never your name",
        "Ines Okafor, in",
    ):
        assert phrase in page, phrase
    assert page.index("Kept for your partner") < page.index("Delete my account", page.index("Kept for your partner"))


def test_deleting_needs_a_fresh_sign_in(client, world, session):
    sign_in(client, world["me"], signed_in_at=datetime.now(UTC) - timedelta(minutes=11))
    page = words(client.get("/account/delete"))
    assert "sign in again first" in page and 'name="confirm"' not in client.get("/account/delete").text
    response = delete_account(client)
    assert response.status_code == 303
    assert "/auth/sign-in?again=1" in response.location
    session.refresh(world["me"])
    assert world["me"].name == NAME and world["me"].active


def test_the_box_must_be_ticked(client, login, world, session):
    login(world["me"])
    response = client.post("/account/delete", data={})
    assert response.status_code == 422
    assert "Tick the box" in page_text(response)
    session.refresh(world["me"])
    assert world["me"].active


def test_deleting_erases_private_words_from_every_table(app, client, login, world, session, connection, sent_mail):
    for marker in [*PRIVATE.values(), *SHARED.values(), NAME, EMAIL]:
        assert tables_holding(connection, marker), f"the test set-up holds {marker}"
    login(world["me"])
    response = delete_account(client)
    assert response.status_code == 303 and response.location.startswith("/auth/sign-in")

    for marker in [*PRIVATE.values(), NAME, EMAIL, "Zephyrine", "Quillfeather"]:
        assert tables_holding(connection, marker) == [], marker
    for marker in SHARED.values():
        assert tables_holding(connection, marker), f"{marker} is shared: it stays for the partner"
    assert (
        session.scalar(
            select(func.count()).select_from(SignInAttempt).where(SignInAttempt.address_key == key_of(app, EMAIL))
        )
        == 0
    )
    for model in (
        Reflection,
        ClosingReflection,
        ClosingReason,
        HelpRequest,
        NotificationPreference,
        PushSubscription,
        CalendarFeed,
        IdempotencyKey,
    ):
        column = getattr(model, "user_id", None) or getattr(model, "author_id", None) or model.sender_id
        assert session.scalar(select(func.count()).select_from(model).where(column == world["me"].id)) == 0, model


def test_the_account_stays_anonymised_and_signs_nobody_in(app, client, login, world, session):
    me_id = world["me"].id
    login(world["me"])
    delete_account(client)
    row = session.execute(select(User.name, User.email, User.active, User.time_zone).where(User.id == me_id)).one()
    assert row.name == "A former participant"
    assert row.email.endswith("@erased.invalid") and not row.active and row.time_zone is None
    assert client.get("/").status_code == 302  # this session ended too
    again = app.test_client()
    sign_in(again, session.get(User, me_id))
    assert again.get("/").status_code == 302


def test_the_partner_keeps_what_was_shared_and_is_told_the_pair_closed(app, client, login, world, session, sent_mail):
    pair, partner = world["pair"], world["partner"]
    login(world["me"])
    delete_account(client)
    session.refresh(pair, ["status", "ended_how"])
    assert pair.status == PairStatus.ENDED and pair.ended_how == PairEnding.LEFT
    told = to(sent_mail, partner.email)
    assert len(told) == 1
    body = told[0].get_body(("plain",)).get_content()
    assert "your partner left Twoway" in body and "Zephyrine" not in body

    partner_client = login(partner, on=app.test_client())
    journal = page_text(partner_client.get(f"/pairs/{pair.id}/journal"))
    assert SHARED["notes"] in journal
    assert "Zephyrine" not in journal
    home = page_text(partner_client.get(f"/pairs/{pair.id}"))
    assert "A former participant" in home and "Zephyrine" not in home
    # Her address left the partner's "don't pair me with" list; the rest of it stays.
    avoid = session.scalar(
        select(Intake.avoid)
        .join(Participant, Participant.id == Intake.participant_id)
        .where(Participant.user_id == partner.id)
        .execution_options(populate_existing=True)
    )
    assert avoid == ["someone.else@example.org"]


def test_sqlite_overwrites_what_it_deletes(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("secure_delete is SQLite's")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


# --- the task queue and the database file, for real ----------------------------------------------


def broker_texts(broker_file: Path) -> list[str]:
    """Every message on the embedded broker, its body decoded: what a worker would read."""
    engine = create_engine(f"sqlite:///{broker_file}")
    try:
        with engine.connect() as connection:
            payloads = list(connection.scalars(text("SELECT payload FROM kombu_message")))
    finally:
        engine.dispose()
    decoded = []
    for payload in payloads:
        message = json.loads(payload)
        body = message.get("body", "")
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body).decode()
        decoded.append(payload + body)
    return decoded


def test_neither_the_broker_nor_the_database_file_keeps_her(tmp_path):
    broker_file = tmp_path / "celery-broker.sqlite3"
    settings = celery_settings(f"sqla+sqlite:///{broker_file}", tmp_path)
    with own_app(tmp_path, CELERY=settings) as app:
        with committed_session(app) as session:
            built = build(app, session)
            session.commit()
            me_id, email = built["me"].id, EMAIL
        # Tasks published meanwhile stay on the broker (no worker here): the sign-in mail she asked
        # for before deleting, and the partner's notice.
        app.test_client().post("/auth/sign-in/link", data={"email": email})
        client = app.test_client()
        with app.app_context():
            sign_in(client, db.session.get(User, me_id))
        assert delete_account(client).status_code == 303
        messages = broker_texts(broker_file)
        assert len(messages) >= 2
        for marker in [*PRIVATE.values(), NAME, EMAIL, "Zephyrine"]:
            assert not any(marker.lower() in m.lower() for m in messages), marker
        with app.app_context():
            if db.engine.dialect.name != "sqlite":
                return
            database = Path(db.engine.url.database)
            db.engine.dispose()
        # Fold the write-ahead log into the file, as SQLite does on its own, then read every byte.
        with closing(sqlite3.connect(database)) as raw_connection:
            raw_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = Path(f"{database}-wal")
        raw = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        for marker in [*PRIVATE.values(), NAME]:
            assert marker.encode() not in raw, marker


# --- her export, on disk and on the way ----------------------------------------------------------


@pytest.fixture
def export_folder(app, monkeypatch, tmp_path):
    folder = tmp_path / "exports"
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(folder))
    return folder


def folder_holds(folder: Path, marker: str) -> list[str]:
    """The files in the exports folder whose bytes (or whose ZIP members') hold ``marker``."""
    import zipfile

    found = []
    for path in folder.iterdir() if folder.is_dir() else ():
        blobs = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                blobs += [archive.read(name) for name in archive.namelist()]
        if any(marker.encode() in blob for blob in blobs):
            found.append(path.name)
    return found


def test_deleting_takes_her_export_file_with_it(app, client, login, world, session, export_folder):
    from app.idempotency import new_key
    from app.models import DataExport

    login(world["me"])
    made = client.post("/account/export", data={"idempotency_key": new_key()})
    assert made.status_code == 303 and client.get(made.location).status_code == 200
    assert folder_holds(export_folder, PRIVATE["reflection"]), "the export holds her reflection"

    assert delete_account(client).status_code == 303
    assert folder_holds(export_folder, PRIVATE["reflection"]) == []
    assert folder_holds(export_folder, NAME) == []
    assert list(export_folder.iterdir()) == []
    assert session.scalar(select(func.count()).select_from(DataExport).where(DataExport.user_id == world["me"].id)) == 0


def test_an_export_being_built_when_she_deletes_leaves_no_file(app, world, session, export_folder, monkeypatch):
    """The worker reads her words, she deletes her account meanwhile, then it finishes: nothing of
    hers is left in the folder, and nobody is told it's ready."""
    from app.ending import erasure
    from app.export import builder, tasks
    from app.models import DataExport

    export = DataExport(user_id=world["me"].id, rows=1, expires_at=utcnow() + timedelta(hours=24))
    session.add(export)
    session.flush()
    real_build = builder.build

    def build_then_she_deletes(export_, user, folder):
        size = real_build(export_, user, folder)
        with app.test_request_context():
            erasure.erase(db.session.get(User, world["me"].id))
            db.session.commit()
        return size

    monkeypatch.setattr(builder, "build", build_then_she_deletes)
    with app.app_context():
        assert tasks.build_export.run(export.id) == "gone"
    assert folder_holds(export_folder, PRIVATE["reflection"]) == []
    assert list(export_folder.iterdir()) == []
    told = session.scalars(select(Delivery.kind).where(Delivery.user_id == world["me"].id)).all()
    assert told == [], told


def test_a_double_tap_on_delete_deletes_once_and_tells_the_partner_once(client, login, world, session, sent_mail):
    login(world["me"])
    first, again = delete_account(client), delete_account(client)
    assert first.status_code == 303 and first.location.startswith("/auth/sign-in")
    assert again.status_code == 302 and "/auth/sign-in" in again.location  # signed out: nothing to delete
    assert len(to(sent_mail, world["partner"].email)) == 1

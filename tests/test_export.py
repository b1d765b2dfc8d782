"""A person's data export: what the ZIP holds (theirs and their partner's shared words, never the
partner's private ones), who can download it, how big ones are built in the background, and how
long the file lives."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from datetime import date, timedelta

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from icalendar import Calendar
from sqlalchemy import select
from support.mailbox import text_of
from support.records import add_passkey, add_prompt_set, add_push_subscription

from app.export import tasks
from app.export.text import block, inline, slug
from app.idempotency import new_key
from app.models import (
    ActionItem,
    Agreement,
    AgreementSignature,
    Clause,
    DataExport,
    Delivery,
    ExportState,
    FeedbackAnswer,
    FeedbackSubmission,
    Goal,
    HelpRequest,
    Intake,
    Kind,
    Meeting,
    Milestone,
    NextMeeting,
    PairStatus,
    Participant,
    Prompt,
    PromptKind,
    Reflection,
    Role,
    Topic,
    utcnow,
)

# Words only the exporting person (Margaret, the mentee) or the pair may see: each must be in her export.
MINE = {
    "reflection": "Margaret-reflection-b71c",
    "private answer": "Margaret-private-answer-b71c",
    "intake": "Margaret-intake-b71c",
    "help request": "Margaret-help-b71c",
}
SHARED = {
    "clause": "Clause-shared-b71c",
    "goal": "Goal-shared-b71c",
    "milestone": "Milestone-shared-b71c",
    "open topic": "Topic-open-b71c",
    "covered topic": "Topic-covered-b71c",
    "notes": "Notes-shared-b71c",
    "action": "Action-shared-b71c",
    "place": "Place-shared-b71c",
    "partner's shared answer": "Aisha-shared-answer-b71c",
    "ended pair's notes": "Ended-pair-notes-b71c",
}
# Aisha's (the partner's) own: never in Margaret's export.
PARTNERS = {
    "reflection": "Aisha-private-reflection-9e04",
    "private answer": "Aisha-private-answer-9e04",
    "unrevealed answer": "Aisha-unrevealed-answer-9e04",
    "intake": "Aisha-intake-9e04",
    "help request": "Aisha-help-9e04",
    "email": "aisha-9e04@example.org",
}


@pytest.fixture(autouse=True)
def export_folder(app, monkeypatch, tmp_path):
    folder = tmp_path / "exports"
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(folder))
    return folder


def prompts(session, program_id: int) -> tuple[int, int]:
    written, scale = add_prompt_set(
        session,
        program_id,
        ("What went well?", PromptKind.TEXT),
        ("How useful was it?", PromptKind.SCALE),
        name="Check-ins",
    )
    return written.id, scale.id


def fill(session, pair, *, meetings: int = 2, tag: str = "") -> None:
    """A pair's history: ground rules both signed, a goal, topics, ``meetings`` meetings with
    notes, actions and both people's reflections, check-in answers, the next meeting."""
    me, partner = pair.mentee, pair.mentor
    session.add(Agreement(pair_id=pair.id, version=2))
    session.flush()
    session.add(Clause(pair_id=pair.id, title=f"How we talk {SHARED['clause']}", body="Kindly.", position=0))
    session.add_all(AgreementSignature(pair_id=pair.id, user_id=who.id, agreement_version=2) for who in (me, partner))
    goal = Goal(pair_id=pair.id, learner=Role.MENTEE, title=f"Learn {SHARED['goal']}", why="To keep up.")
    session.add(goal)
    session.add(
        Topic(pair_id=pair.id, text=f"Next {SHARED['open topic']}", added_by_id=me.id, added_by_role=Role.MENTEE)
    )
    session.add(NextMeeting(pair_id=pair.id, starts_at=utcnow() + timedelta(days=3), place=SHARED["place"]))
    session.flush()
    session.add(Milestone(goal_id=goal.id, pair_id=pair.id, title=SHARED["milestone"], done=True))
    for n in range(meetings):
        meeting = Meeting(
            pair_id=pair.id,
            held_on=date(2026, 1, 1) + timedelta(days=n),
            author_id=partner.id,
            notes=f"{SHARED['notes']} {tag} {n}",
            length_minutes=45,
        )
        session.add(meeting)
        session.flush()
        session.add_all(
            [
                Topic(
                    pair_id=pair.id,
                    text=f"{SHARED['covered topic']} {n}",
                    added_by_id=me.id,
                    added_by_role=Role.MENTEE,
                    meeting_id=meeting.id,
                ),
                ActionItem(pair_id=pair.id, meeting_id=meeting.id, text=SHARED["action"], owner_id=me.id),
                Reflection(meeting_id=meeting.id, pair_id=pair.id, author_id=me.id, body=MINE["reflection"]),
                Reflection(meeting_id=meeting.id, pair_id=pair.id, author_id=partner.id, body=PARTNERS["reflection"]),
            ]
        )
    written, scale = prompts(session, pair.program_id)
    for who in (me, partner):
        session.add(FeedbackSubmission(pair_id=pair.id, round_key="week-1", user_id=who.id))
    session.add(FeedbackSubmission(pair_id=pair.id, round_key="week-2", user_id=partner.id))
    session.add_all(
        [
            FeedbackAnswer(
                pair_id=pair.id, round_key="week-1", prompt_id=written, user_id=me.id, text=MINE["private answer"]
            ),
            FeedbackAnswer(pair_id=pair.id, round_key="week-1", prompt_id=scale, user_id=me.id, score=4, shared=True),
            FeedbackAnswer(
                pair_id=pair.id,
                round_key="week-1",
                prompt_id=written,
                user_id=partner.id,
                text=SHARED["partner's shared answer"],
                shared=True,
            ),
            FeedbackAnswer(
                pair_id=pair.id, round_key="week-1", prompt_id=scale, user_id=partner.id, score=5, shared=True
            ),
            # Aisha's answer to a round Margaret hasn't answered: not revealed to her yet.
            FeedbackAnswer(
                pair_id=pair.id,
                round_key="week-2",
                prompt_id=written,
                user_id=partner.id,
                text=PARTNERS["unrevealed answer"],
                shared=True,
            ),
        ]
    )
    session.flush()


@pytest.fixture
def people(session):
    """Margaret (the mentee, who exports), Aisha (her partner), and a pair of Margaret's that ended."""
    margaret = UserFactory(name="Margaret Holloway", email="margaret@example.org", time_zone="Europe/London")
    aisha = UserFactory(name="Aisha Khan", email=PARTNERS["email"])
    pair = PairFactory(mentor=aisha, mentee=margaret)
    fill(session, pair)
    # Aisha's own words outside the pair's space: her request for help, her intake answers.
    session.add(
        HelpRequest(program_id=pair.program_id, sender_id=aisha.id, pair_id=pair.id, message=PARTNERS["help request"])
    )
    session.add(
        HelpRequest(program_id=pair.program_id, sender_id=margaret.id, pair_id=pair.id, message=MINE["help request"])
    )
    for who, words in ((margaret, MINE["intake"]), (aisha, PARTNERS["intake"])):
        participant = Participant(program_id=pair.program_id, user_id=who.id, department="Finance")
        session.add(participant)
        session.flush()
        session.add(Intake(participant_id=participant.id, interests=words))
    ended = PairFactory(mentee=margaret)
    ended.status = PairStatus.ENDED
    session.add(
        Meeting(pair_id=ended.id, held_on=date(2025, 5, 1), author_id=margaret.id, notes=SHARED["ended pair's notes"])
    )
    add_passkey(session, margaret, "Margaret's phone")
    add_push_subscription(session, margaret, "Safari on iPhone")
    session.flush()
    return {"margaret": margaret, "aisha": aisha, "pair": pair, "ended": ended}


def export_zip(client) -> zipfile.ZipFile:
    started = client.post("/account/export", data={"idempotency_key": new_key()})
    assert started.status_code == 303, started.text
    download = client.get(started.location)
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert download.headers["Cache-Control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(download.data))


def files_of(archive: zipfile.ZipFile) -> dict[str, str]:
    return {name: archive.read(name).decode() for name in archive.namelist()}


def test_the_export_holds_mine_and_what_we_shared_never_my_partners_private_words(client, login, people, session):
    pair = people["pair"]
    # Aisha's private written answer in a round both answered (revealed), kept private.
    written = session.scalar(select(Prompt.id).where(Prompt.text == "What went well?"))
    second = Prompt(
        prompt_set_id=session.scalar(select(Prompt.prompt_set_id).where(Prompt.id == written)),
        text="What was hard?",
        kind=PromptKind.TEXT,
        position=2,
    )
    session.add(second)
    session.flush()
    session.add(
        FeedbackAnswer(
            pair_id=pair.id,
            round_key="week-1",
            prompt_id=second.id,
            user_id=people["aisha"].id,
            text=PARTNERS["private answer"],
        )
    )
    login(people["margaret"])
    files = files_of(export_zip(client))

    everything = "\n".join(files.values())
    for what, marker in {**MINE, **SHARED}.items():
        assert marker in everything, f"{what} missing from the export"
    for what, marker in PARTNERS.items():
        leaks = [name for name, content in files.items() if marker in content]
        assert leaks == [], f"Aisha's {what} leaked into {leaks}"
    # Both for machines and for people.
    pair_files = {name: content for name, content in files.items() if name.startswith("pairs/")}
    json_text = "\n".join(c for n, c in pair_files.items() if n.endswith(".json"))
    markdown = "\n".join(c for n, c in pair_files.items() if n.endswith(".md"))
    for marker in (MINE["reflection"], SHARED["notes"], SHARED["covered topic"], SHARED["partner's shared answer"]):
        assert marker in json_text and marker in markdown.replace("\\", ""), marker


def test_every_file_is_there_and_reads_as_what_it_says(client, login, people):
    login(people["margaret"])
    archive = export_zip(client)
    if os.environ.get("EXPORT_SAMPLE"):
        archive.extractall(os.environ["EXPORT_SAMPLE"])
    names = archive.namelist()
    assert {"README.md", "account.json", "account.md"} <= set(names)
    folders = sorted({name.rsplit("/", 1)[0] for name in names if name.startswith("pairs/")})
    assert len(folders) == 2  # the live pair and the one that ended
    for folder in folders:
        assert {f"{folder}/pair.json", f"{folder}/pair.md", f"{folder}/meetings.ics"} <= set(names)

    account = json.loads(archive.read("account.json"))
    assert account["email"] == "margaret@example.org"
    assert account["time_zone"] == "Europe/London"
    assert [p["name"] for p in account["passkeys"]] == ["Margaret's phone"]
    assert [d["device"] for d in account["devices"]] == ["Safari on iPhone"]
    assert not re.search(r"credential|public_key|p256dh|endpoint", archive.read("account.json").decode())
    assert {n["kind"] for n in account["notifications"]} >= {"meeting-day-before", "action-due"}

    live = json.loads(archive.read(f"{folders[0]}/pair.json"))
    assert live["pair"]["partner"] == {"name": "Aisha Khan", "role": "mentor"}
    assert [s["by"] for s in live["ground_rules"]["signatures"]] == ["Margaret Holloway", "Aisha Khan"]
    assert live["goals"][0]["milestones"][0]["done"] is True
    assert len(live["meetings"]) == 2
    first = live["meetings"][0]
    assert first["held_on"] == "2026-01-01"
    assert first["topics"][0]["text"].startswith(SHARED["covered topic"])
    assert first["action_items"][0]["owner"] == "Margaret Holloway"
    assert first["my_private_reflection"] == MINE["reflection"]
    scores = {(c["by"], c["answer"]) for c in live["check_ins"] if c["prompt"] == "How useful was it?"}
    assert scores == {("Margaret Holloway", 4), ("Aisha Khan", 5)}
    assert live["next_meeting"]["place"] == SHARED["place"]
    ended = json.loads(archive.read(f"{folders[1]}/pair.json"))
    assert ended["pair"]["status"] == "ended"

    calendar = Calendar.from_ical(archive.read(f"{folders[0]}/meetings.ics"))
    events = calendar.walk("VEVENT")
    assert len(events) == 3  # two logged meetings and the next one
    assert len({str(e["UID"]) for e in events}) == 3
    assert all("DTSTAMP" in e for e in events)
    assert str(events[0]["LOCATION"]) == SHARED["place"]
    # A calendar provider stores what it imports: no notes, topics or reflections in it.
    raw = archive.read(f"{folders[0]}/meetings.ics").decode()
    assert SHARED["notes"] not in raw and MINE["reflection"] not in raw


def test_every_pair_gets_its_own_meetings_whatever_order_the_programs_run_in(client, login, session):
    me = UserFactory()
    # Pages list the newest program's pair first; the export writes pairs oldest first.
    older = PairFactory(mentee=me, program=ProgramFactory(starts_on=date(2025, 1, 1)))
    newer = PairFactory(mentor=me, program=ProgramFactory(starts_on=date(2026, 9, 1)))
    for pair in (older, newer, older, newer):
        session.add(Meeting(pair_id=pair.id, held_on=date(2026, 1, 1), author_id=me.id, notes=f"pair {pair.id}"))
    session.flush()
    login(me)
    archive = export_zip(client)
    for name in (n for n in archive.namelist() if n.endswith("pair.json")):
        meetings = json.loads(archive.read(name))["meetings"]
        assert len(meetings) == 2, name
        assert len({m["notes"] for m in meetings}) == 1, name


def test_the_account_page_says_what_an_export_holds_and_when_it_goes(client, login, people):
    login(people["margaret"])
    page = client.get("/account/passkeys").text
    assert "Your data" in page
    assert "private reflections" in page and "24 hours" in page
    assert 'action="/account/export"' in page and 'name="idempotency_key"' in page

    export_zip(client)
    page = client.get("/account/passkeys").text
    assert "is ready" in page and "/account/export/" in page


def test_a_double_tap_makes_one_export(client, login, people, session):
    login(people["margaret"])
    key = new_key()
    first = client.post("/account/export", data={"idempotency_key": key})
    again = client.post("/account/export", data={"idempotency_key": key})
    assert first.status_code == again.status_code == 303
    assert first.location == again.location
    assert len(session.scalars(select(DataExport).where(DataExport.user_id == people["margaret"].id)).all()) == 1


def test_a_newer_export_replaces_the_older_one(client, login, people, export_folder):
    login(people["margaret"])
    older = client.post("/account/export", data={"idempotency_key": new_key()}).location
    assert client.get(older).status_code == 200
    newer = client.post("/account/export", data={"idempotency_key": new_key()}).location
    assert newer != older
    assert client.get(older).status_code == 404
    assert client.get(newer).status_code == 200
    assert len(list(export_folder.iterdir())) == 1


def test_nobody_else_can_download_an_export(app, client, login, people, session):
    login(people["margaret"])
    url = client.post("/account/export", data={"idempotency_key": new_key()}).location
    assert app.test_client().get(url).status_code == 302  # to sign in
    for who in (people["aisha"], AdminFactory(), UserFactory()):
        login(who)
        assert client.get(url).status_code == 404, who.name
    # A made-up name looks the same as someone else's.
    assert client.get("/account/export/" + "A" * 43 + ".zip").status_code == 404


def test_the_file_is_deleted_after_24_hours(app, client, login, people, session, export_folder):
    login(people["margaret"])
    url = client.post("/account/export", data={"idempotency_key": new_key()}).location
    export = session.scalars(select(DataExport).where(DataExport.user_id == people["margaret"].id)).one()
    assert (export_folder / export.file_name).is_file()
    # A stray from a build that stopped half way, a day old.
    stray = export_folder / ("B" * 43 + ".part")
    stray.write_bytes(b"half")

    day_ago = (utcnow() - timedelta(hours=25)).timestamp()
    os.utime(stray, (day_ago, day_ago))
    session.flush()
    with app.app_context():
        assert tasks.delete_old_exports.run((export.ready_at + timedelta(hours=23)).isoformat()) == 0
    assert (export_folder / export.file_name).is_file()
    assert not stray.exists()
    assert client.get(url).status_code == 200

    with app.app_context():
        assert tasks.delete_old_exports.run((export.ready_at + timedelta(hours=24, minutes=1)).isoformat()) == 1
        # Again: nothing left to delete, and no error.
        assert tasks.delete_old_exports.run((export.ready_at + timedelta(hours=25)).isoformat()) == 0
    assert not (export_folder / export.file_name).exists()
    assert (
        session.scalar(
            select(DataExport.id).where(DataExport.id == export.id).execution_options(populate_existing=True)
        )
        is None
    )


def test_an_expired_export_is_not_downloaded_even_before_it_is_deleted(client, login, people, session):
    login(people["margaret"])
    url = client.post("/account/export", data={"idempotency_key": new_key()}).location
    export = session.scalars(select(DataExport).where(DataExport.user_id == people["margaret"].id)).one()
    export.expires_at = utcnow() - timedelta(minutes=1)
    session.flush()
    assert client.get(url).status_code == 404


def test_a_big_export_is_built_in_the_background_and_its_owner_is_told(
    app, client, login, people, session, sent_mail, monkeypatch
):
    monkeypatch.setitem(app.config, "EXPORT_IN_REQUEST_ROWS", 3)
    login(people["margaret"])
    started = client.post("/account/export", data={"idempotency_key": new_key()})
    assert started.status_code == 303
    assert started.location == "/account/passkeys#your-data"
    # Tasks run eagerly here: the worker's part is done once the page has answered.
    export = session.scalars(
        select(DataExport).where(DataExport.user_id == people["margaret"].id).execution_options(populate_existing=True)
    ).one()
    assert export.state == ExportState.READY
    assert export.rows > 3

    (notice,) = [m for m in sent_mail if m["To"] == "margaret@example.org"]
    assert notice["Subject"] == "Your Twoway export is ready"
    body = text_of(notice)
    assert "http://localhost:5000/account/passkeys#your-data" in body
    # A link to the file would be a credential in an inbox; and no word of the pair's.
    assert export.token not in body and export.token not in notice.as_string()
    for marker in (*MINE.values(), *SHARED.values()):
        assert marker not in notice.as_string()

    page = client.get("/account/passkeys").text
    assert "is ready" in page
    files = files_of(zipfile.ZipFile(io.BytesIO(client.get(f"/account/export/{export.token}.zip").data)))
    assert MINE["reflection"] in "".join(files.values())

    # The task again (a redelivered message): nothing built or told twice.
    with app.app_context():
        assert tasks.build_export.run(export.id) == "nothing to do"
    assert len(session.scalars(select(Delivery).where(Delivery.kind == Kind.EXPORT_READY)).all()) == 1


def test_while_one_is_being_prepared_another_press_waits_for_it(app, client, login, people, session, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_IN_REQUEST_ROWS", 3)
    monkeypatch.setattr("app.queue.enqueue", lambda *args, **kwargs: True)  # a worker that hasn't started yet
    login(people["margaret"])
    client.post("/account/export", data={"idempotency_key": new_key()})
    client.post("/account/export", data={"idempotency_key": new_key()})
    exports = session.scalars(select(DataExport).where(DataExport.user_id == people["margaret"].id)).all()
    assert [e.state for e in exports] == [ExportState.BUILDING]
    page = client.get("/account/passkeys").text
    assert "preparing your export" in page and 'action="/account/export"' not in page


PINNED_QUERIES = 30


def test_queries_stay_flat_when_the_history_doubles(client, login, queries, session):
    counts = []
    for meetings in (3, 6):
        pair = PairFactory()
        fill(session, pair, meetings=meetings)
        more = PairFactory(mentee=pair.mentee)
        fill(session, more, meetings=meetings)
        login(pair.mentee)
        with queries() as log:
            response = client.post("/account/export", data={"idempotency_key": new_key()})
        assert response.status_code == 303
        counts.append(log.count)
    # The builder's 21 reads, and the request's own: the person, the idempotency key, the count
    # that chose the request over a worker, the export's row and the older ones it replaces.
    assert counts == [PINNED_QUERIES, PINNED_QUERIES]


HOSTILE = "<script>alert(1)</script> # Heading [x](javascript:alert(1)) *bold* `code` | a | \r\nEND:VEVENT\r\n\u202eevil\u2028line"


def test_hostile_words_keep_every_file_whole(client, login, session):
    program_name = "../../etc/passwd " + HOSTILE
    pair = PairFactory(
        mentor=UserFactory(name="..\\..\\Aisha " + HOSTILE),
        mentee=UserFactory(name="Margaret\n# Not a heading"),
    )
    pair.program.name = program_name[:120]
    big = "x" * 100_000 + HOSTILE
    session.add(Meeting(pair_id=pair.id, held_on=date(2026, 2, 1), author_id=pair.mentor.id, notes=big))
    session.add(Topic(pair_id=pair.id, text=HOSTILE[:300], added_by_id=pair.mentee.id, added_by_role=Role.MENTEE))
    session.add(NextMeeting(pair_id=pair.id, starts_at=utcnow() + timedelta(days=1), place=HOSTILE[:200]))
    from app.models import ClosingReason, ClosingReflection

    session.add(ClosingReflection(pair_id=pair.id, author_id=pair.mentee.id, learned=HOSTILE, keep_doing="# Heading"))
    session.add(ClosingReason(pair_id=pair.id, author_id=pair.mentee.id, text=HOSTILE))
    session.flush()
    login(pair.mentee)
    archive = export_zip(client)

    for name in archive.namelist():
        assert re.fullmatch(r"[a-z0-9./-]+", name, re.IGNORECASE), name
        assert ".." not in name.split("/") and not name.startswith("/"), name
    folder = next(n for n in archive.namelist() if n.endswith("pair.json")).rsplit("/", 1)[0]
    data = json.loads(archive.read(f"{folder}/pair.json"))
    assert data["meetings"][0]["notes"] == big  # every word kept, exactly
    assert data["topics_for_next_time"][0]["text"] == HOSTILE[:300]
    assert data["closing"]["my_reflection"]["learned"] == data["closing"]["my_reason"]["text"] == HOSTILE

    markdown = archive.read(f"{folder}/pair.md").decode()
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert all(not line.lstrip("#").lstrip().startswith(("Heading", "Not a heading")) for line in headings), headings
    # Every bracket and angle bracket of theirs is escaped: no tag, no link.
    assert not re.search(r"(?<!\\)<script|(?<!\\)\]\(", markdown)
    assert not any(line.startswith("END:VEVENT") for line in markdown.splitlines())

    raw = archive.read(f"{folder}/meetings.ics")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines), max(lines, key=len)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    # The place's "END:VEVENT" is text on its own line, escaped: it ends no event.
    assert lines.count(b"BEGIN:VEVENT") == lines.count(b"END:VEVENT") == 2
    (planned,) = [e for e in Calendar.from_ical(raw).walk("VEVENT") if "LOCATION" in e]
    # iCalendar text has one kind of line break.
    assert str(planned["LOCATION"]) == HOSTILE[:200].replace("\r\n", "\n")


def test_markdown_escaping_leaves_plain_words():
    assert inline("# Title") == "\\# Title"
    assert inline("a\nb\u2028c") == "a b c"
    assert block("one\n> two\n- three") == "> one\n> \\> two\n> \\- three"
    assert slug("../../Ünïcødé Pilot 2026!") == "unicde-pilot-2026"
    assert slug("..") == ""


def test_the_export_keeps_my_closing_reflection_and_reason_never_my_partners(client, login, people, session):
    """What a pair learned, kept when it ended: one's own closing reflection and the reason one
    gave for closing are one's own words, so they leave with the export; the partner's never do."""
    from app.models import ClosingReason, ClosingReflection

    pair, ended = people["pair"], people["ended"]
    margaret, aisha = people["margaret"], people["aisha"]
    session.add_all(
        [
            ClosingReflection(
                pair_id=pair.id,
                author_id=margaret.id,
                learned="Margaret-learned-c10e",
                taught="Margaret-taught-c10e",
                keep_doing="Margaret-keep-c10e",
            ),
            ClosingReflection(pair_id=pair.id, author_id=aisha.id, learned="Aisha-learned-c10e"),
            ClosingReason(pair_id=pair.id, author_id=aisha.id, text="Aisha-reason-c10e", shared=True),
            ClosingReason(pair_id=ended.id, author_id=margaret.id, text="Margaret-reason-c10e"),
        ]
    )
    login(margaret)
    files = files_of(export_zip(client))
    for suffix in ("json", "md"):
        mine = "\n".join(c for n, c in files.items() if n.endswith(f".{suffix}")).replace("\\", "")
        for marker in ("learned", "taught", "keep", "reason"):
            assert f"Margaret-{marker}-c10e" in mine, (suffix, marker)
    everything = "\n".join(files.values())
    assert "Aisha-learned-c10e" not in everything and "Aisha-reason-c10e" not in everything
    folders = sorted({name.rsplit("/", 1)[0] for name in files if name.startswith("pairs/")})
    live = json.loads(files[f"{folders[0]}/pair.json"])
    assert live["closing"]["my_reflection"]["learned"] == "Margaret-learned-c10e"
    assert live["closing"]["my_reason"] is None  # Aisha closed it: hers is hers
    assert json.loads(files[f"{folders[1]}/pair.json"])["closing"]["my_reason"]["text"] == "Margaret-reason-c10e"


def test_a_worker_killed_half_way_leaves_nothing_served_and_a_new_export_can_be_made(
    app, client, login, people, session, monkeypatch, export_folder
):
    from app.export import builder

    monkeypatch.setitem(app.config, "EXPORT_IN_REQUEST_ROWS", 3)
    real_write = builder.PairWriter.write

    def killed(self, streams):
        real_write(self, streams)
        raise SystemExit("the worker was stopped")  # not an Exception: nothing marks it failed

    monkeypatch.setattr(builder.PairWriter, "write", killed)
    login(people["margaret"])
    with pytest.raises(SystemExit):
        client.post("/account/export", data={"idempotency_key": new_key()})
    stuck = session.scalars(
        select(DataExport).where(DataExport.user_id == people["margaret"].id).execution_options(populate_existing=True)
    ).one()
    assert stuck.state == ExportState.BUILDING
    assert list(export_folder.iterdir()) == []  # the half-written file went with it
    assert client.get(f"/account/export/{stuck.token}.zip").status_code == 404
    assert "preparing your export" in client.get("/account/passkeys").text

    stuck.created_at = utcnow() - timedelta(hours=2)
    session.flush()
    assert "couldn't be made" in client.get("/account/passkeys").text
    monkeypatch.setattr(builder.PairWriter, "write", real_write)
    monkeypatch.setitem(app.config, "EXPORT_IN_REQUEST_ROWS", 3_000)
    made = client.post("/account/export", data={"idempotency_key": new_key()})
    assert made.status_code == 303 and client.get(made.location).status_code == 200

"""Building a person's export: one ZIP of everything that is theirs.

What it holds: their account (name, email, time zone, quiet hours, notification choices, the
devices that get their notifications and their passkeys, by name and date only, never a key),
their intake answers and requests for help, and for every pair they are or were in: the ground
rules with who agreed when, the goals with their milestones, the journal's meetings with their
topics and action items, topics for next time, the next meeting, their check-in answers and the
ones their partner shared with them, and their OWN private reflections. Never the partner's
private reflections or answers: the queries that read those are authz's.

Each pair comes three ways: ``pair.json`` for machines, ``pair.md`` for people, ``meetings.ics``
for calendars. The number of queries is fixed, whatever the history's size; meetings (what grows
with a pair's history, notes and reflections up to 10,000 characters each) are read in batches
and written as they come, and the ZIP is written to a file, never held in memory.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar
from sqlalchemy import func, select, union_all

from app import authz
from app.export import text
from app.extensions import db
from app.ground_rules.diff import describe
from app.models import (
    ActionItem,
    Agreement,
    AgreementSignature,
    Clause,
    ClauseKind,
    ClosingReason,
    ClosingReflection,
    DataExport,
    FeedbackAnswer,
    Goal,
    Intake,
    Meeting,
    MeetingFormat,
    Milestone,
    NextMeeting,
    NotificationPreference,
    PairMember,
    Participant,
    Passkey,
    PromptKind,
    PushSubscription,
    Reflection,
    Topic,
    User,
    utcnow,
)
from app.next_meeting import calendar
from app.urls import absolute_url

# Meetings fetched per round trip while they are written.
BATCH = 200
# Someone whose account is gone: what they wrote stays, their name doesn't.
FORMER = "a former participant"
README = """# Your Twoway data

Everything in Twoway that is yours, as it stood on {made}.

- `account.json` and `account.md`: your name, email, time zone, quiet hours, what reaches you and
  how, the devices that get your notifications, your passkeys (their names and dates, never a key),
  your intake answers and your requests for help.
- `pairs/…/pair.json` and `pair.md`, one folder for each pair you are or were in: your ground rules
  and who agreed when, your goals and their milestones, your meetings with their topics and action
  items, topics for next time, the next meeting, your check-in answers and the ones your partner
  shared with you, your own private reflections, and your own closing reflection and any reason
  you gave for closing (only you ever see those, here too).
- `pairs/…/meetings.ics`: your meetings, to open in a calendar.

The `.json` files are for other programs; the `.md` files read as plain text, or in any Markdown
viewer. Your partner's private reflections and private answers are not here: they are theirs.
"""


def count_rows(user_id: int) -> int:
    """How much an export of ``user_id``'s would hold, in rows, in one query: it decides whether
    the request builds it or a worker does, the same way every time for the same data."""
    pairs = authz.export_pair_ids(user_id)
    counted = [
        select(func.count()).select_from(model).where(model.pair_id.in_(pairs))
        for model in (Meeting, Topic, ActionItem, Goal, Milestone, Clause, FeedbackAnswer)
    ]
    counted.append(select(func.count()).select_from(Reflection).where(Reflection.author_id == user_id))
    everything = union_all(*counted).subquery()
    return int(db.session.scalar(select(func.coalesce(func.sum(everything.c[0]), 0))) or 0)


# --- reading ---------------------------------------------------------------------------------------


@dataclass
class PairData:
    """One pair's content but its meetings, which are streamed."""

    membership: PairMember
    clauses: list[Clause] = field(default_factory=list)
    version: int | None = None
    signatures: list[AgreementSignature] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    milestones: dict[int, list[Milestone]] = field(default_factory=lambda: defaultdict(list))
    open_topics: list[Any] = field(default_factory=list)
    open_actions: list[Any] = field(default_factory=list)
    answers: list[tuple[FeedbackAnswer, str, PromptKind]] = field(default_factory=list)
    next_meeting: NextMeeting | None = None
    closing_reflection: ClosingReflection | None = None
    closing_reason: ClosingReason | None = None

    @property
    def pair_id(self) -> int:
        return self.membership.pair_id


def _by_pair(pairs: dict[int, PairData], rows, place) -> None:
    for row in rows:
        place(pairs[row.pair_id], row)


def _read_pairs(user: User) -> list[PairData]:
    """Every pair's content but its meetings: thirteen queries, however many pairs and rows."""
    memberships = authz.memberships_of(user)
    pairs = {m.pair_id: PairData(m) for m in memberships}
    if not pairs:
        return []
    ids = authz.export_pair_ids(user.id)
    scalars = db.session.scalars
    # Plain rows, not entities, for what a long history has thousands of: read-only, and several
    # times quicker to load.
    rows = db.session.execute
    _by_pair(
        pairs,
        scalars(select(Clause).where(Clause.pair_id.in_(ids), Clause.removed.is_(False)).order_by(Clause.position)),
        lambda p, c: p.clauses.append(c),
    )
    for pair_id, version in db.session.execute(
        select(Agreement.pair_id, Agreement.version).where(Agreement.pair_id.in_(ids))
    ):
        pairs[pair_id].version = version
    _by_pair(
        pairs,
        scalars(
            select(AgreementSignature)
            .where(AgreementSignature.pair_id.in_(ids))
            .order_by(AgreementSignature.agreed_at, AgreementSignature.id)
        ),
        lambda p, s: p.signatures.append(s),
    )
    _by_pair(
        pairs,
        rows(select(*Goal.__table__.c).where(Goal.pair_id.in_(ids)).order_by(Goal.id)),
        lambda p, g: p.goals.append(g),
    )
    _by_pair(
        pairs,
        rows(
            select(*Milestone.__table__.c).where(Milestone.pair_id.in_(ids)).order_by(Milestone.position, Milestone.id)
        ),
        lambda p, m: p.milestones[m.goal_id].append(m),
    )
    _by_pair(
        pairs,
        rows(select(*Topic.__table__.c).where(Topic.pair_id.in_(ids), Topic.meeting_id.is_(None)).order_by(Topic.id)),
        lambda p, t: p.open_topics.append(t),
    )
    _by_pair(
        pairs,
        rows(
            select(*ActionItem.__table__.c)
            .where(ActionItem.pair_id.in_(ids), ActionItem.meeting_id.is_(None))
            .order_by(ActionItem.id)
        ),
        lambda p, a: p.open_actions.append(a),
    )
    for answer, prompt, kind, _position in db.session.execute(authz.exportable_feedback(user.id)):
        pairs[answer.pair_id].answers.append((answer, prompt, kind))
    _by_pair(
        pairs,
        scalars(select(NextMeeting).where(NextMeeting.pair_id.in_(ids))),
        lambda p, n: setattr(p, "next_meeting", n),
    )
    _by_pair(pairs, scalars(authz.own_closing_reflections(user.id)), lambda p, r: setattr(p, "closing_reflection", r))
    _by_pair(pairs, scalars(authz.own_closing_reasons(user.id)), lambda p, r: setattr(p, "closing_reason", r))
    return [pairs[m.pair_id] for m in memberships]


class Stream:
    """Rows in the meetings' order (pair, day, meeting), read a batch at a time; ``take`` hands
    out those of one pair or one meeting, keeping the first row past them for the next."""

    def __init__(self, statement) -> None:
        self.rows = iter(db.session.execute(statement.execution_options(yield_per=BATCH)))
        self.pending: Any = None

    def take(self, column: str, value: int) -> Iterator[Any]:
        while True:
            if self.pending is None:
                self.pending = next(self.rows, None)
                if self.pending is None:
                    return
            if getattr(self.pending, column) != value:
                return
            row, self.pending = self.pending, None
            yield row


@dataclass
class Streams:
    """What grows with a pair's history: its meetings (with the person's own reflection on each),
    and the topics and action items of those meetings, all in the same order. Three queries."""

    meetings: Stream
    topics: Stream
    actions: Stream

    @classmethod
    def of(cls, user_id: int) -> Streams:
        pairs = authz.export_pair_ids(user_id)
        in_order = (Meeting.pair_id, Meeting.held_on, Meeting.id)
        meetings = (
            select(
                Meeting.id,
                Meeting.pair_id,
                Meeting.held_on,
                Meeting.length_minutes,
                Meeting.format,
                Meeting.notes,
                Meeting.author_id,
                Reflection.body.label("reflection"),
            )
            .outerjoin(Reflection, authz.own_reflection_on(user_id))
            .where(Meeting.pair_id.in_(pairs))
            .order_by(*in_order)
        )
        topics = (
            select(*Topic.__table__.c)
            .join(Meeting, (Meeting.id == Topic.meeting_id) & (Meeting.pair_id == Topic.pair_id))
            .where(Topic.pair_id.in_(pairs))
            .order_by(*in_order, Topic.id)
        )
        actions = (
            select(*ActionItem.__table__.c)
            .join(Meeting, (Meeting.id == ActionItem.meeting_id) & (Meeting.pair_id == ActionItem.pair_id))
            .where(ActionItem.pair_id.in_(pairs))
            .order_by(*in_order, ActionItem.id)
        )
        return cls(Stream(meetings), Stream(topics), Stream(actions))


def _account(user: User) -> dict[str, Any]:
    """The account's part: five queries."""
    from app.reminders.kinds import SPECS, optional_kinds

    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.channel).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    kinds = optional_kinds("admin" if user.is_admin else "pair")
    passkeys = db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id))
    devices = db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id).order_by(PushSubscription.id)
    )
    intakes = db.session.execute(authz.own_intakes(user.id))
    requests = db.session.execute(authz.own_help_requests(user.id))
    return {
        "name": user.name,
        "email": user.email,
        "time_zone": user.time_zone,
        "quiet_hours": (
            {"from": user.quiet_from.isoformat("minutes"), "until": user.quiet_until.isoformat("minutes")}
            if user.quiet_from and user.quiet_until
            else None
        ),
        "joined_at": _moment(user.first_signed_in_at),
        "notifications": [
            {"kind": kind.value, "about": SPECS[kind].label, "channel": chosen.get(kind, SPECS[kind].default).value}
            for kind in kinds
        ],
        "devices": [
            {"device": d.device, "added_at": _moment(d.created_at), "last_used_at": _moment(d.last_used_at)}
            for d in devices
        ],
        "passkeys": [
            {
                "name": p.nickname,
                "added_at": _moment(p.created_at),
                "last_used_at": _moment(p.last_used_at),
                "backed_up": p.backed_up,
            }
            for p in passkeys
        ],
        "intake": [_intake(name, participant, intake) for name, participant, intake in intakes],
        "requests_for_help": [
            {
                "program": name,
                "message": r.message,
                "sent_at": _moment(r.created_at),
                "partner_told": r.partner_told,
                "answer": r.answer or None,
                "answered_at": _moment(r.answered_at),
            }
            for r, name in requests
        ],
    }


def _intake(program: str, participant: Participant, intake: Intake | None) -> dict[str, Any]:
    answers = None
    if intake is not None:
        answers = {
            "role": intake.role.value,
            "teach": list(intake.teach or []),
            "teach_other": intake.teach_other,
            "learn": list(intake.learn or []),
            "learn_other": intake.learn_other,
            "interests": intake.interests,
            "location": intake.location,
            "time_zone": intake.time_zone,
            "languages": intake.languages,
            "rhythm": intake.rhythm,
            "format": intake.format,
            "avoid": list(intake.avoid or []),
            "updated_at": _moment(intake.updated_at),
        }
    return {"program": program, "department": participant.department, "level": participant.level, "answers": answers}


# --- writing ---------------------------------------------------------------------------------------


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _json(value: Any, indent: int | None = 2) -> bytes:
    # Anything a person typed is a JSON string here; "replace" keeps a stray surrogate from
    # stopping the whole export.
    return json.dumps(value, ensure_ascii=False, indent=indent).encode("utf-8", "replace")


class Names:
    """Who wrote what, in words: the two people's names, "a former participant" for anyone gone."""

    def __init__(self, membership: PairMember) -> None:
        self.me = membership.user_id
        self.by_id = {m.user_id: m.user.name for m in membership.pair.members}

    def __call__(self, user_id: int | None) -> str:
        return self.by_id.get(user_id, FORMER) if user_id is not None else FORMER


@dataclass
class PairWriter:
    """Writes one pair's three files: JSON straight into the ZIP, Markdown and iCalendar into
    temporary files added once its meetings are done (a ZIP takes one file at a time)."""

    archive: zipfile.ZipFile
    folder: str
    data: PairData
    zone: Any
    host: str
    url: str

    def __post_init__(self) -> None:
        self.names = Names(self.data.membership)
        self.markdown: IO[bytes] = tempfile.TemporaryFile()
        self.ics: IO[bytes] = tempfile.TemporaryFile()
        self.first_meeting = True
        pair = self.data.membership.pair
        self.summary = text.ics_line(
            "SUMMARY", text.ics_text(f"Reverse mentoring: {pair.mentor.first_name} and {pair.mentee.first_name}")
        )
        self.dtstamp = f"DTSTAMP:{utcnow():%Y%m%dT%H%M%SZ}\r\n".encode()

    # One pair, start to end.

    def write(self, streams: Streams) -> None:
        with self.archive.open(f"{self.folder}/pair.json", "w", force_zip64=True) as out:
            head = _json(self._head())
            # The meetings go last, written as they are read: the head's closing brace waits.
            out.write(head[: head.rstrip().rfind(b"}")].rstrip() + b',\n  "meetings": [')
            self._markdown_head()
            self._ics_head()
            for row in streams.meetings.take("pair_id", self.data.pair_id):
                topics = list(streams.topics.take("meeting_id", row.id))
                actions = list(streams.actions.take("meeting_id", row.id))
                # One meeting a line: json's quick (C) encoder, and easy to read a line at a time.
                out.write(
                    (b"" if self.first_meeting else b",") + b"\n    " + _json(self._meeting(row, topics, actions), None)
                )
                self._markdown_meeting(row, topics, actions)
                self._ics_meeting(row)
                self.first_meeting = False
            out.write(b"\n  ]\n}\n")
        self.ics.write(b"END:VCALENDAR\r\n")
        for name, source in ((f"{self.folder}/pair.md", self.markdown), (f"{self.folder}/meetings.ics", self.ics)):
            source.seek(0)
            with self.archive.open(name, "w", force_zip64=True) as out:
                shutil.copyfileobj(source, out)
            source.close()

    # JSON.

    def _head(self) -> dict[str, Any]:
        d, names = self.data, self.names
        membership = d.membership
        partner = membership.partner()
        pair = membership.pair
        return {
            "pair": {
                "program": pair.program.name,
                "program_starts_on": _day(pair.program.starts_on),
                "program_ends_on": _day(pair.program.ends_on),
                "status": pair.status.value,
                "started_at": _moment(pair.created_at),
                "you": {"name": membership.user.name, "role": membership.role.value},
                "partner": {"name": partner.user.name, "role": partner.role.value},
            },
            "ground_rules": {
                "version": d.version,
                "clauses": [
                    {
                        "title": c.title,
                        "text": describe(c.kind, c.fields or {}, c.body) if c.kind != ClauseKind.TEXT else c.body,
                        "kind": c.kind.value,
                        "fields": dict(c.fields or {}),
                        "updated_at": _moment(c.updated_at),
                        "updated_by": names(c.updated_by_id) if c.updated_by_id else None,
                    }
                    for c in d.clauses
                ],
                "signatures": [
                    {"by": names(s.user_id), "version": s.agreement_version, "agreed_at": _moment(s.agreed_at)}
                    for s in d.signatures
                ],
            },
            "goals": [
                {
                    "title": g.title,
                    "learner": g.learner.value,
                    "why": g.why,
                    "success": g.success,
                    "status": g.status.value,
                    "target_on": _day(g.target_on),
                    "created_at": _moment(g.created_at),
                    "milestones": [
                        {"title": m.title, "done": m.done, "done_at": _moment(m.done_at)} for m in d.milestones[g.id]
                    ],
                }
                for g in d.goals
            ],
            "topics_for_next_time": [self._topic(t) for t in d.open_topics],
            "action_items": [self._action(a) for a in d.open_actions],
            "next_meeting": (
                {
                    "starts_at": _moment(d.next_meeting.starts_at),
                    "length_minutes": d.next_meeting.length_minutes,
                    "format": d.next_meeting.format.value,
                    "place": d.next_meeting.place,
                }
                if d.next_meeting
                else None
            ),
            "check_ins": [
                {
                    "round": answer.round_key,
                    "prompt": prompt,
                    "by": names(answer.user_id),
                    "answer": _answer(answer, kind),
                    "shared": answer.shared,
                    "answered_at": _moment(answer.created_at),
                }
                for answer, prompt, kind in d.answers
            ],
            # Only the exporting person's own: the queries read no one else's.
            "closing": {
                "my_reflection": (
                    {
                        "learned": d.closing_reflection.learned,
                        "taught": d.closing_reflection.taught,
                        "keep_doing": d.closing_reflection.keep_doing,
                        "updated_at": _moment(d.closing_reflection.updated_at),
                    }
                    if d.closing_reflection
                    else None
                ),
                "my_reason": (
                    {
                        "text": d.closing_reason.text,
                        "shared_with_admin": d.closing_reason.shared,
                        "given_at": _moment(d.closing_reason.created_at),
                    }
                    if d.closing_reason
                    else None
                ),
            },
        }

    def _topic(self, topic: Topic) -> dict[str, Any]:
        return {"text": topic.text, "added_by": self.names(topic.added_by_id), "added_at": _moment(topic.created_at)}

    def _action(self, action: ActionItem) -> dict[str, Any]:
        return {
            "text": action.text,
            "owner": self.names(action.owner_id) if action.owner_id else None,
            "due_on": _day(action.due_on),
            "done": action.done,
            "done_at": _moment(action.done_at),
        }

    def _meeting(self, row: Any, topics: list[Any], actions: list[Any]) -> dict[str, Any]:
        return {
            "held_on": _day(row.held_on),
            "length_minutes": row.length_minutes,
            "format": MeetingFormat(row.format).value,
            "logged_by": self.names(row.author_id),
            "notes": row.notes,
            "topics": [self._topic(t) for t in topics],
            "action_items": [self._action(a) for a in actions],
            # Only the exporting person's own: the query joins no one else's.
            "my_private_reflection": row.reflection or None,
        }

    # Markdown.

    def _md(self, *lines: str) -> None:
        self.markdown.write(("\n".join(lines) + "\n").encode("utf-8", "replace"))

    def _markdown_head(self) -> None:
        d, names, md, inline = self.data, self.names, self._md, text.inline
        membership = d.membership
        partner = membership.partner()
        pair = membership.pair
        md(
            f"# {inline(membership.user.name)} and {inline(partner.user.name)}",
            "",
            f"{inline(pair.program.name)}. You were the {membership.role.value}, {inline(partner.user.first_name)} "
            f"the {partner.role.value}. Together since {_words_day(pair.created_at)}"
            + (" (this pair has ended)." if pair.status.value == "ended" else "."),
            "",
            "## Ground rules",
            "",
        )
        if not d.clauses:
            md("You hadn't started your ground rules.", "")
        for n, clause in enumerate(d.clauses, 1):
            body = clause.body if clause.kind == ClauseKind.TEXT else describe(clause.kind, clause.fields or {})
            md(f"### {n}. {inline(clause.title)}", "", text.block(body), "")
        for s in d.signatures:
            md(f"- {inline(names(s.user_id))} agreed to version {s.agreement_version} on {_words_day(s.agreed_at)}")
        md("", "## Goals", "")
        if not d.goals:
            md("No goals yet.", "")
        for goal in d.goals:
            learner = next((m.user.name for m in pair.members if m.role == goal.learner), FORMER)
            md(f"### {inline(goal.title)}", "", f"{inline(learner)}'s goal. {goal.status.label}.", "")
            if goal.why:
                md("Why:", "", text.block(goal.why), "")
            if goal.success:
                md("What success looks like:", "", text.block(goal.success), "")
            for m in d.milestones[goal.id]:
                md(f"- [{'x' if m.done else ' '}] {inline(m.title)}")
            md("")
        md("## Topics for next time", "")
        for topic in d.open_topics:
            md(f"- {inline(topic.text)} ({inline(names(topic.added_by_id))})")
        if not d.open_topics:
            md("None waiting.")
        md("")
        if d.open_actions:
            md("## Action items", "")
            for action in d.open_actions:
                md(self._md_action(action))
            md("")
        md("## Next meeting", "")
        if d.next_meeting:
            starts = d.next_meeting.starts_in(self.zone)
            md(
                f"{starts:%A} {starts.day} {starts:%B %Y} at {starts:%H:%M} ({starts.tzname()}), "
                f"{d.next_meeting.length_minutes} minutes, {MeetingFormat(d.next_meeting.format).label.lower()}"
                + (f", {inline(d.next_meeting.place)}" if d.next_meeting.place else "")
                + ".",
                "",
            )
        else:
            md("Not planned.", "")
        md("## Check-ins", "")
        if not d.answers:
            md("No answers yet.", "")
        for answer, prompt, kind in d.answers:
            who = "You" if answer.user_id == names.me else inline(names(answer.user_id))
            privately = "" if answer.shared or kind != PromptKind.TEXT else " (private: only you see it)"
            shown = _shown(_answer(answer, kind))
            md(
                f"#### {inline(prompt)} ({inline(answer.round_key)})",
                "",
                f"{who}{privately}:",
                "",
                text.block(shown),
                "",
            )
        self._markdown_closing()
        md("## Journal", "")

    def _markdown_closing(self) -> None:
        reflection, reason, md = self.data.closing_reflection, self.data.closing_reason, self._md
        if reflection is None and reason is None:
            return
        md("## Looking back", "")
        if reason is not None and reason.text:
            shown_to = "you and the program's admin" if reason.shared else "only you"
            md(f"Why you closed your pair ({shown_to} read it):", "", text.block(reason.text), "")
        if reflection is not None:
            md("Your closing reflection (only you see it):", "")
            for label, words in (
                ("What I learned", reflection.learned),
                ("What I taught", reflection.taught),
                ("What I'll keep doing", reflection.keep_doing),
            ):
                if words:
                    md(f"{label}:", "", text.block(words), "")

    def _md_action(self, action: ActionItem) -> str:
        owner = f" ({text.inline(self.names(action.owner_id))})" if action.owner_id else ""
        due = f", due {_words_day(action.due_on)}" if action.due_on else ""
        return f"- [{'x' if action.done else ' '}] {text.inline(action.text)}{owner}{due}"

    def _markdown_meeting(self, row: Any, topics: list[Any], actions: list[Any]) -> None:
        md, inline = self._md, text.inline
        length = f", {row.length_minutes} minutes" if row.length_minutes else ""
        md(
            f"### {_words_day(row.held_on)}",
            "",
            f"{MeetingFormat(row.format).label}{length}. Logged by {inline(self.names(row.author_id))}.",
            "",
        )
        if topics:
            md("Topics:", "", *(f"- {inline(t.text)}" for t in topics), "")
        if row.notes:
            md("Notes:", "", text.block(row.notes), "")
        if actions:
            md("Action items:", "", *(self._md_action(a) for a in actions), "")
        if row.reflection:
            md("Your private reflection (only you see it):", "", text.block(row.reflection), "")

    # iCalendar.

    def _ics_head(self) -> None:
        pair = self.data.membership.pair
        cal = Calendar()
        cal.add("prodid", calendar.PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("x-wr-calname", f"Twoway: {pair.mentor.first_name} and {pair.mentee.first_name}")
        # The calendar's own lines, without its end: the events are written between.
        self.ics.write(cal.to_ical().rstrip(b"\r\n").rsplit(b"\r\n", 1)[0] + b"\r\n")
        if self.data.next_meeting:
            self.ics.write(calendar.event(self.data.next_meeting, pair, self.host, self.url).to_ical())

    def _ics_meeting(self, row: Any) -> None:
        # Written by hand, not through icalendar: thousands of events cost seconds there, and
        # these hold nothing but ids, days and the few escaped words below.
        length = f", {row.length_minutes} minutes" if row.length_minutes else ""
        # Names, the day, the length and the format only, as the calendar feed: a calendar provider
        # stores what it imports.
        description = f"{MeetingFormat(row.format).label}{length}. Notes in Twoway: {self.url}"
        self.ics.write(
            b"BEGIN:VEVENT\r\n"
            + text.ics_line("UID", f"meeting-{row.id}-pair-{self.data.pair_id}@{text.ics_text(self.host)}")
            + self.dtstamp
            # A logged meeting has a day, not a time: an all-day event.
            + f"DTSTART;VALUE=DATE:{row.held_on:%Y%m%d}\r\n".encode()
            + f"DTEND;VALUE=DATE:{row.held_on + timedelta(days=1):%Y%m%d}\r\n".encode()
            + self.summary
            + text.ics_line("DESCRIPTION", text.ics_text(description))
            + b"END:VEVENT\r\n"
        )


def _answer(answer: FeedbackAnswer, kind: PromptKind) -> Any:
    if kind == PromptKind.SCALE:
        return answer.score
    if kind == PromptKind.YES_NO:
        return answer.yes
    return answer.text


def _shown(said: Any) -> str:
    if said is None:
        return ""
    if isinstance(said, bool):
        return "yes" if said else "no"
    if isinstance(said, int):
        return f"{said} of 5"
    return str(said)


def _words_day(value: date | datetime | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else "an unknown day"


def pair_folder(n: int, data: PairData) -> str:
    """``pairs/01-sam-spring-2026``: numbered, so two pairs never share a folder, and made of
    safe characters only, whatever the names and the program's title."""
    partner = data.membership.partner().user
    words = "-".join(
        part for part in (text.slug(partner.first_name, 20), text.slug(data.membership.pair.program.name)) if part
    )
    return f"pairs/{n:02d}" + (f"-{words}" if words else "")


def build(export: DataExport, user: User, folder: Path) -> int:
    """Write ``user``'s export to ``folder``/``export.file_name``; return its size in bytes. The
    ZIP is made beside it and renamed when complete, so a half-made file is never downloaded."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / export.file_name
    partial = folder / f"{export.token}.part"
    made = utcnow()
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "twoway"
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            archive.writestr("README.md", README.format(made=_words_day(made)))
            account = _account(user)
            archive.writestr("account.json", _json(account))
            archive.writestr("account.md", _account_markdown(account))
            # In the streams' order (by pair), oldest pair first.
            pairs = sorted(_read_pairs(user), key=lambda data: data.pair_id)
            streams = Streams.of(user.id)
            for n, data in enumerate(pairs, 1):
                url = absolute_url("pair.home", pair_id=data.pair_id)
                PairWriter(archive, pair_folder(n, data), data, user.zone, host, url).write(streams)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _account_markdown(account: dict[str, Any]) -> str:
    inline = text.inline
    lines = [
        f"# {inline(account['name'])}",
        "",
        f"- Email: {inline(account['email'])}",
        f"- Time zone: {inline(account['time_zone'] or 'not set (UTC)')}",
        "- Quiet hours: "
        + (
            f"{account['quiet_hours']['from']} to {account['quiet_hours']['until']}"
            if account["quiet_hours"]
            else "none"
        ),
        "",
        "## What reaches you",
        "",
        *(f"- {inline(n['about'])}: {n['channel']}" for n in account["notifications"]),
        "",
        "## Devices that get your notifications",
        "",
        *(f"- {inline(d['device'] or 'A browser')}, added {d['added_at'][:10]}" for d in account["devices"]),
        *(() if account["devices"] else ("None.",)),
        "",
        "## Passkeys",
        "",
        *(f"- {inline(p['name'])}, added {p['added_at'][:10]}" for p in account["passkeys"]),
        *(() if account["passkeys"] else ("None.",)),
        "",
        "## Intake answers",
        "",
    ]
    for intake in account["intake"]:
        lines += [f"### {inline(intake['program'])}", ""]
        lines += [
            f"- {label}: {inline(intake[key])}"
            for key, label in (("department", "Department"), ("level", "Level"))
            if intake[key]
        ]
        for key, value in (intake["answers"] or {}).items():
            if key != "updated_at" and value:
                shown = ", ".join(value) if isinstance(value, list) else value
                lines.append(f"- {key.replace('_', ' ').capitalize()}: {inline(shown)}")
        lines.append("")
    if not account["intake"]:
        lines += ["None.", ""]
    lines += ["## Requests for help", ""]
    for r in account["requests_for_help"]:
        lines += [f"### {inline(r['program'])}, {r['sent_at'][:10]}", "", text.block(r["message"]), ""]
        if r["answer"]:
            lines += ["The program admin's answer:", "", text.block(r["answer"]), ""]
    if not account["requests_for_help"]:
        lines += ["None.", ""]
    return "\n".join(lines)

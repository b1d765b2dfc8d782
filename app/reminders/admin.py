"""What the program admin is sent: that a request for help arrived, and a weekly digest.

- A new request for help tells the program's active admins and the owners (``authz.admins_of``)
  that one arrived in a program: never its words, never who sent it. Its deliveries are written in the
  same transaction as the request, so a request is never stored without them (nor they without
  it), and handed to workers once that transaction is committed.
- The digest comes on Mondays at 09:00 on each admin's own clock: for each program they
  administer, figures of its
  latest published snapshots exactly as the dashboard shows them (``aggregates.dashboard_rows``:
  the same noise, the same suppression under the program's privacy threshold, a hidden figure
  hidden in the same words; wording a digest computes no figure), and how many requests for help
  are open. One per admin per ISO week: the key carries the week.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from flask import Response, after_this_request
from sqlalchemy import select

from app import authz
from app.admin import aggregates
from app.extensions import db
from app.models import Delivery, HelpRequest, Kind, Program, State, User, utcnow
from app.models.user import UTC_ZONE, zone_named
from app.reminders import outbox
from app.reminders.messages import Message
from app.reminders.outbox import Due
from app.urls import absolute_url

if TYPE_CHECKING:
    from app.reminders.preferences import Settings

DIGEST_MORNING = time(9, 0)
# A digest held by quiet hours is still worth reading the same day; after that, next week's is near.
DIGEST_USEFUL_FOR = timedelta(days=1)
# The dashboard sections a digest carries: the headline figures and meetings per pair. The
# breakdown by department and the monthly scores stay on the dashboard (a link away).
DIGEST_SECTIONS = ("Program", "Meetings per pair")


# --- a new request for help ---------------------------------------------------------------------


def _help_subject(request_id: int) -> str:
    return f"help-request:{request_id}"


def tell_admins(request: HelpRequest) -> list[int]:
    """Take a delivery to every active admin for ``request`` (flushed, so it has an id), in the
    current transaction; they are queued once the request's answer is sent, that is after the
    commit, except for admins inside their quiet hours, whose notice waits for them to end.
    Returns the ids of the deliveries queued."""
    now = utcnow()
    admins = authz.admins_of([request.program_id])[request.program_id]
    subject = _help_subject(request.id)
    dues = [Due(admin_id, Kind.HELP_REQUEST, subject, now, details={"request": request.id}) for admin_id in admins]
    ids = [delivery_id for delivery_id, state in outbox.add(outbox.rows_now(dues, now)) if state == State.QUEUED]

    @after_this_request
    def queue(response: Response) -> Response:
        # After the view's transaction is committed (a worker must find the rows). Ids of rows a
        # failed commit never stored are harmless: no worker can claim them.
        if response.status_code < 400:
            outbox.queue_sending(ids)
        return response

    return ids


def compose_help_request(delivery: Delivery, user: User, settings: Settings) -> Message | None:
    """ "A participant in Spring 2027 asked for help": the program's name (the admin's own words),
    never the message or the sender. None once it was handled: the admin knows of it already."""
    row = db.session.execute(
        select(HelpRequest.program_id, HelpRequest.handled_at, Program.name)
        .join(Program, Program.id == HelpRequest.program_id)
        .where(HelpRequest.id == delivery.details.get("request"))
    ).one_or_none()
    if row is None or row.handled_at is not None:
        return None
    return Message(
        delivery.kind,
        f"A participant in {row.name} asked for help",
        [
            f"A participant in {row.name} asked the program for help.",
            "Read the request in Twoway: it is not in this message.",
        ],
        url=absolute_url("admin.dashboard.help_requests", program_id=row.program_id),
        action="Open the requests for help",
    )


# --- the weekly digest ----------------------------------------------------------------------------


def _digest_subject(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"admin-digest:{year}-W{week:02d}"


def _mondays(since: datetime, at: datetime, zone) -> set[date]:
    """The Mondays of the weeks (on ``zone``'s clock) that (since, at] touches: a window is at most
    a day and a few minutes long, so its two ends' weeks are all."""
    return {
        moment.astimezone(zone).date() - timedelta(days=moment.astimezone(zone).weekday()) for moment in (since, at)
    }


def find_digest(since: datetime, at: datetime) -> list[Due]:
    """Each active admin whose Monday 09:00 fell in (since, at]: three queries, whatever the number
    of admins. An admin who already had this week's digest (then moved to a later time zone, say)
    gets no second one."""
    if not aggregates.digest_programs(at.date()):
        return []
    candidates: list[Due] = []
    for admin_id, zone_name in db.session.execute(
        select(User.id, User.time_zone).where(User.is_admin.is_(True), User.active.is_(True))
    ):
        zone = zone_named(zone_name or "") or UTC_ZONE
        for monday in _mondays(since, at, zone):
            # Through UTC, so a 09:00 that a DST change skips becomes the first moment after it.
            nominal = datetime.combine(monday, DIGEST_MORNING, tzinfo=zone).astimezone(UTC_ZONE)
            if since < nominal <= at:
                candidates.append(
                    Due(admin_id, Kind.ADMIN_DIGEST, _digest_subject(monday), nominal, nominal + DIGEST_USEFUL_FOR)
                )
    if not candidates:
        return []
    had = set(
        db.session.execute(
            select(Delivery.user_id, Delivery.subject).where(
                Delivery.kind == Kind.ADMIN_DIGEST,
                Delivery.user_id.in_({due.user_id for due in candidates}),
                Delivery.subject.in_({due.subject for due in candidates}),
            )
        ).tuples()
    )
    return [due for due in candidates if (due.user_id, due.subject) not in had]


def digest_figures(program_id: int) -> list[tuple[str, str, str]] | None:
    """The (section, item, value) rows a digest shows for one program: the dashboard's own rows of
    DIGEST_SECTIONS from its published snapshots, a noisy figure as "about 12, give or take 2".
    None when there is no such program."""
    board = aggregates.dashboard(program_id)
    if board is None:
        return None
    return [
        (section, item, f"about {value}, give or take {slack}" if slack and slack != "0" else value)
        for section, item, value, slack in aggregates.dashboard_rows(board)
        if section in DIGEST_SECTIONS
    ]


def _requests(n: int) -> str:
    return f"{n} open request{'' if n == 1 else 's'} for help"


def _program_paragraph(program: aggregates.DigestProgram, rows: list[tuple[str, str, str]]) -> str:
    headline = [f"{item}: {value}" for section, item, value in rows if section == "Program"]
    meetings = [f"{item}: {value}" for section, item, value in rows if section == "Meetings per pair"]
    parts = ["; ".join(headline)]
    if meetings:
        parts.append("Meetings per pair: " + "; ".join(meetings))
    parts.append(_requests(program.open_requests).capitalize())
    return f"{program.name}. " + ". ".join(parts) + "."


def compose_digest(delivery: Delivery, user: User, settings: Settings) -> Message | None:
    """The figures of the latest snapshots when the digest is worded (as the dashboard shows them
    then). Counts only: no pair, person, department or question is named."""
    # Only the programs this admin administers (all of them for an owner).
    programs = aggregates.digest_programs(utcnow().date(), authz.administered_programs(user))
    paragraphs = []
    for program in programs:
        rows = digest_figures(program.id)
        if rows is not None:
            paragraphs.append(_program_paragraph(program, rows))
    if not paragraphs:
        return None
    total_open = sum(program.open_requests for program in programs)
    count = f"{len(paragraphs)} program{'' if len(paragraphs) == 1 else 's'}"
    return Message(
        delivery.kind,
        "Your week in Twoway",
        [
            f"{count}, {_requests(total_open)}.",
            *paragraphs,
            "As on each program's dashboard, no figure describes fewer pairs than the program's privacy threshold.",
        ],
        url=absolute_url("admin.index"),
        action="Open the dashboards",
    )

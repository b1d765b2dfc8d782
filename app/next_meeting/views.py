"""The next meeting (planned by either person), its calendar file, and private calendar feeds.

``bp`` hangs under the guarded ``pair`` blueprint; ``feeds`` serves the feed URLs, whose secret
token is the only credential a calendar app can present.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, url_for
from flask_login import current_user

from app import authz, htmx, versions
from app.authz import public
from app.extensions import db, limiter
from app.ground_rules import agreement
from app.journal import meetings
from app.models import NextMeeting, utcnow
from app.next_meeting import calendar, planning
from app.next_meeting.forms import NextMeetingForm
from app.next_meeting.pace import pace, suggest_next
from app.urls import absolute_url

bp = Blueprint("next_meeting", __name__, url_prefix="/next-meeting")
feeds = Blueprint("calendar", __name__, url_prefix="/calendar")

TEMPLATE = "next_meeting/index.html"
BLOCKS = ("plan_form", "calendar_feed")


@bp.app_template_global()
def meeting_time(starts_at: datetime, zone: tzinfo | None = None) -> str:
    """ "Thursday 3 December, 08:30 (Europe/Berlin)": ``starts_at`` on the viewer's clock (or
    ``zone``'s), with the year when it isn't this year's; in UTC for an instant at the calendar's
    ends that the zone can't show."""
    zone = zone or current_user.zone
    try:
        local = starts_at.astimezone(zone)
    except (OverflowError, ValueError):
        local = starts_at
    year = f" {local.year}" if local.year != utcnow().astimezone(zone).year else ""
    name = getattr(local.tzinfo, "key", "UTC")
    return f"{local:%A} {local.day} {local:%B}{year}, {local:%H:%M}" + (
        " UTC" if name == "UTC" else f" ({name.replace('_', ' ')})"
    )


def _context(form: NextMeetingForm | None = None, **extra: Any) -> dict[str, Any]:
    membership = authz.current_membership()
    pair_id = membership.pair_id
    planned = planning.upcoming(pair_id)
    rhythm = agreement.rhythm(pair_id)
    met = meetings.last_met_on(pair_id)
    zone = current_user.zone
    today = utcnow().astimezone(zone).date()
    if form is None:
        if planned is not None:
            local = planned.starts_in(zone)
            form = NextMeetingForm.blank(
                version=str(planned.version),
                day=local.date(),
                time=local.time().replace(second=0, microsecond=0),
                length_minutes=planned.length_minutes,
                format=planned.format.value,
                place=planned.place,
                timezone=getattr(local.tzinfo, "key", "UTC"),
                fold=str(local.fold),
            )
        else:
            stored = db.session.get(NextMeeting, pair_id)
            form = NextMeetingForm.blank(
                version=str(stored.version) if stored else "0",
                day=suggest_next(rhythm, met, today),
                time=time(9, 0),
                length_minutes=rhythm.length_minutes or 45,
                timezone=zone.key,
            )
    return {
        "planned": planned,
        "form": form,
        "rhythm": rhythm,
        "pace": pace(rhythm, met, today),
        "suggested": suggest_next(rhythm, met, today),
        "has_feed": planning.has_feed(membership),
    } | extra


@bp.get("")
def plan() -> Response:
    return htmx.render(TEMPLATE, blocks=BLOCKS, **_context())


@bp.post("")
def save_plan() -> Response:
    membership = authz.current_membership()
    form = NextMeetingForm()
    if not form.validate():
        return htmx.render(TEMPLATE, blocks=("plan_form",), status=422, **_context(form))
    zone = form.zone()
    values = planning.as_values(
        form.starts_at(), zone.key, form.length_minutes.data, form.format.data, form.place.data or ""
    )
    try:
        planning.save(membership, form.base_version(), values)
    except versions.Conflict as conflict:
        # Nothing was written: the form keeps what was typed, now over the partner's version, so
        # saving it again replaces theirs on purpose.
        form.version.data = str(conflict.current.version)
        return htmx.render(
            TEMPLATE, blocks=("plan_form",), status=409, **_context(form, conflict=conflict.current, mine=values)
        )
    if current_user.time_zone is None:
        # A first plan made before the browser told us its zone: it is this person's clock.
        current_user.time_zone = zone.key
    db.session.commit()
    return htmx.after_write(url_for("pair.home") + "#next_meeting")


@bp.get("/meeting.ics")
def download() -> Response:
    membership = authz.current_membership()
    planned = planning.upcoming(membership.pair_id)
    if planned is None:
        abort(404)
    body = calendar.ics(planned, membership.pair, _host(), absolute_url("pair.home", pair_id=membership.pair_id))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="twoway-next-meeting.ics"'
    return response


@bp.post("/feed")
def new_feed() -> Response:
    token = planning.new_feed(authz.current_membership())
    db.session.commit()
    url = absolute_url("calendar.feed", token=token)
    # Shown in this response only (the token is stored as a hash), so it is never a redirect.
    return htmx.render(
        TEMPLATE,
        blocks=("calendar_feed",),
        **_context(feed_url=url, webcal_url="webcal://" + url.split("://", 1)[1]),
    )


@bp.post("/feed/revoke")
def revoke_feed() -> Response:
    planning.revoke_feeds(authz.current_membership())
    db.session.commit()
    return htmx.after_write(url_for(".plan") + "#calendar_feed", TEMPLATE, blocks=("calendar_feed",), context=_context)


def _host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "twoway"


@feeds.get("/<token>.ics")
@public
@limiter.limit("120 per hour")
def feed(token: str) -> Response:
    pair = authz.calendar_feed_pair(token)
    planned = planning.upcoming(pair.id)
    body = calendar.ics(planned, pair, _host(), absolute_url("pair.home", pair_id=pair.id))
    response = Response(body, mimetype="text/calendar")
    response.cache_control.no_store = True
    return response

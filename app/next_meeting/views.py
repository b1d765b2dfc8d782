"""The next meeting (planned by either person), its calendar file, and private calendar feeds.

``bp`` hangs under the guarded ``pair`` blueprint; ``feeds`` serves the feed URLs, whose secret
token is the only credential a calendar app can present.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, url_for

from app import authz, htmx
from app.authz import public
from app.extensions import db, limiter
from app.forms import EmptyForm
from app.ground_rules import agreement
from app.journal import meetings
from app.models import NextMeeting
from app.next_meeting import calendar, planning
from app.next_meeting.forms import NextMeetingForm
from app.next_meeting.pace import pace, suggest_next
from app.urls import absolute_url

bp = Blueprint("next_meeting", __name__, url_prefix="/next-meeting")
feeds = Blueprint("calendar", __name__, url_prefix="/calendar")

TEMPLATE = "next_meeting/index.html"


def _context(form: NextMeetingForm | None = None, **extra: Any) -> dict[str, Any]:
    membership = authz.current_membership()
    pair_id = membership.pair_id
    planned = planning.upcoming(pair_id)
    rhythm = agreement.rhythm(pair_id)
    met = meetings.last_met_on(pair_id)
    today = date.today()
    if form is None:
        if planned is not None:
            local = planned.local_start
            form = NextMeetingForm(
                formdata=None,
                data={
                    "version": str(planned.version),
                    "day": local.date(),
                    "time": local.time().replace(second=0, microsecond=0),
                    "length_minutes": planned.length_minutes,
                    "format": planned.format.value,
                    "place": planned.place,
                    "timezone": planned.timezone,
                },
            )
        else:
            stored = db.session.get(NextMeeting, pair_id)
            form = NextMeetingForm(
                formdata=None,
                data={
                    "version": str(stored.version) if stored else "0",
                    "day": suggest_next(rhythm, met, today),
                    "time": time(9, 0),
                    "length_minutes": rhythm.length_minutes or 45,
                    "timezone": "UTC",
                },
            )
    return {
        "planned": planned,
        "form": form,
        "rhythm": rhythm,
        "pace": pace(rhythm, met, today),
        "suggested": suggest_next(rhythm, met, today),
        "has_feed": planning.has_feed(membership),
        "action_form": EmptyForm(),
    } | extra


@bp.get("")
def plan() -> Response:
    return htmx.render(TEMPLATE, **_context())


@bp.post("")
def save_plan() -> Response:
    membership = authz.current_membership()
    form = NextMeetingForm()
    if not form.validate():
        return htmx.render(TEMPLATE, "plan_form", status=422, **_context(form))
    values = planning.as_values(
        form.starts_at(), form.zone().key, form.length_minutes.data, form.format.data, (form.place.data or "").strip()
    )
    try:
        planning.save(membership, form.base_version(), values)
    except planning.Conflict as conflict:
        db.session.rollback()
        form.version.data = str(conflict.current.version)
        return htmx.render(TEMPLATE, "plan_form", status=409, **_context(form, conflict=conflict.current))
    db.session.commit()
    return htmx.redirect(url_for("pair.home") + "#next_meeting")


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
    # Shown in this response only: the token is stored as a hash.
    return htmx.render(TEMPLATE, **_context(feed_url=url, webcal_url="webcal://" + url.split("://", 1)[1]))


@bp.post("/feed/revoke")
def revoke_feed() -> Response:
    planning.revoke_feeds(authz.current_membership())
    db.session.commit()
    return htmx.redirect(url_for(".plan") + "#calendar_feed")


def _host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "twoway"


@feeds.get("/<token>.ics")
@public
@limiter.limit("120 per hour")
def feed(token: str) -> Response:
    pair = planning.feed_pair(token)
    if pair is None:
        abort(404)
    planned = planning.upcoming(pair.id)
    body = calendar.ics(planned, pair, _host(), absolute_url("pair.home", pair_id=pair.id))
    response = Response(body, mimetype="text/calendar")
    response.cache_control.no_store = True
    return response

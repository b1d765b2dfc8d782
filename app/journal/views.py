"""The session journal's pages. Registered under the ``pair`` blueprint, which has already loaded
the membership (or answered 404) before any of these run; meetings, topics and action items are
fetched only through ``authz.get_in_pair``."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, get_template_attribute, request, url_for

from app import authz, htmx
from app.extensions import db
from app.ground_rules.agreement import rhythm
from app.journal import agenda, meetings
from app.journal.forms import EditMeetingForm, LogMeetingForm, SearchForm, edit_form_for, reflection_form
from app.models import MEETING_FORMAT_LABELS, ActionItem, Meeting
from app.urls import safe_next

bp = Blueprint("journal", __name__, url_prefix="/journal")

TEMPLATE = "journal/index.html"
LOG_TEMPLATE = "journal/new.html"
SEARCH_TEMPLATE = "journal/search.html"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"format_labels": MEETING_FORMAT_LABELS, "snippet": meetings.snippet}


# --- the journal, and one entry ------------------------------------------------------------------


def _entries_context(entries: list[Meeting], **extra: Any) -> dict[str, Any]:
    """What the entry blocks need: names, goal titles, and the viewer's own reflections."""
    membership = authz.current_membership()
    items = [item for meeting in entries for item in meeting.action_items]
    mine = meetings.my_reflections([m.id for m in entries])
    return {
        "entries": entries,
        "names": meetings.member_names(membership),
        "goals": meetings.goal_titles(membership.pair_id, meetings.goals_of(items)),
        "reflections": mine,
        "reflection_forms": {m.id: reflection_form(m.id, mine[m.id].body if m.id in mine else "") for m in entries},
    } | extra


def _entry_page(meeting: Meeting, status: int = 200, **extra: Any) -> Response:
    """One entry on a page of its own, in the state ``extra`` asks for (editing, a conflict…)."""
    meetings.load_details(meeting)
    return htmx.render(TEMPLATE, status=status, **_entries_context([meeting], single=True, **extra))


def _entry_block(meeting: Meeting, status: int = 200, **extra: Any) -> Response:
    """The part of an entry its author edits (date, format, length, notes), for htmx; the whole
    entry page otherwise."""
    if htmx.is_htmx():
        names = meetings.member_names(authz.current_membership())
        return htmx.render(TEMPLATE, "entry", status=status, meeting=meeting, names=names, **extra)
    return _entry_page(meeting, status=status, **extra)


@bp.get("")
def index() -> Response:
    page = request.args.get("page", type=int, default=1)
    page = min(max(page, 1), meetings.MAX_PAGE)
    entries, has_more = meetings.meetings_page(authz.current_membership().pair_id, page)
    return htmx.render(
        TEMPLATE,
        **_entries_context(entries, page=page, has_more=has_more, single=False, search_form=SearchForm(formdata=None)),
    )


@bp.get("/meetings/<int:meeting_id>")
def show_meeting(meeting_id: int) -> Response:
    meeting = authz.get_in_pair(Meeting, meeting_id)
    if htmx.target() == f"entry-{meeting.id}":
        return _entry_block(meeting)
    return _entry_page(meeting)


@bp.get("/meetings/<int:meeting_id>/edit")
def edit_meeting(meeting_id: int) -> Response:
    meeting = meetings.editable(meeting_id)
    return _entry_block(meeting, mode="edit", edit_form=edit_form_for(meeting))


@bp.post("/meetings/<int:meeting_id>")
def save_meeting(meeting_id: int) -> Response:
    meeting = meetings.editable(meeting_id)
    form = EditMeetingForm()
    if not form.validate():
        return _entry_block(meeting, status=422, mode="edit", edit_form=form)
    try:
        changed = meetings.save(meeting, form.base_version(), form.meeting_values())
    except meetings.Conflict:
        # Nothing was written. What they typed goes back in the form, over the newer version.
        retry = edit_form_for(meeting, form.meeting_values())
        return _entry_block(meeting, status=409, mode="conflict", edit_form=retry)
    db.session.commit()
    if not htmx.is_htmx():
        return htmx.redirect(url_for(".show_meeting", meeting_id=meeting.id))
    return _entry_block(meeting, saved=changed)


@bp.post("/meetings/<int:meeting_id>/reflection")
def save_reflection(meeting_id: int) -> Response:
    meeting = authz.get_in_pair(Meeting, meeting_id)
    form = reflection_form(meeting.id, from_request=True)
    if not form.validate():
        if htmx.is_htmx():
            mine = meetings.my_reflection(meeting.id)
            return htmx.render(TEMPLATE, "reflection", status=422, meeting=meeting, mine=mine, reflection_form=form)
        return _entry_page(meeting, status=422, reflection_form=form)
    mine = meetings.save_reflection(meeting, (form.body.data or "").strip())
    db.session.commit()
    if not htmx.is_htmx():
        return htmx.redirect(url_for(".show_meeting", meeting_id=meeting.id) + f"#reflection-{meeting.id}")
    return htmx.render(
        TEMPLATE,
        "reflection",
        meeting=meeting,
        mine=mine,
        reflection_form=reflection_form(meeting.id, mine.body if mine else ""),
        reflection_saved=True,
    )


# --- logging a meeting ---------------------------------------------------------------------------


def _offered(form: LogMeetingForm) -> LogMeetingForm:
    """``form`` with the pair's people and goals as the choices of each action row."""
    membership = authz.current_membership()
    return form.offer(membership.pair.members, meetings.goal_choices(membership.pair_id))


def _log_page(form: LogMeetingForm, topics: list | None = None, status: int = 200, **extra: Any) -> Response:
    membership = authz.current_membership()
    topics = agenda.open_topics(membership.pair_id) if topics is None else topics
    block = "log_form" if htmx.target() == "log_form" else None
    return htmx.render(
        LOG_TEMPLATE, block, status=status, form=form, topics=topics, names=meetings.member_names(membership), **extra
    )


@bp.get("/new")
def new_meeting() -> Response:
    pair_id = authz.current_membership().pair_id
    topics = agenda.open_topics(pair_id)
    agreed = rhythm(pair_id).length_minutes
    defaults = {"held_on": date.today(), "length_minutes": agreed, "covered": [t.id for t in topics]}
    return _log_page(_offered(LogMeetingForm(formdata=None, data=defaults)), topics, agreed_length=agreed)


@bp.post("/new")
def log_meeting() -> Response:
    membership = authz.current_membership()
    form = _offered(LogMeetingForm())
    if request.form.get("add_action"):
        # "Add another action" works without JavaScript too: the same form back, one row longer.
        return _log_page(form, rows_full=not form.add_row())
    if not form.validate():
        return _log_page(form, status=422)
    meeting = meetings.log(
        membership,
        form.meeting_values(),
        form.covered.data or [],
        form.action_values(),
        (form.reflection.data or "").strip(),
    )
    db.session.commit()
    return htmx.redirect(url_for(".index") + f"#meeting-{meeting.id}")


# --- action items --------------------------------------------------------------------------------


def _back_to(anchor: str) -> str:
    """Where a plain form returns after a tick: the Twoway page it came from (the journal, an
    entry, the pair's home), else the journal."""
    referrer = urlsplit(request.referrer or "")
    ours = urlsplit(current_app.config["BASE_URL"])
    same_site = (referrer.scheme, referrer.netloc) == (ours.scheme, ours.netloc)
    back = referrer.path + (f"?{referrer.query}" if referrer.query else "") if same_site else None
    return safe_next(back, default=url_for(".index")) + f"#{anchor}"


@bp.post("/actions/<int:action_id>/toggle")
def toggle_action(action_id: int) -> Response:
    item = authz.get_in_pair(ActionItem, action_id)
    wanted = request.form.get("done")
    meetings.set_done(item, (wanted == "1") if wanted in ("0", "1") else not item.done)
    db.session.commit()
    if not htmx.is_htmx():
        return htmx.redirect(_back_to(f"action-{item.id}"))
    membership = authz.current_membership()
    action_item = get_template_attribute("journal/_items.html", "action_item")
    goals = meetings.goal_titles(membership.pair_id, meetings.goals_of([item]))
    return Response(action_item(item, meetings.member_names(membership), goals))


# --- search --------------------------------------------------------------------------------------


@bp.get("/search")
def search() -> Response:
    form = SearchForm(formdata=request.args)
    q = (form.q.data or "").strip()
    if not form.validate():
        return htmx.render(SEARCH_TEMPLATE, status=422, form=form, q=q, hits=None)
    hits = meetings.search(authz.current_membership().pair_id, q) if q else None
    return htmx.render(SEARCH_TEMPLATE, form=form, q=q, hits=hits)

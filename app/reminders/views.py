"""The notifications page (``/account/notifications``) and the one-click unsubscribe of a mail."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app import authz, htmx
from app.auth import sessions
from app.extensions import csrf, db
from app.models import Channel, Kind, PushSubscription
from app.reminders import push
from app.reminders.forms import channel_field, preferences_form
from app.reminders.kinds import SPECS, optional_kinds
from app.reminders.preferences import choose, settings_for, unsubscribe_target

bp = Blueprint("reminders", __name__)


def _my_kinds() -> list[Kind]:
    """The kinds this person can receive: an admin's own, or those of people in a pair."""
    return optional_kinds("admin" if current_user.is_admin else "pair")


def _page(form, status: int = 200) -> Response:
    kinds = _my_kinds()
    return htmx.render(
        "reminders/preferences.html",
        blocks=("preferences_form",),
        status=status,
        form=form,
        rows=[(kind, SPECS[kind], channel_field(form, kind)) for kind in kinds],
        **_devices(),
    )


@bp.get("/account/notifications")
def preferences() -> Response:
    kinds = _my_kinds()
    settings = settings_for(current_user)
    data = {f"kind_{kind.value.replace('-', '_')}": settings.channel(kind).value for kind in kinds}
    form = preferences_form(kinds).blank(
        quiet_from=current_user.quiet_from, quiet_until=current_user.quiet_until, **data
    )
    return _page(form)


@bp.post("/account/notifications")
def save_preferences() -> Response:
    kinds = _my_kinds()
    form = preferences_form(kinds)()
    if not form.validate():
        return _page(form, status=422)
    for kind in kinds:
        choose(current_user.id, kind, Channel(channel_field(form, kind).data))
    current_user.quiet_from = form.quiet_from.data
    current_user.quiet_until = form.quiet_until.data
    db.session.commit()
    return htmx.after_write(url_for(".preferences"), notice="Saved. Twoway will send you just these.")


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@authz.public
@csrf.exempt
def unsubscribe(token: str) -> Response:
    """RFC 8058: a mail client POSTs ``List-Unsubscribe=One-Click`` here with no cookie and no CSRF
    token, so the signed token in the URL is the whole authentication: it names one person and one
    kind, and can turn off nothing else. A GET (a person, or a link scanner opening the URL) only
    shows a page with the button; it never unsubscribes."""
    target = unsubscribe_target(token)
    if target is None:
        return Response(render_template("reminders/unsubscribe.html", invalid=True), status=404)
    user, kind = target
    if request.method == "POST":
        choose(user.id, kind, Channel.OFF)
        db.session.commit()
        return Response(render_template("reminders/unsubscribe.html", done=True, label=SPECS[kind].label))
    return Response(render_template("reminders/unsubscribe.html", token=token, label=SPECS[kind].label))


# --- Web Push: the browsers a person gets notifications on ---------------------------------------


def _devices() -> dict:
    return {"devices": push.devices(current_user.id), "vapid_public_key": push.public_key()}


@bp.post("/account/notifications/devices")
def add_device() -> Response:
    """app.js posts the browser's ``PushSubscription.toJSON()`` here (with the page's CSRF token)."""
    if not push.enabled():
        return jsonify(error="Push notifications aren't set up on this Twoway. Reminders come by email."), 409
    try:
        subscription = push.parse(request.get_json(silent=True))
        for attempt in (1, 2):
            device = push.subscribe(current_user, subscription, request.user_agent.string)
            try:
                db.session.commit()
                # So that signing out here stops this browser's notifications (auth/sessions.py).
                sessions.remember_push_device(device.id)
                break
            except IntegrityError:
                # The same browser subscribing twice at once (two tabs): the second finds the first's row.
                db.session.rollback()
                if attempt == 2:
                    raise
    except push.SubscriptionError as error:
        return jsonify(error=str(error)), 400
    except push.TakenError:
        return jsonify(
            error="This browser already gets another person's Twoway notifications. "
            "They can remove it on their own Notifications page."
        ), 409
    flash("Notifications are on for this device.", "success")
    return jsonify(redirect=url_for(".preferences", _anchor="devices"))


@bp.post("/account/notifications/devices/<int:device_id>/remove")
def remove_device(device_id: int) -> Response:
    device: PushSubscription = authz.get_own(PushSubscription, device_id)
    label = device.device or "That browser"
    db.session.delete(device)
    db.session.commit()
    return htmx.after_write(
        url_for(".preferences", _anchor="devices"),
        "reminders/preferences.html",
        blocks=("devices",),
        context=_devices,
        notice=f"Removed. {label} gets no more notifications from Twoway.",
    )

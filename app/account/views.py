"""Managing passkeys and recovery codes, the time zone, and deleting the account."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, StringField, ValidationError
from wtforms.validators import InputRequired, Length

from app import authz, htmx, queue
from app.auth import notices, passkeys, recovery, sessions
from app.auth.forms import RenamePasskeyForm
from app.ending import erasure
from app.export import views as export_views
from app.extensions import db, limiter
from app.forms import EmptyForm, Form
from app.models import Passkey, utcnow
from app.models.user import TIME_ZONE_MAX, time_zone_names, zone_named
from app.reminders import outbox
from app.urls import safe_next

bp = Blueprint("account", __name__, url_prefix="/account")

PASSKEY_REGISTER_LIMIT = "20 per hour"
SIGN_IN_AGAIN = (
    "It's been more than 10 minutes since you signed in. Sign in again, then add the passkey: "
    "a new way into your account needs a fresh sign-in."
)


def _my_passkeys() -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == current_user.id).order_by(Passkey.id)))


@bp.get("/passkeys", endpoint="passkeys")
def passkeys_page() -> Response:
    return htmx.render(
        "account/passkeys.html",
        passkeys=_my_passkeys(),
        unused_codes=recovery.unused_count(current_user),
        form=EmptyForm(),
        recent=authz.signed_in_recently(),
        **export_views.section(),
    )


@bp.get("/passkeys/offer")
def offer_passkey() -> Response:
    return htmx.render(
        "account/offer_passkey.html",
        next=safe_next(request.args.get("next"), url_for("pairs.index")),
        recent=authz.signed_in_recently(),
    )


@bp.post("/passkeys/options")
@limiter.limit(PASSKEY_REGISTER_LIMIT)
def passkey_options() -> Response:
    if not authz.signed_in_recently():
        return jsonify(error=SIGN_IN_AGAIN), 403
    options = passkeys.registration_options(current_user, _my_passkeys())
    db.session.commit()
    return Response(options, mimetype="application/json")


@bp.post("/passkeys")
@limiter.limit(PASSKEY_REGISTER_LIMIT)
def add_passkey() -> Response:
    if not authz.signed_in_recently():
        return jsonify(error=SIGN_IN_AGAIN), 403
    try:
        passkey = passkeys.register(
            current_user,
            request.get_data(as_text=True),
            passkeys.default_nickname(request.user_agent.string),
        )
    except passkeys.PasskeyError as error:
        db.session.commit()  # the challenge stays used up
        return jsonify(error=str(error)), 400
    # Its notice commits with it (``deliver_now`` commits the transaction): a new way into the
    # account is never kept without its owner hearing of it. Flushed first: the notice names it.
    db.session.flush()
    notices.passkey_added(current_user, passkey.id, passkey.nickname, passkey.created_at or utcnow())
    flash(f"Passkey added: “{passkey.nickname}”. Next time, sign in with it.", "success")
    return jsonify(redirect=safe_next(request.args.get("next"), url_for(".passkeys")))


@bp.post("/passkeys/<int:passkey_id>/rename")
def rename_passkey(passkey_id: int) -> Response:
    passkey: Passkey = authz.get_own(Passkey, passkey_id)
    form = RenamePasskeyForm()
    if not form.validate():
        return htmx.render(
            "account/passkeys.html",
            blocks=("passkey_row",),
            passkey=passkey,
            rename_form=form,
            rename_for=passkey.id,
            passkeys=_my_passkeys(),
            unused_codes=recovery.unused_count(current_user),
            form=EmptyForm(),
            status=422,
            **export_views.section(),
        )
    passkey.nickname = form.nickname.data.strip()
    db.session.commit()
    return htmx.after_write(
        url_for(".passkeys"),
        "account/passkeys.html",
        blocks=("passkey_row",),
        context=lambda: {"passkey": passkey, "form": EmptyForm()},
        notice="Passkey renamed.",
    )


@bp.post("/passkeys/<int:passkey_id>/remove")
def remove_passkey(passkey_id: int) -> Response:
    passkey: Passkey = authz.get_own(Passkey, passkey_id)
    others = [p for p in _my_passkeys() if p.id != passkey.id]
    if not others and recovery.unused_count(current_user) == 0:
        flash(
            "This is your last passkey. Make a set of recovery codes first, so you can always get back in.",
            "error",
        )
        return htmx.redirect(url_for(".passkeys"))
    db.session.delete(passkey)
    # Ticked by default on the page: whoever used this passkey may still have a session open.
    end_others = bool(request.form.get("end_other_sessions"))
    if end_others:
        sessions.end_others(current_user._get_current_object())
    db.session.commit()
    flash(
        f"Removed “{passkey.nickname}”. It can no longer sign you in"
        + (", and you're signed out everywhere else." if end_others else "."),
        "success",
    )
    return htmx.redirect(url_for(".passkeys"))


@bp.get("/recovery-codes")
def recovery_codes() -> Response:
    return htmx.render(
        "account/recovery_codes.html",
        unused=recovery.unused_count(current_user),
        form=EmptyForm(),
        recent=authz.signed_in_recently(),
    )


@bp.post("/recovery-codes")
def new_recovery_codes() -> Response:
    if not authz.signed_in_recently():
        flash(
            "To make recovery codes, sign in again first: a new way into your account needs a fresh sign-in.", "error"
        )
        return htmx.redirect(url_for("auth.sign_in", again=1, next=url_for(".recovery_codes")))
    codes = recovery.generate(current_user)
    # Committed with their notice, as a passkey is.
    notices.recovery_codes_made(current_user, utcnow())
    # Shown in this response only: they are stored as hashes and can never be displayed again.
    return htmx.render("account/recovery_codes.html", codes=codes, unused=len(codes), form=EmptyForm(), recent=True)


# --- the person's time zone ----------------------------------------------------------------------


class TimeZoneForm(Form):
    time_zone = StringField(
        "Your time zone",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            InputRequired("Pick your time zone, such as Europe/Berlin."),
            Length(max=TIME_ZONE_MAX, message="That is not a time zone we know. Pick one from the list."),
        ],
    )
    # Sent by app.js on a first visit: it sets a zone nobody chose yet and never replaces one.
    detected = HiddenField()

    def validate_time_zone(self, field) -> None:
        if zone_named(field.data or "") is None:
            raise ValidationError("That is not a time zone we know. Pick one from the list, such as Europe/Berlin.")


def _time_zone_page(form: TimeZoneForm, status: int = 200) -> Response:
    return htmx.render(
        "account/time_zone.html", blocks=("time_zone_form",), status=status, form=form, zones=sorted(time_zone_names())
    )


@bp.get("/time-zone")
def time_zone() -> Response:
    return _time_zone_page(TimeZoneForm.blank(time_zone=current_user.time_zone or ""))


@bp.post("/time-zone")
def set_time_zone() -> Response:
    form = TimeZoneForm()
    if form.detected.data:
        # The browser's own guess, posted once in the background: it never overrides the person.
        if current_user.time_zone is None and form.validate():
            current_user.time_zone = form.time_zone.data
            db.session.commit()
        return Response(status=204)
    if not form.validate():
        return _time_zone_page(form, status=422)
    current_user.time_zone = form.time_zone.data
    db.session.commit()
    flash(f"Saved: times are now shown on {form.time_zone.data.replace('_', ' ')} time.", "success")
    return htmx.after_write(url_for(".time_zone"))


# --- deleting the account ------------------------------------------------------------------------


class DeleteAccountForm(Form):
    confirm = BooleanField(
        "I understand: my private words are erased for good, and I can't sign in again",
        validators=[InputRequired("Tick the box to say you understand.")],
    )


def _delete_page(form: DeleteAccountForm, status: int = 200) -> Response:
    return htmx.render(
        "account/delete.html",
        status=status,
        form=form,
        recent=authz.signed_in_recently(),
        memberships=authz.memberships_of(current_user),
    )


@bp.get("/delete")
def delete_account() -> Response:
    return _delete_page(DeleteAccountForm.blank())


@bp.post("/delete")
def delete() -> Response:
    """Erase the signed-in person's private data and close their account (``erasure.erase``),
    after a fresh sign-in: a session left open somewhere can't delete anyone."""
    if not authz.signed_in_recently():
        flash(
            "To delete your account, sign in again first: it's been more than 10 minutes since you signed in.", "error"
        )
        return htmx.redirect(url_for("auth.sign_in", again=1, next=url_for(".delete_account")))
    form = DeleteAccountForm()
    if not form.validate():
        return _delete_page(form, status=422)
    user = current_user._get_current_object()
    sessions.end(user)
    ids = erasure.erase(user)
    db.session.commit()
    outbox.queue_sending(ids)
    # The embedded broker keeps tasks it handed out (a sign-in mail's sealed address among them).
    queue.enqueue(queue.purge_consumed_messages)
    flash("Your account is deleted. Thank you for taking part.", "success")
    return htmx.redirect(url_for("auth.sign_in"))

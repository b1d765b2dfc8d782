"""Sign-in pages: passkey, one-time link, recovery code; and sign-out."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import exists, select

from app import htmx
from app.auth import links, passkeys, recovery, sessions
from app.auth.forms import EmailLinkForm, RecoveryCodeForm
from app.authz import public
from app.extensions import db, limiter
from app.forms import EmptyForm
from app.models import Passkey, User
from app.pairs import landing
from app.urls import safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Per client address the limits only stop floods: a whole office may sign in from one address at a
# kick-off. The tight limit is per email address (links.allow_mail, counted in the database), so
# nobody can flood a colleague's inbox.
LINK_REQUEST_LIMIT = "60 per 15 minutes"
SIGN_IN_LIMIT = "100 per 15 minutes"
PASSKEY_OPTIONS_LIMIT = "30 per minute"
PASSKEY_VERIFY_LIMIT = "10 per minute"


def _continue_to(user: User) -> str:
    """The page asked for (``next``), else where ``user`` starts (their one pair's home, or their
    pairs)."""
    return safe_next(request.values.get("next"), "") or landing.url_for_person(user)


def _after_sign_in(user: User) -> str:
    """Where a fresh sign-in lands: people without a passkey are offered to add one first."""
    has_passkey = db.session.scalar(select(exists().where(Passkey.user_id == user.id)))
    return _continue_to(user) if has_passkey else url_for("account.offer_passkey", next=_continue_to(user))


@bp.get("/sign-in")
@public
def sign_in() -> Response:
    # ``again``: a signed-in person proving it is still them, before adding a passkey or codes.
    again = bool(request.args.get("again")) and current_user.is_authenticated
    if current_user.is_authenticated and not again:
        return htmx.redirect(_continue_to(current_user))
    form = EmailLinkForm(next=request.args.get("next", ""))
    return htmx.render("auth/sign_in.html", form=form, again=again)


@bp.post("/sign-in/link")
@public
@limiter.limit(LINK_REQUEST_LIMIT)
def email_link() -> Response:
    form = EmailLinkForm()
    # Counted before validation, so an address typed with stray spaces or capitals is refused
    # like the same inbox; an invalid request is rolled back and counts for nothing.
    if not links.allow_mail(form.email.data or ""):
        abort(429)
    if not form.validate():
        return htmx.render("auth/sign_in.html", blocks=("link_form",), form=form, status=422)
    db.session.commit()  # the attempt counts whether or not the address is known
    # Queued for every address alike; the worker finds out whether it is anyone's.
    links.request_mail(form.email.data, safe_next(form.next.data, "") or None)
    # The same answer whether or not the address is known: the page must not reveal who uses Twoway.
    sent = f"If {form.email.data} belongs to someone in Twoway, a sign-in link is on its way. It works once, for 15 minutes."
    again = 1 if current_user.is_authenticated else None
    return htmx.after_write(
        url_for(".sign_in", next=form.next.data or None, again=again),
        "auth/sign_in.html",
        blocks=("link_form",),
        context=lambda: {"form": form},
        notice=sent,
    )


@bp.get("/link/<token>")
@public
def link(token: str) -> Response:
    found = links.find_usable(token)
    return htmx.render("auth/link.html", link=found, form=EmptyForm(), status=200 if found else 410)


@bp.post("/link/<token>")
@public
@limiter.limit(SIGN_IN_LIMIT)
def use_link(token: str) -> Response:
    user = links.redeem(token)
    if user is None:
        db.session.rollback()
        flash("That sign-in link has expired or was already used. Ask for a new one below.", "error")
        return htmx.redirect(url_for(".sign_in"))
    sessions.start(user)
    db.session.commit()
    return htmx.redirect(_after_sign_in(user))


@bp.post("/passkey/options")
@public
@limiter.limit(PASSKEY_OPTIONS_LIMIT)
def passkey_options() -> Response:
    options = passkeys.authentication_options()
    db.session.commit()
    return Response(options, mimetype="application/json")


@bp.post("/passkey/verify")
@public
@limiter.limit(PASSKEY_VERIFY_LIMIT)
def passkey_verify() -> Response:
    try:
        user = passkeys.authenticate(request.get_data(as_text=True))
    except passkeys.PasskeyError as error:
        db.session.commit()  # the challenge stays used up
        return jsonify(error=str(error)), 400
    sessions.start(user)
    db.session.commit()
    return jsonify(redirect=_continue_to(user))


@bp.get("/recovery")
@public
def recovery_form() -> Response:
    return htmx.render("auth/recovery.html", form=RecoveryCodeForm())


@bp.post("/recovery")
@public
@limiter.limit(SIGN_IN_LIMIT)
def use_recovery_code() -> Response:
    form = RecoveryCodeForm()
    user = recovery.redeem(form.code.data) if form.validate() else None
    if user is None:
        db.session.rollback()
        if form.code.data and not form.code.errors:
            form.code.errors.append("That code doesn't match an unused recovery code. Check it and try again.")
        return htmx.render("auth/recovery.html", blocks=("recovery_form",), form=form, status=422)
    sessions.start(user)
    db.session.commit()
    left = recovery.unused_count(user)
    flash(
        f"You're signed in with a recovery code; {left} unused {'code' if left == 1 else 'codes'} left. "
        "Add a passkey on this device so you won't need them next time.",
        "success",
    )
    # Offered a passkey on this device first, as after a link; "Not now" goes on to where they start.
    return htmx.redirect(url_for("account.offer_passkey", next=landing.url_for_person(user)))


@bp.post("/sign-out")
def sign_out() -> Response:
    sessions.end(current_user._get_current_object())
    db.session.commit()
    flash("You're signed out.", "success")
    response = htmx.redirect(url_for(".sign_in"))
    # Whatever the browser kept of signed-in pages goes too.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response

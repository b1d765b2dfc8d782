"""Managing passkeys and recovery codes."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import authz, htmx
from app.auth import passkeys, recovery
from app.auth.forms import RenamePasskeyForm
from app.extensions import db, limiter
from app.forms import EmptyForm
from app.models import Passkey
from app.urls import safe_next

bp = Blueprint("account", __name__, url_prefix="/account")

PASSKEY_REGISTER_LIMIT = "20 per hour"


def _my_passkeys() -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == current_user.id).order_by(Passkey.id)))


@bp.get("/passkeys", endpoint="passkeys")
def passkeys_page() -> Response:
    return htmx.render(
        "account/passkeys.html",
        passkeys=_my_passkeys(),
        unused_codes=recovery.unused_count(current_user),
        form=EmptyForm(),
    )


@bp.get("/passkeys/offer")
def offer_passkey() -> Response:
    return htmx.render("account/offer_passkey.html", next=safe_next(request.args.get("next"), url_for("pairs.index")))


@bp.post("/passkeys/options")
@limiter.limit(PASSKEY_REGISTER_LIMIT)
def passkey_options() -> Response:
    options = passkeys.registration_options(current_user, _my_passkeys())
    db.session.commit()
    return Response(options, mimetype="application/json")


@bp.post("/passkeys")
@limiter.limit(PASSKEY_REGISTER_LIMIT)
def add_passkey() -> Response:
    try:
        passkey = passkeys.register(
            current_user,
            request.get_data(as_text=True),
            passkeys.default_nickname(request.user_agent.string),
        )
    except passkeys.PasskeyError as error:
        db.session.commit()  # the challenge stays used up
        return jsonify(error=str(error)), 400
    db.session.commit()
    flash(f"Passkey added: “{passkey.nickname}”. Next time, sign in with it.", "success")
    return jsonify(redirect=safe_next(request.args.get("next"), url_for(".passkeys")))


@bp.post("/passkeys/<int:passkey_id>/rename")
def rename_passkey(passkey_id: int) -> Response:
    passkey: Passkey = authz.get_own(Passkey, passkey_id)
    form = RenamePasskeyForm()
    if not form.validate():
        return htmx.render(
            "account/passkeys.html",
            "passkey_row",
            passkey=passkey,
            rename_form=form,
            rename_for=passkey.id,
            passkeys=_my_passkeys(),
            unused_codes=recovery.unused_count(current_user),
            form=EmptyForm(),
            status=422,
        )
    passkey.nickname = form.nickname.data.strip()
    db.session.commit()
    if htmx.is_htmx():
        return htmx.render("account/passkeys.html", "passkey_row", passkey=passkey, form=EmptyForm(), renamed=True)
    flash("Passkey renamed.", "success")
    return htmx.redirect(url_for(".passkeys"))


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
    db.session.commit()
    flash(f"Removed “{passkey.nickname}”. It can no longer sign you in.", "success")
    return htmx.redirect(url_for(".passkeys"))


@bp.get("/recovery-codes")
def recovery_codes() -> Response:
    return htmx.render("account/recovery_codes.html", unused=recovery.unused_count(current_user), form=EmptyForm())


@bp.post("/recovery-codes")
def new_recovery_codes() -> Response:
    codes = recovery.generate(current_user)
    db.session.commit()
    # Shown in this response only: they are stored as hashes and can never be displayed again.
    return htmx.render("account/recovery_codes.html", codes=codes, unused=len(codes), form=EmptyForm())

"""Twoway: a private space for reverse-mentoring pairs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as app_config
from app import numbers
from app.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the app from ``environ`` (default: the process environment), then apply ``config``,
    Flask settings that win over it (tests use both)."""
    from app.auth import sessions

    app = Flask(__name__, instance_relative_config=True)
    app.session_interface = sessions.CookieSessions()
    app.config.from_mapping(app_config.load(app.instance_path, environ))
    if config:
        app.config.from_mapping(config)
    # Before any route is added: an id in a URL beyond what the database holds matches no route.
    app.url_map.converters["int"] = numbers.IntConverter

    from app import light

    light.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _init_extensions(app)
    _register_blueprints(app)

    from app import cli, errors, htmx, page_cache, queue, security, static_build, templating

    static_build.init_app(app)
    htmx.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    # After security: its after_request then runs first, on the answer as the view made it.
    page_cache.init_app(app)
    cli.init_app(app)
    queue.celery_init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app import (
        authz,
        models,  # noqa: F401  (the models must be known before migrations compare them)
    )
    from app.database import configure_engine

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(
        app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True, compare_type=True
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    csrf.init_app(app)
    limiter.init_app(app)
    app.before_request(authz.require_sign_in)


def _register_blueprints(app: Flask) -> None:
    from app.account.views import bp as account_bp
    from app.admin.area import bp as admin_bp
    from app.auth.views import bp as auth_bp
    from app.export.views import bp as export_bp
    from app.matching.answer_views import bp as match_bp
    from app.matching.intake_views import bp as intake_bp
    from app.next_meeting.views import feeds as calendar_bp
    from app.pairs.views import bp as pairs_bp
    from app.pairs.views import pair_bp
    from app.program.join import bp as join_bp
    from app.pwa.views import bp as pwa_bp
    from app.reminders.views import bp as reminders_bp

    for blueprint in (
        auth_bp,
        account_bp,
        export_bp,
        pairs_bp,
        pair_bp,
        admin_bp,
        join_bp,
        pwa_bp,
        calendar_bp,
        reminders_bp,
        intake_bp,
        match_bp,
    ):
        app.register_blueprint(blueprint)

"""The migrations build exactly the schema the models describe, from an empty database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from support.apps import make_app

from app.extensions import db


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_the_models(app, connection):
    # The shared test database was built by `upgrade` on an empty database (see conftest.reset_schema).
    assert _differences(connection) == []


def test_upgrade_and_downgrade_on_a_fresh_database(tmp_path):
    fresh = make_app(f"sqlite:///{tmp_path}/fresh.sqlite3")
    with fresh.app_context():
        upgrade()
        with db.engine.connect() as connection:
            assert _differences(connection) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        db.engine.dispose()


def test_0006_ends_admin_made_links_and_the_sessions_they_may_have_opened(tmp_path):
    """Links were never marked with who asked for them, so every unused one is deleted; and whoever
    ever signed in with a link starts over once (a session from an admin's link may be the admin's)."""
    from sqlalchemy import text

    fresh = make_app(f"sqlite:///{tmp_path}/data.sqlite3")
    with fresh.app_context():
        upgrade(revision="0005_last_signed_in")
        with db.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO program (id, name, starts_on, ends_on, privacy_threshold, feedback_after_meeting,"
                    " feedback_every_weeks, feedback_at_midpoint, feedback_at_end, created_at) VALUES"
                    " (1, 'A', '2026-01-01', '2026-06-01', 5, 1, 4, 1, 1, '2026-01-01'),"
                    " (2, 'B', '2026-01-01', '2026-06-01', 5, 1, 4, 1, 1, '2026-01-01')"
                )
            )
            for uid, signed_in in ((1, "'2026-02-01 10:00:00'"), (2, "NULL")):
                c.execute(
                    text(
                        "INSERT INTO user (id, name, email, active, is_admin, webauthn_user_handle,"
                        f" session_generation, created_at, last_signed_in_at) VALUES ({uid}, 'P{uid}',"
                        f" 'p{uid}@example.org', 1, 0, x'0{uid}', 3, '2026-01-01', {signed_in})"
                    )
                )
            c.execute(
                text(
                    "INSERT INTO sign_in_link (user_id, token_hash, created_at, expires_at, used_at) VALUES"
                    " (1, 'used', '2026-02-01', '2099-01-01', '2026-02-01'),"
                    " (1, 'unused-1', '2026-02-01', '2099-01-01', NULL),"
                    " (2, 'unused-2', '2026-02-01', '2099-01-01', NULL)"
                )
            )
        upgrade(revision="0006_joining")
        with db.engine.connect() as c:
            assert c.execute(text("SELECT token_hash FROM sign_in_link")).scalars().all() == ["used"]
            users = c.execute(text("SELECT id, session_generation, first_signed_in_at FROM user ORDER BY id")).all()
            assert [(u.id, u.session_generation, u.first_signed_in_at is not None) for u in users] == [
                (1, 4, True),
                (2, 3, False),
            ]
            tokens = c.execute(text("SELECT join_token FROM program")).scalars().all()
            assert len(set(tokens)) == 2 and all(len(t) >= 16 for t in tokens)
        db.engine.dispose()

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

"""Alembic environment for Twoway, run through Flask-Migrate (``flask --app wsgi db …``)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    # Keep the app's own loggers on when migrations run inside a running app (tests, `make run`).
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def render_item(type_, obj, autogen_context):
    # A revision must read the same whatever the models become: app types are written out as the
    # plain SQLAlchemy type they store (UTCDateTime is a timezone-aware DateTime), never imported.
    impl = getattr(obj, "impl", None)
    if type_ == "type" and impl is not None and type(obj).__module__.startswith("app."):
        return f"sa.{impl!r}"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_revision(ctx, revision, directives):
        # `db migrate` with no model change should not leave an empty revision behind.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_revision)
    conf_args.setdefault("render_item", render_item)

    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Settings come from the environment, once; the passkey origin comes from BASE_URL, never a request."""

from __future__ import annotations

import pytest

from app.config import ConfigError, load


def test_secret_key_is_required_outside_debug(tmp_path):
    with pytest.raises(ConfigError, match="set SECRET_KEY to a long random string"):
        load(tmp_path, {})


def test_in_debug_a_secret_key_is_made_once_and_kept(tmp_path):
    first = load(tmp_path, {"FLASK_DEBUG": "1"})["SECRET_KEY"]
    assert len(first) >= 64
    assert load(tmp_path, {"FLASK_DEBUG": "1"})["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_defaults(tmp_path):
    config = load(tmp_path, {"SECRET_KEY": "s"})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'twoway.sqlite3'}"
    assert config["BASE_URL"] == "http://localhost:5000"
    assert config["WEBAUTHN_RP_ID"] == "localhost"
    assert config["WEBAUTHN_ORIGIN"] == "http://localhost:5000"
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["MAIL_URL"] is None
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_https_base_url_locks_cookies_down(tmp_path):
    config = load(tmp_path, {"SECRET_KEY": "s", "BASE_URL": "https://twoway.example.org/"})
    assert config["WEBAUTHN_RP_ID"] == "twoway.example.org"
    assert config["WEBAUTHN_ORIGIN"] == "https://twoway.example.org"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")


@pytest.mark.parametrize("url", ["postgres://u:p@db/twoway", "postgresql://u:p@db/twoway"])
def test_postgres_urls_use_psycopg_3(tmp_path, url):
    config = load(tmp_path, {"SECRET_KEY": "s", "DATABASE_URL": url})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/twoway"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BASE_URL": "localhost:5000"}, "BASE_URL must be an http"),
        ({"TRUSTED_PROXIES": "one"}, "TRUSTED_PROXIES must be a whole number"),
    ],
)
def test_bad_settings_are_named(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, {"SECRET_KEY": "s", **env})


def test_passkey_options_ignore_the_host_header(tmp_path):
    from support.apps import make_app, migrated_sqlite

    app = make_app(migrated_sqlite(tmp_path / "c.sqlite3"), environ={"BASE_URL": "https://twoway.example.org"})
    options = app.test_client().post("/auth/passkey/options", headers={"Host": "evil.example"}).get_json()
    assert options["rpId"] == "twoway.example.org"


def test_the_default_database_folder_is_created(tmp_path):
    instance = tmp_path / "not-yet"
    load(instance, {"SECRET_KEY": "s"})
    assert instance.is_dir()


def test_only_a_database_server_other_than_psycopgs_is_pinged_before_each_checkout(tmp_path):
    # A server's connection can drop in the pool, a SQLite file's can't; psycopg's are looked at
    # on checkout without a statement (tests/test_database_server.py), any other driver's pinged.
    def options(url: str) -> dict:
        return load(tmp_path, {"SECRET_KEY": "k", "DATABASE_URL": url})["SQLALCHEMY_ENGINE_OPTIONS"]

    assert options(f"sqlite:///{tmp_path}/t.sqlite3").get("pool_pre_ping") is not True
    assert options("postgresql://db/twoway").get("pool_pre_ping") is not True
    assert options("postgresql+pg8000://db/twoway")["pool_pre_ping"] is True

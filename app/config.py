"""Twoway's settings. The environment is read here, once, and nowhere else."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEFAULT_BASE_URL = "http://localhost:5000"
TRUTHY = {"1", "true", "yes", "on"}


class ConfigError(RuntimeError):
    """The environment asks for something Twoway cannot run with."""


def _database_url(raw: str | None, instance_path: Path) -> str:
    if not raw:
        # SQLite creates the file but not its folder: make sure instance/ exists on a fresh clone.
        instance_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_path / 'twoway.sqlite3'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver named, and
    # Twoway speaks to PostgreSQL through psycopg 3 only.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _secret_key(raw: str | None, debug: bool, instance_path: Path) -> str:
    if raw:
        return raw
    if not debug:
        raise ConfigError(
            "set SECRET_KEY to a long random string (python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or FLASK_DEBUG=1 in development."
        )
    # In development the key is made once and kept, so sessions survive a restart of `make run`.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def engine_options(database_url: str) -> dict[str, Any]:
    """A SQLite file can't drop its connection. A server's connection can, while it sits in the
    pool: psycopg's are checked at checkout by a look at their socket (``app.database``), any other
    driver's by a ping, a statement of its own on every request."""
    if database_url.startswith(("sqlite", "postgresql+psycopg:")):
        return {}
    return {"pool_pre_ping": True}


# A Redis that is down or stuck must cost a sign-in at most this long, never a worker.
REDIS_TIMEOUT_SECONDS = 0.5


def rate_limit_settings(uri: str, timeout_seconds: float = REDIS_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Flask-Limiter's storage settings. The per-client limits are a flood guard, not what keeps
    anyone safe (the per-address limit on sign-in mails is counted in the database): when Redis is
    unreachable or stops answering, the limiter logs a warning, counts in this worker's memory
    until Redis is back, and never turns a sign-in into an error."""
    settings: dict[str, Any] = {
        "RATELIMIT_STORAGE_URI": uri,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
    }
    if uri.split(":", 1)[0] in ("redis", "rediss", "redis+unix"):
        settings["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_connect_timeout": timeout_seconds,
            "socket_timeout": timeout_seconds,
        }
    return settings


# Publishing a task is part of answering a page: a broker that is down or stuck may cost that page
# about a second and a half (three tries), never a worker.
BROKER_TIMEOUT_SECONDS = 0.5
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# How often the embedded broker's consumed messages are deleted (Kombu's SQLAlchemy transport
# keeps them, and they hold addresses and sign-in links).
BROKER_PURGE_SECONDS = 15 * 60
# How often beat looks for a closed week or month whose dashboard snapshot is not published yet.
SNAPSHOT_SECONDS = 60 * 60
# How often beat runs the reminder pass (app/reminders/passes.py).
REMINDER_PASS_SECONDS = 60
# How often beat runs the ending pass (app/ending/passes.py): pairs close by the day, so hourly is plenty.
ENDING_PASS_SECONDS = 60 * 60
# How often beat deletes the data exports whose 24 hours are over (app/export/tasks.py).
EXPORT_PURGE_SECONDS = 10 * 60
# An export holding more rows than this is built by a worker, not by the request (app/export/views.py).
EXPORT_IN_REQUEST_ROWS = 3_000


def celery_settings(
    broker_url: str | None,
    instance_path: Path,
    queue: str | None = None,
    pass_seconds: float = REMINDER_PASS_SECONDS,
    timeout_seconds: float = BROKER_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Celery's settings. Without a broker configured, Kombu's SQLAlchemy transport carries tasks
    through a SQLite file in instance/, so Twoway needs no other service; production uses Redis.
    ``timeout_seconds`` bounds each wait for Redis (tests of a stuck broker shorten it)."""
    if not broker_url:
        instance_path.mkdir(parents=True, exist_ok=True)
        broker_url = f"sqla+sqlite:///{instance_path / 'celery-broker.sqlite3'}"
    embedded = broker_url.startswith("sqla+")
    # The SQLAlchemy transport hands its options to create_engine (SQLite waits for its lock on
    # its own, 5 s by default) and polls every second; Redis gets short socket timeouts.
    transport_options: dict[str, Any] = (
        {}
        if embedded
        else {
            "socket_connect_timeout": timeout_seconds,
            "socket_timeout": timeout_seconds,
            "max_retries": PUBLISH_RETRY_POLICY["max_retries"],
        }
    )
    return {
        "broker_url": broker_url,
        "broker_transport_options": transport_options,
        "broker_connection_timeout": timeout_seconds * 2,
        # A worker started before the broker waits for it; a page never does (the policy below).
        "broker_connection_retry_on_startup": True,
        "task_publish_retry": True,
        "task_publish_retry_policy": PUBLISH_RETRY_POLICY,
        # Nothing waits for a task's result, so none is stored.
        "task_ignore_result": True,
        # One queue for everything; CELERY_QUEUE names it when several Twoways share one Redis.
        "task_default_queue": queue or "celery",
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "beat_schedule": {
            # Beat publishes a pass each period whether a worker is up or not: one left waiting
            # longer than that is dropped (the next covers its window from the last pass's moment),
            # so a worker back from an outage doesn't run hours of them ahead of a sign-in mail.
            "reminders-due": {
                "task": "twoway.reminders_due",
                "schedule": pass_seconds,
                "options": {"expires": pass_seconds},
            },
            # The dashboard's snapshots, once each week and month has closed (a run finds them
            # published already the other 167 hours of the week).
            "publish-snapshots": {"task": "twoway.publish_snapshots", "schedule": SNAPSHOT_SECONDS},
            "ending-pass": {"task": "twoway.ending_pass", "schedule": ENDING_PASS_SECONDS},
            "delete-old-exports": {"task": "twoway.delete_old_exports", "schedule": EXPORT_PURGE_SECONDS},
            **(
                {
                    "purge-consumed-messages": {
                        "task": "twoway.purge_consumed_messages",
                        "schedule": BROKER_PURGE_SECONDS,
                    }
                }
                if embedded
                else {}
            ),
        },
    }


def _seconds(raw: str | None, default: float, name: str) -> float:
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}.") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0 seconds.")
    return value


# --- Web Push (VAPID, RFC 8292) ------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _vapid_private_key(raw: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 key from PEM (PKCS#8 or SEC 1) or from the base64url forms pywebpush accepts (the
    raw 32-byte scalar, or DER)."""
    text = raw.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            key = (
                ec.derive_private_key(int.from_bytes(data, "big"), ec.SECP256R1())
                if len(data) == 32
                else serialization.load_der_private_key(data, password=None)
            )
    except (ValueError, TypeError, binascii.Error):
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(
            "VAPID_PRIVATE_KEY must be a P-256 private key: PEM, or the base64url raw key "
            "(`vapid --gen` makes one; see the README's Push notifications)."
        )
    return key


def _dev_vapid_key(instance_path: Path) -> str:
    # Made once and kept, like instance/secret_key: a new key would silently orphan every
    # browser that subscribed with the old one.
    key_file = instance_path / "vapid_private_key.pem"
    if key_file.exists():
        return key_file.read_text()
    instance_path.mkdir(parents=True, exist_ok=True)
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    key_file.write_text(pem)
    key_file.chmod(0o600)
    return pem


# The push services of the browsers people install Twoway in: Chrome, Edge, Firefox, Safari
# (Samsung Internet, Opera and Brave use Google's). A subscription is the browser's word for where
# the worker will send requests, so only these hosts and their subdomains are accepted: an endpoint
# on an address inside the network Twoway runs in would make the worker a way to reach it.
DEFAULT_PUSH_SERVICES = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)


def push_services(raw: str | None) -> tuple[str, ...]:
    """PUSH_SERVICES: comma-separated hosts (each with its subdomains) push may go to."""
    if raw is None or not raw.strip():
        return DEFAULT_PUSH_SERVICES
    return tuple(host.strip().lower().strip(".") for host in raw.split(",") if host.strip())


def vapid_settings(env: Mapping[str, str], debug: bool, instance_path: Path, hostname: str) -> dict[str, Any]:
    """The VAPID key pair and subject Web Push is signed with. In development the key is made once
    in instance/; in production it is configured, or push is off (None) and every reminder goes
    by email. The public key (base64url, uncompressed point) is what the page hands to
    ``pushManager.subscribe``; the private one is kept as the base64url raw key pywebpush takes."""
    raw = env.get("VAPID_PRIVATE_KEY") or (_dev_vapid_key(instance_path) if debug else None)
    subject = env.get("VAPID_SUBJECT") or None
    if subject is not None and not subject.startswith(("mailto:", "https://")):
        raise ConfigError(
            f"VAPID_SUBJECT must be a mailto: or https: URL (who push services can contact), not {subject!r}."
        )
    if raw is None:
        return {"VAPID_PRIVATE_KEY": None, "VAPID_PUBLIC_KEY": None, "VAPID_SUBJECT": subject}
    if subject is None:
        if not debug:
            # Push services (Apple's among them) refuse a token without a reachable contact.
            raise ConfigError("set VAPID_SUBJECT (mailto:you@example.org or an https: URL) beside VAPID_PRIVATE_KEY.")
        subject = f"mailto:no-reply@{hostname}"
    key = _vapid_private_key(raw)
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {
        "VAPID_PRIVATE_KEY": _b64url(key.private_numbers().private_value.to_bytes(32, "big")),
        "VAPID_PUBLIC_KEY": _b64url(public),
        "VAPID_SUBJECT": subject,
    }


def load(instance_path: str | Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment (``os.environ`` unless given)."""
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    debug = env.get("FLASK_DEBUG", "").lower() in TRUTHY

    base_url = env.get("BASE_URL", DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"BASE_URL must be an http(s) origin such as {DEFAULT_BASE_URL}, not {base_url!r}.")
    https = parts.scheme == "https"

    try:
        trusted_proxies = int(env.get("TRUSTED_PROXIES", "0"))
    except ValueError:
        raise ConfigError("TRUSTED_PROXIES must be a whole number (how many proxies sit in front of Twoway).") from None

    return {
        "DEBUG": debug,
        "SECRET_KEY": _secret_key(env.get("SECRET_KEY"), debug, instance),
        "SQLALCHEMY_DATABASE_URI": (database_url := _database_url(env.get("DATABASE_URL"), instance)),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "BASE_URL": base_url,
        # WebAuthn binds passkeys to the configured origin, never to whatever Host header arrives.
        "WEBAUTHN_RP_ID": parts.hostname,
        "WEBAUTHN_ORIGIN": f"{parts.scheme}://{parts.netloc}",
        "PREFERRED_URL_SCHEME": parts.scheme,
        "SESSION_COOKIE_NAME": "__Host-twoway" if https else "twoway",
        "SESSION_COOKIE_SECURE": https,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # People sign in on their phones and come back between meetings: a month, then sign in again.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        # The cookie is written only when the session changes. Refreshing it on every response let a
        # response to a request sent before sign-in (the service worker fetching /offline while the
        # passkey page loads) put the signed-out cookie back, and the next form failed its CSRF check.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # A form left open on a phone for hours must still save: the token lives as long as the session.
        "WTF_CSRF_TIME_LIMIT": None,
        # Flask-WTF's own HTTPS referrer check trusts the Host header, which a reverse proxy may
        # rewrite; app/security.py checks Origin and Referer against BASE_URL instead.
        "WTF_CSRF_SSL_STRICT": False,
        # Large enough for anything a person writes (or a participant CSV), small enough that
        # nobody can exhaust a worker's memory.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "MAIL_URL": env.get("MAIL_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM", f"Twoway <no-reply@{parts.hostname}>"),
        **rate_limit_settings(env.get("RATELIMIT_STORAGE_URI") or "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "CELERY": celery_settings(
            env.get("CELERY_BROKER_URL"),
            instance,
            env.get("CELERY_QUEUE"),
            _seconds(env.get("REMINDER_PASS_SECONDS"), REMINDER_PASS_SECONDS, "REMINDER_PASS_SECONDS"),
        ),
        **vapid_settings(env, debug, instance, parts.hostname),
        "PUSH_SERVICES": push_services(env.get("PUSH_SERVICES")),
        "TRUSTED_PROXIES": trusted_proxies,
        # How often an open ground rules page asks for the partner's changes (rendered into the
        # page; the browser tests make it short rather than wait).
        "GROUND_RULES_PROBE_MS": 5000,
        # Where data exports wait (a day at most) for their owner to download them.
        "EXPORT_FOLDER": env.get("EXPORT_FOLDER") or str(instance / "exports"),
        "EXPORT_IN_REQUEST_ROWS": EXPORT_IN_REQUEST_ROWS,
        # The same for the rest of the pair space (home, goals, journal: app/pairs/changes.py).
        "LIVE_PROBE_MS": 5000,
        # Where pair pages are kept between writes (app/page_cache.py): memory:// in each worker
        # (memory://BYTES to bound it otherwise), redis://… shared, none to draw every page.
        "PAGE_CACHE_URL": env.get("PAGE_CACHE_URL") or "memory://",
    }

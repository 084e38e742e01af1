"""The supervisors' dashboard: a Flask app over SQLite (one office) or PostgreSQL (many).

``create_app`` wires the blueprints: ``api`` (v1, station tokens), ``auth``, ``ui`` (pages),
``live`` (Server-Sent Events) and ``reports``.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)
csrf = CSRFProtect()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def default_database_url(instance_path: str) -> str:
    """``GERBANG_DATABASE_URL``, else a SQLite file under ``instance/``."""
    url = os.environ.get("GERBANG_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{Path(instance_path) / 'gerbang.sqlite3'}"


def _secret_key(instance_path: Path) -> str:
    """``GERBANG_SECRET_KEY``, else a key kept in ``instance/secret_key`` (shared by every process)."""
    key = os.environ.get("GERBANG_SECRET_KEY")
    if key:
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the dashboard app.

    Settings come from the defaults below, then ``GERBANG_*`` environment variables (values parsed
    as JSON where they can be: ``GERBANG_NEAR_SHARE=0.75``), then ``test_config``.

    Args:
        test_config: Settings that override the others (``DATABASE_URL``, ``SECRET_KEY``,
            ``NEAR_SHARE``, ``PURGE_AFTER_DAYS`` ...).
    """
    # GERBANG_INSTANCE_PATH: the writable folder (secret key, compiled translations, the SQLite file),
    # e.g. systemd's StateDirectory; by default Flask's own instance folder.
    instance_path = (
        os.path.abspath(os.environ["GERBANG_INSTANCE_PATH"])
        if os.environ.get("GERBANG_INSTANCE_PATH")
        else None
    )
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=default_database_url(app.instance_path),
        DATABASE_POOL_SIZE=20,
        DATABASE_MAX_OVERFLOW=5,
        DATABASE_POOL_TIMEOUT_S=5.0,
        NEAR_SHARE=0.8,
        FEVER_C=37.3,
        PURGE_AFTER_DAYS=30,
        STATION_SILENT_S=120,
        LIVE_STREAM_S=55.0,
        # Live pages one `gerbang dashboard run` process keeps open at once; the next gets a 503 with
        # Retry-After. They cost no request thread (dashboard.livestream), one socket each.
        LIVE_MAX_STREAMS=2000,
        LIVE_POLL_S=0.25,
        LIVE_NOTIFY=True,
        LIVE_MAX_WAIT_S=1.0,
        LIVE_GAP_GRACE_S=2.0,
        LIVE_MIN_READ_INTERVAL_S=0.2,
        MAX_EVENTS_PER_BATCH=500,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        LOGIN_MAX_FAILURES=5,
        LOGIN_MAX_FAILURES_PER_SOURCE=30,
        LOGIN_MAX_FAILURES_ALL=300,
        LOGIN_WINDOW_S=900,
        # Reverse proxies in front of the dashboard whose X-Forwarded-For/-Proto/-Host are believed
        # (0: none; 1: one nginx). The login limit is then keyed on the visitor's address, not the
        # proxy's (behind a proxy, one locked-out address would be everyone).
        TRUSTED_PROXIES=0,
        TIMEZONE="Asia/Jakarta",
        # The address stations reach the dashboard at, for the configuration shown with a new token
        # (GERBANG_PUBLIC_URL=https://gerbang.example.go.id); empty: the address the page was opened by.
        PUBLIC_URL="",
        SESSION_COOKIE_SECURE=os.environ.get("GERBANG_INSECURE_COOKIES", "") != "1",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        BABEL_DEFAULT_LOCALE="id",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.from_prefixed_env("GERBANG")  # GERBANG_NEAR_SHARE=0.75, GERBANG_PURGE_AFTER_DAYS=14 ...
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    from dashboard import account, api, auth, db, i18n, live, metrics, read_api, reports, settings, ui

    db.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    metrics.init_app(app)
    app.extensions["gerbang_notifier"] = live.make_notifier(app.config)
    csrf.exempt(api.bp)
    for blueprint in (api.bp, read_api.bp, auth.bp, account.bp, ui.bp, live.bp, reports.bp, settings.bp):
        app.register_blueprint(blueprint)
    from dashboard import alerts as alert_kinds
    from dashboard import timeutil, words
    from dashboard.models import Role

    app.jinja_env.globals.update(
        Role=Role,
        local=timeutil.local,
        stamp=timeutil.stamp,
        describe_alert=words.describe_alert,
        notice_kinds=sorted(alert_kinds.NOTICE_KINDS),
        language_names={"id": "Bahasa Indonesia", "en": "English"},
    )
    app.jinja_env.filters["label"] = words.label
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(PoolTimeoutError, _database_down)  # every connection busy: retry soon
    app.register_error_handler(Exception, _server_error)
    return app


SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):  # pages, exports and the API carry health data
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:  # only over HTTPS, or a plain-HTTP LAN would lock itself out
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/live/")


def _http_error(err: HTTPException) -> ResponseReturnValue:
    if _wants_json():
        return {"error": err.description or err.name}, err.code or 500
    from flask import render_template
    from flask_wtf.csrf import CSRFError

    from dashboard.words import error_words

    code = err.code or 500
    default = getattr(type(err), "description", None)
    title, text = error_words(
        code, err.description, default if isinstance(default, str) else None, csrf=isinstance(err, CSRFError)
    )
    return render_template("error.html", code=code, title=title, text=text), code


def _database_down(err: OperationalError | PoolTimeoutError) -> ResponseReturnValue:
    """The database is unreachable (restarting, a lost connection) or busy: 503, so clients retry."""
    log.error("database unavailable on %s %s: %s", request.method, request.path, str(err).splitlines()[0])
    message = "the database is unavailable; try again shortly"
    if _wants_json():
        return {"error": message}, 503, {"Retry-After": "2"}
    from dashboard.words import error_words

    return error_words(503, None, None)[1], 503, {"Retry-After": "2"}


def _server_error(err: Exception) -> ResponseReturnValue:
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=err)
    if _wants_json():
        return {"error": "internal error; see the dashboard's log"}, 500
    from dashboard.words import error_words

    return error_words(500, None, None)[1], 500

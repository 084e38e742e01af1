"""Users: login with hashed passwords, roles, rate limiting, logout; the ``require_role`` guard.

Every view is wrapped in ``require_role`` (pages and the live stream) or authenticates a station
token (``api.py``); the authorization test walks the URL map to prove it. Failed logins are
counted per username and address in the database, so the limit holds across processes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import object_session
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard import audit
from dashboard.db import get_session, utc_now
from dashboard.models import LoginAttempt, Role, User

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC_ATTR = "gerbang_public"
ROLE_ATTR = "gerbang_role"
# A hash to check against when the user does not exist, so both paths take as long.
_DUMMY_HASH = generate_password_hash("not a password")


def init_app(app: Flask) -> None:
    """Attach flask-login to ``app``."""
    login_manager.init_app(app)
    login_manager.login_message = ""


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    ident, _, generation = user_id.partition(".")
    if not ident.isdigit() or not generation.isdigit():
        return None  # a cookie from before sessions could be ended: log in again
    user = get_session().get(User, int(ident))
    if user is None or not user.active or user.session_gen != int(generation):
        return None  # logged out (here or elsewhere), or disabled, since the cookie was issued
    return user


def end_sessions(user: User) -> None:
    """End every session of ``user``: their cookies, copied or not, no longer log in (commit after).

    Their open live streams end too, at the commit.
    """
    from dashboard import live  # live's view needs this module's require_role

    user.session_gen = (user.session_gen or 0) + 1
    session = object_session(user)
    if session is not None and user.id is not None:
        live.rights_changed(session, user.id)


@login_manager.unauthorized_handler
def _unauthorized() -> ResponseReturnValue:
    if request.path.startswith("/api/") or request.path.startswith("/live/"):
        return {"error": "login required"}, 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require_role(role: Role) -> Callable[[F], F]:
    """Let only logged-in users whose role is ``role`` or above call the view; others get 403."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        setattr(guarded, ROLE_ATTR, role)
        return cast(F, guarded)

    return decorate


def public(view: F) -> F:
    """Mark a view as open to everyone (login, health, the OpenAPI document)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def hash_password(password: str) -> str:
    """Return werkzeug's salted hash of ``password``."""
    return generate_password_hash(password)


def _failures(since: datetime, **who: str) -> int:
    """Failed (or not yet decided) attempts since ``since`` by ``username`` and/or ``ip``."""
    statement = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    )
    for column, value in who.items():
        statement = statement.where(getattr(LoginAttempt, column) == value)
    return get_session().execute(statement).scalar_one()


def too_many_failures(username: str, ip: str) -> bool:
    """Whether logging in must be refused without looking at the password.

    Refused when ``username`` from ``ip`` failed ``LOGIN_MAX_FAILURES`` times within the login window
    (this attempt, recorded as failed until it succeeds, included), when ``ip`` failed
    ``LOGIN_MAX_FAILURES_PER_SOURCE`` times under any names (a flood of random user names), or when
    the whole dashboard saw ``LOGIN_MAX_FAILURES_ALL`` failures (a flood from many addresses): each
    password check costs a core for a moment, and stations share those cores.
    """
    config = current_app.config
    since = utc_now() - timedelta(seconds=config["LOGIN_WINDOW_S"])
    return (
        _failures(since, username=username, ip=ip) > config["LOGIN_MAX_FAILURES"]
        or _failures(since, ip=ip) > config["LOGIN_MAX_FAILURES_PER_SOURCE"]
        or _failures(since) > config["LOGIN_MAX_FAILURES_ALL"]
    )


def safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path on this site, else the overview.

    Browsers drop tabs and newlines from addresses and read a backslash as a slash, so
    ``/<TAB>/evil.example`` is ``//evil.example`` to them: any whitespace, control character or
    backslash makes the target unsafe.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return target
    return url_for("ui.overview")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """Show the login form; check the password; refuse when there were too many failures.

    Only a POST logs in: Flask answers HEAD with this view too, and Flask-WTF checks no CSRF token
    on HEAD, so a HEAD with a form body is shown the page like a GET.
    """
    if request.method != "POST":
        return render_template("login.html")
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")
    ip = (request.remote_addr or "unknown")[:64]
    db = get_session()
    # The attempt is recorded (as failed) and committed before anything is counted or hashed, so
    # parallel tries each see the others: no more than the limit ever reach the password check.
    attempt = LoginAttempt(username=username, ip=ip, success=False)
    db.add(attempt)
    db.commit()
    if too_many_failures(username, ip):
        flash(_("Too many failed logins. Wait a few minutes and try again."), "error")
        return render_template("login.html"), 429
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    ok = bool(user and valid and user.active)
    if not ok or user is None:
        flash(_("Wrong username or password."), "error")
        return render_template("login.html"), 401
    attempt.success = True
    audit.record(db, username, "login", ip)
    db.commit()
    target = safe_next(request.args.get("next"))
    session.clear()
    login_user(user)
    return redirect(target)


@bp.post("/logout")
@require_role(Role.GUARD)
def logout() -> ResponseReturnValue:
    """Log out (every session of this user, server-side) and go back to the login page."""
    user = get_session().get(User, current_user.id)
    if user is not None:
        end_sessions(user)
        get_session().commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))

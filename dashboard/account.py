"""The logged-in user's own account: change my password (old and new).

A new password ends the user's other sessions (``users.session_gen``, as logout does); this one is
issued again under the new generation, so the person who changed it stays logged in here. A wrong
old password counts as a failed login (``auth.too_many_failures``), so a borrowed session cannot try
passwords without limit.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.security import check_password_hash

from dashboard import manage
from dashboard.auth import require_role, too_many_failures
from dashboard.db import get_session
from dashboard.models import LoginAttempt, Role, User
from dashboard.words import translated

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    return render_template("password.html", error=error, min_chars=manage.MIN_PASSWORD_CHARS), status


@bp.route("/password", methods=["GET", "POST"])
@require_role(Role.GUARD)
def password() -> ResponseReturnValue:
    """Show the form; check the old password, set the new one and end the user's other sessions."""
    if request.method != "POST":
        return _page()
    db = get_session()
    user = db.get(User, current_user.id)
    if user is None:  # pragma: no cover - the loader found them a moment ago
        return redirect(url_for("auth.login"))
    ip = (request.remote_addr or "unknown")[:64]
    # Recorded (as failed) before anything is hashed, as a login is: parallel tries see each other.
    attempt = LoginAttempt(username=user.username, ip=ip, success=False)
    db.add(attempt)
    db.commit()
    if too_many_failures(user.username, ip):
        return _page(429, _("Too many failed logins. Wait a few minutes and try again."))
    if not check_password_hash(user.password_hash, request.form.get("old_password", "")):
        return _page(400, _("The current password is wrong."))
    attempt.success = True
    db.commit()
    try:
        manage.set_password(db, user.username, request.form.get("new_password", ""), actor=user.username)
    except manage.SetupError as err:
        db.rollback()
        return _page(400, translated(err))
    login_user(user)  # this session under the new generation; every other one has ended
    flash(_("Password changed. You were logged out everywhere else."), "ok")
    return redirect(url_for("account.password"))

"""A user's own account: change my password (old and new), ending the user's other sessions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dashboard_support import PASSWORD
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.db import new_session
from dashboard.models import AuditEntry, Role

NEW_PASSWORD = "a much longer secret"


def logged_in(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.text
    return client


def can_log_in(app: Flask, username: str, password: str) -> bool:
    return (
        app.test_client().post("/login", data={"username": username, "password": password}).status_code == 302
    )


@pytest.mark.parametrize("role", list(Role))
def test_changing_my_password_ends_my_other_sessions_and_keeps_this_one(
    app: Flask, make_user: Callable[..., str], role: Role
) -> None:
    make_user("siti", role)
    here, elsewhere = logged_in(app, "siti"), logged_in(app, "siti")
    assert here.get("/account/password").status_code == 200
    response = here.post("/account/password", data={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert here.get("/").status_code == 200  # still logged in where the password was changed
    assert elsewhere.get("/").status_code == 302  # logged out everywhere else
    assert not can_log_in(app, "siti", PASSWORD)
    assert can_log_in(app, "siti", NEW_PASSWORD)
    with new_session(app) as session:
        actions = session.execute(select(AuditEntry.action, AuditEntry.actor)).all()
    assert ("set-password", "siti") in actions


@pytest.mark.parametrize(
    ("form", "message"),
    [
        # the old password is wrong
        ({"old_password": "not my password", "new_password": NEW_PASSWORD}, "current password is wrong"),
        # no old password at all
        ({"new_password": NEW_PASSWORD}, "current password is wrong"),
        # too short
        ({"old_password": PASSWORD, "new_password": "short"}, "at least 10 characters"),
        # a common password
        ({"old_password": PASSWORD, "new_password": "qwertyuiop"}, "most common"),
        # the user's own name
        ({"old_password": PASSWORD, "new_password": "SITI-RAHAYU"}, "not be the user name"),
        # no new password
        ({"old_password": PASSWORD}, "at least 10 characters"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(
    app: Flask, make_user: Callable[..., str], form: dict[str, str], message: str
) -> None:
    make_user("siti-rahayu", Role.GUARD)
    here, elsewhere = logged_in(app, "siti-rahayu"), logged_in(app, "siti-rahayu")
    response = here.post("/account/password", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert elsewhere.get("/").status_code == 200  # no session ended
    assert can_log_in(app, "siti-rahayu", PASSWORD)


def test_wrong_old_passwords_count_as_failed_logins(app: Flask, make_user: Callable[..., str]) -> None:
    # a borrowed session cannot try passwords without limit
    make_user("siti", Role.GUARD)
    here = logged_in(app, "siti")
    limit = app.config["LOGIN_MAX_FAILURES"]
    codes = [
        here.post(
            "/account/password", data={"old_password": "guess", "new_password": NEW_PASSWORD}
        ).status_code
        for _ in range(limit + 1)
    ]
    assert codes == [400] * limit + [429]
    refused = here.post("/account/password", data={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert refused.status_code == 429  # even the right one waits
    assert can_log_in(app, "siti", PASSWORD) is False  # and so does a login from the same place


def test_the_messages_are_in_indonesian(app: Flask, make_user: Callable[..., str]) -> None:
    make_user("siti", Role.GUARD, locale="id")
    here = logged_in(app, "siti")
    response = here.post("/account/password", data={"old_password": PASSWORD, "new_password": "qwertyuiop"})
    assert response.status_code == 400
    assert "most common" not in response.text
    assert "kata sandi" in response.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        # too short
        ({"username": "dewi", "password": "short", "role": "guard"}, "at least 10 characters"),
        # a common password
        ({"username": "dewi", "password": "password123", "role": "guard"}, "most common"),
        # the user name as the password
        ({"username": "dewi-lestari", "password": "dewi-lestari", "role": "guard"}, "not be the user name"),
        # the admin's name in other capitals
        ({"username": "USER-ADMIN", "password": NEW_PASSWORD, "role": "guard"}, "exists already"),
    ],
)
def test_the_users_page_refuses_weak_passwords_and_names_that_differ_only_in_case(
    login: Callable[..., FlaskClient], form: dict[str, str], message: str
) -> None:
    client = login(Role.ADMIN)
    response = client.post("/settings/users", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert form["username"] not in client.get("/settings/users").text.replace("user-admin", "")


def test_users_log_in_by_their_exact_names(app: Flask) -> None:
    from dashboard.auth import hash_password
    from dashboard.models import User

    with new_session(app) as session:  # a name held unique ignoring case by the database too
        session.add(User(username="adm", password_hash=hash_password("first password"), role="admin"))
        session.commit()
    assert can_log_in(app, "adm", "first password")
    assert not can_log_in(app, "ADM", "first password")
    assert not can_log_in(app, "Adm", "first password")

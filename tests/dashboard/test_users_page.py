"""The users page (admins): disabling asks first, sites set with checkboxes, another user's password reset."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dashboard_support import PASSWORD
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.db import new_session
from dashboard.models import AuditEntry, Role, Site, User

NEW_PASSWORD = "a much longer secret"
CONFIRMED = {"confirm": "yes"}  # the second POST of a destructive action (dashboard.confirm)
NEW_USER = {"username": "dewi", "password": NEW_PASSWORD, "role": "guard"}


def logged_in(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.text
    return client


def can_log_in(app: Flask, username: str, password: str) -> bool:
    return (
        app.test_client().post("/login", data={"username": username, "password": password}).status_code == 302
    )


def audit(app: Flask, action: str) -> list[tuple[str, str]]:
    with new_session(app) as session:
        query = select(AuditEntry.actor, AuditEntry.detail).where(AuditEntry.action == action)
        return [tuple(row) for row in session.execute(query.order_by(AuditEntry.id))]


def user_state(app: Flask, username: str) -> tuple[bool, str, list[str]]:
    """Whether ``username`` is active, their role, and their sites' slugs."""
    with new_session(app) as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return user.active, user.role, [site.slug for site in user.sites]


@pytest.fixture
def sites(app: Flask) -> tuple[str, str]:
    """Two sites: kantor-pusat (make_user's) and cabang."""
    with new_session(app) as session:
        session.add_all([Site(slug="kantor-pusat", name="Kantor Pusat"), Site(slug="cabang", name="Cabang")])
        session.commit()
    return "kantor-pusat", "cabang"


# --- disabling asks first ----------------------------------------------------------------------------


def test_disabling_a_user_asks_first_and_changes_nothing(
    app: Flask, client: FlaskClient, login: Callable, make_user: Callable
) -> None:
    make_user("budi", Role.GUARD)
    elsewhere = logged_in(app, "budi")
    login(Role.ADMIN)
    page = client.post("/settings/users/budi", data={"role": "supervisor", "locale": "id", "active": "0"})
    assert page.status_code == 200
    assert "Disable user budi? They are logged out at once" in page.text
    # the Confirm button posts the same choices again, with confirm=yes; Cancel goes back to the users
    for field, value in (("role", "supervisor"), ("locale", "id"), ("active", "0"), ("confirm", "yes")):
        assert f'<input type="hidden" name="{field}" value="{value}">' in page.text
    assert 'action="/settings/users/budi"' in page.text
    assert '<a href="/settings/users" id="cancel"' in page.text
    assert user_state(app, "budi")[:2] == (True, "guard")  # not even the role changed
    assert elsewhere.get("/").status_code == 200  # still logged in
    assert audit(app, "update-user") == []


def test_a_confirmed_disable_happens_and_ends_the_users_sessions(
    app: Flask, client: FlaskClient, login: Callable, make_user: Callable
) -> None:
    make_user("budi", Role.GUARD)
    elsewhere = logged_in(app, "budi")
    login(Role.ADMIN)
    form = {"role": "guard", "locale": "en", "active": "0", **CONFIRMED}
    assert client.post("/settings/users/budi", data=form).status_code == 302
    assert user_state(app, "budi")[0] is False
    assert elsewhere.get("/").status_code == 302  # logged out at once
    assert not can_log_in(app, "budi", PASSWORD)
    assert audit(app, "update-user") == [("user-admin", "budi role guard active False")]


@pytest.mark.parametrize(
    ("active_before", "form"),
    [
        # a new role, staying active: nothing destructive, nothing asked
        (True, {"role": "supervisor", "locale": "en", "active": "1"}),
        # no active field at all (active stays)
        (True, {"role": "supervisor", "locale": "en"}),
        # enabling a disabled user again
        (False, {"role": "supervisor", "locale": "en", "active": "1"}),
        # saving a disabled user as disabled: nothing changes that has not already
        (False, {"role": "supervisor", "locale": "en", "active": "0"}),
    ],
)
def test_saving_without_disabling_is_not_asked(
    app: Flask, client: FlaskClient, login: Callable, make_user: Callable, active_before: bool, form: dict
) -> None:
    make_user("budi", Role.GUARD)
    with new_session(app) as session:
        session.execute(select(User).where(User.username == "budi")).scalar_one().active = active_before
        session.commit()
    login(Role.ADMIN)
    assert client.post("/settings/users/budi", data=form).status_code == 302
    assert user_state(app, "budi")[1] == "supervisor"
    assert len(audit(app, "update-user")) == 1


# --- sites ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ticked", "expected", "detail"),
    [
        # both sites ticked
        (["kantor-pusat", "cabang"], ["cabang", "kantor-pusat"], "dewi as guard at cabang, kantor-pusat"),
        # one
        (["cabang"], ["cabang"], "dewi as guard at cabang"),
        # none: the user sees no site (as before this page had checkboxes)
        ([], [], "dewi as guard"),
    ],
)
def test_an_admin_gives_a_new_user_sites(
    app: Flask,
    client: FlaskClient,
    login: Callable,
    sites: tuple[str, str],
    ticked: list[str],
    expected: list[str],
    detail: str,
) -> None:
    login(Role.ADMIN)
    form = {"username": "dewi", "password": NEW_PASSWORD, "role": "guard", "locale": "id", "site": ticked}
    assert client.post("/settings/users", data=form).status_code == 302
    assert user_state(app, "dewi") == (True, "guard", expected)
    assert audit(app, "create-user")[-1] == ("user-admin", detail)


@pytest.mark.parametrize(
    ("ticked", "expected", "detail"),
    [
        # moved to the other site
        (["cabang"], ["cabang"], "budi: cabang"),
        # given both
        (["cabang", "kantor-pusat"], ["cabang", "kantor-pusat"], "budi: cabang, kantor-pusat"),
        # nothing ticked: every site taken away
        ([], [], "budi: -"),
    ],
)
def test_an_admin_changes_a_users_sites(
    app: Flask,
    client: FlaskClient,
    login: Callable,
    make_user: Callable,
    sites: tuple[str, str],
    ticked: list[str],
    expected: list[str],
    detail: str,
) -> None:
    make_user("budi", Role.GUARD)  # at kantor-pusat
    login(Role.ADMIN)
    page = client.get("/settings/users").text
    row = page.split('<tr data-user="budi">')[1].split("</tr>")[0]
    assert '<input type="checkbox" name="site" value="kantor-pusat" checked>' in row
    assert '<input type="checkbox" name="site" value="cabang">' in row
    response = client.post("/settings/users/budi/sites", data={"site": ticked})
    assert response.status_code == 302
    assert user_state(app, "budi")[2] == expected
    assert audit(app, "user-sites") == [("user-admin", detail)]
    assert "Sites of budi saved." in client.get("/settings/users").text


def test_a_site_that_does_not_exist_is_refused(
    app: Flask, client: FlaskClient, login: Callable, make_user: Callable, sites: tuple[str, str]
) -> None:
    make_user("budi", Role.GUARD)
    login(Role.ADMIN)
    response = client.post("/settings/users/budi/sites", data={"site": ["cabang", "nowhere"]})
    assert response.status_code == 400
    assert "no site &#39;nowhere&#39;" in response.text
    assert user_state(app, "budi")[2] == ["kantor-pusat"]
    assert audit(app, "user-sites") == []
    assert client.post("/settings/users/nobody/sites", data={"site": ["cabang"]}).status_code == 404


# --- another user's password ------------------------------------------------------------------------


def test_an_admin_resets_another_users_password_and_ends_their_sessions(
    app: Flask, client: FlaskClient, login: Callable, make_user: Callable
) -> None:
    make_user("budi", Role.SUPERVISOR)
    elsewhere = logged_in(app, "budi")
    login(Role.ADMIN)
    response = client.post("/settings/users/budi/password", data={"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert elsewhere.get("/").status_code == 302  # logged out everywhere
    assert not can_log_in(app, "budi", PASSWORD)
    assert can_log_in(app, "budi", NEW_PASSWORD)
    assert audit(app, "set-password") == [("user-admin", "budi")]
    assert client.get("/settings/users").status_code == 200  # the admin stays logged in


@pytest.mark.parametrize(
    ("password", "message"),
    [
        # too short (the rule of gerbang dashboard set-password)
        ("short", "at least 10 characters"),
        # a common password
        ("password123", "most common"),
        # the user name, repeated
        ("budibudibudi", "not be the user name"),
    ],
)
def test_a_weak_reset_password_is_refused(
    app: Flask, client: FlaskClient, login: Callable, make_user: Callable, password: str, message: str
) -> None:
    make_user("budi", Role.GUARD)
    elsewhere = logged_in(app, "budi")
    login(Role.ADMIN)
    response = client.post("/settings/users/budi/password", data={"password": password})
    assert response.status_code == 400
    assert message in response.text
    assert elsewhere.get("/").status_code == 200
    assert can_log_in(app, "budi", PASSWORD)
    assert audit(app, "set-password") == []


def test_an_admin_changes_their_own_password_on_the_account_page(
    app: Flask, client: FlaskClient, login: Callable
) -> None:
    login(Role.ADMIN)
    response = client.post("/settings/users/user-admin/password", data={"password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "account page" in response.text
    assert can_log_in(app, "user-admin", PASSWORD)
    assert client.post("/settings/users/nobody/password", data={"password": NEW_PASSWORD}).status_code == 404


# --- only admins --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "form"),
    [
        # a supervisor cannot set a user's sites
        ("/settings/users/budi/sites", {"site": ["cabang"]}),
        # nor reset a password
        ("/settings/users/budi/password", {"password": NEW_PASSWORD}),
        # nor create a user with sites
        ("/settings/users", {**NEW_USER, "site": "cabang"}),
        # nor disable one, confirmed or not
        ("/settings/users/budi", {"role": "guard", "locale": "en", "active": "0", **CONFIRMED}),
    ],
)
def test_a_supervisor_cannot_manage_users(
    app: Flask,
    client: FlaskClient,
    login: Callable,
    make_user: Callable,
    sites: tuple[str, str],
    path: str,
    form: dict,
) -> None:
    make_user("budi", Role.GUARD)
    login(Role.SUPERVISOR, sites=("kantor-pusat", "cabang"))
    assert client.post(path, data=form).status_code == 403
    assert user_state(app, "budi") == (True, "guard", ["kantor-pusat"])
    assert can_log_in(app, "budi", PASSWORD)
    with new_session(app) as session:
        assert session.execute(select(User).where(User.username == "dewi")).first() is None
        actions = set(session.execute(select(AuditEntry.action)).scalars())
    assert actions.isdisjoint({"user-sites", "set-password", "update-user"})

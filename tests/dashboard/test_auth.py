"""Login, logout, rate limiting, CSRF, cookies and security headers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_support import PASSWORD, app_settings
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard import create_app, manage
from dashboard.db import get_engine, new_session
from dashboard.models import LoginAttempt, Role


def test_login_and_logout(client: FlaskClient, make_user: Callable) -> None:
    make_user("siti", Role.SUPERVISOR)
    response = client.post("/login?next=/screenings", data={"username": "siti", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/screenings"
    assert client.get("/screenings").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/screenings").status_code == 302  # back to the login page


@pytest.mark.parametrize(
    ("username", "password"),
    [
        # the wrong password
        ("siti", "wrong password"),
        # a user who does not exist
        ("nobody", PASSWORD),
        # an empty form
        ("", ""),
    ],
)
def test_bad_logins_are_refused(
    client: FlaskClient, make_user: Callable, username: str, password: str
) -> None:
    make_user("siti", Role.SUPERVISOR)
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 401
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        # another host
        "https://evil.example/",
        # a protocol-relative URL
        "//evil.example/",
        # a tab the browser strips: /<TAB>/evil.example is //evil.example to it
        "/%09/evil.example",
        # a newline and a carriage return, stripped the same way
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        # a backslash, which browsers read as a slash
        "/%5cevil.example",
        # a space before the second slash
        "/%20/evil.example",
    ],
)
def test_login_never_redirects_off_site(client: FlaskClient, make_user: Callable, target: str) -> None:
    make_user("siti", Role.GUARD)
    response = client.post(f"/login?next={target}", data={"username": "siti", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_a_disabled_user_cannot_log_in(client: FlaskClient, login: Callable, make_user: Callable) -> None:
    make_user("budi", Role.GUARD)
    login(Role.ADMIN)
    client.post(
        "/settings/users/budi", data={"role": "guard", "locale": "id", "active": "0", "confirm": "yes"}
    )
    client.post("/logout")
    assert client.post("/login", data={"username": "budi", "password": PASSWORD}).status_code == 401


def test_repeated_failures_are_rate_limited(app: Flask, client: FlaskClient, make_user: Callable) -> None:
    make_user("siti", Role.SUPERVISOR)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/login", data={"username": "siti", "password": "guess"}).status_code == 401
    # now even the right password waits
    assert client.post("/login", data={"username": "siti", "password": PASSWORD}).status_code == 429
    # the limit is per address: another one may still log in
    other = client.post(
        "/login", data={"username": "siti", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert other.status_code == 302


def test_parallel_guesses_cannot_race_past_the_limit(app: Flask, make_user: Callable) -> None:
    # sixty wrong passwords at once: only the first LOGIN_MAX_FAILURES are checked at all
    make_user("siti", Role.SUPERVISOR)
    statuses: list[int] = []

    def guess() -> None:
        response = app.test_client().post("/login", data={"username": "siti", "password": "guess"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) <= app.config["LOGIN_MAX_FAILURES"]


@pytest.mark.parametrize(
    ("setting", "names"),
    [
        # one address trying many user names
        ("LOGIN_MAX_FAILURES_PER_SOURCE", lambda i: f"random-{i}"),
        # many addresses and names at once (the whole dashboard's budget)
        ("LOGIN_MAX_FAILURES_ALL", lambda i: f"random-{i}"),
    ],
)
def test_a_flood_of_user_names_is_throttled_before_hashing(
    app: Flask, make_user: Callable, setting: str, names: Callable[[int], str]
) -> None:
    app.config.update({setting: 3})
    make_user("siti", Role.SUPERVISOR)
    client = app.test_client()
    spread = setting == "LOGIN_MAX_FAILURES_ALL"
    for i in range(3):
        addr = {"REMOTE_ADDR": f"10.0.0.{i}"} if spread else {}
        assert (
            client.post("/login", data={"username": names(i), "password": "x"}, environ_base=addr).status_code
            == 401
        )
    addr = {"REMOTE_ADDR": "10.0.1.1"} if spread else {}
    refused = client.post("/login", data={"username": "siti", "password": PASSWORD}, environ_base=addr)
    assert refused.status_code == 429


def test_the_limit_holds_across_app_processes(
    app: Flask, database_url: str, tmp_path: Path, make_user: Callable
) -> None:
    make_user("siti", Role.SUPERVISOR)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        app.test_client().post("/login", data={"username": "siti", "password": "guess"})
    second = create_app(app_settings(database_url, tmp_path))  # another process, same database
    response = second.test_client().post("/login", data={"username": "siti", "password": PASSWORD})
    get_engine(second).dispose()
    assert response.status_code == 429


@pytest.fixture
def csrf_app(database_url: str, tmp_path: Path) -> Flask:
    app = create_app(app_settings(database_url, tmp_path, WTF_CSRF_ENABLED=True))
    yield app
    get_engine(app).dispose()


def test_only_a_post_logs_in(csrf_app: Flask, make_user: Callable) -> None:
    # HEAD with a form body (Flask-WTF checks no CSRF token on HEAD) must not log in, nor count as a try
    make_user("siti", Role.SUPERVISOR)
    client = csrf_app.test_client()
    response = client.open("/login", method="HEAD", data={"username": "siti", "password": PASSWORD})
    assert response.status_code == 200  # the form, as for a GET
    assert client.get("/").status_code == 302  # still not logged in
    with new_session(csrf_app) as db:
        assert db.scalars(select(LoginAttempt)).all() == []


def test_forms_without_the_csrf_token_are_refused(csrf_app: Flask, make_user: Callable) -> None:
    make_user("siti", Role.SUPERVISOR)
    client = csrf_app.test_client()
    assert client.post("/login", data={"username": "siti", "password": PASSWORD}).status_code == 400
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "siti", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/settings/rooms", data={"site": "a", "room": "b", "capacity": "4"}).status_code == 400


def test_the_api_needs_no_csrf_token(csrf_app: Flask) -> None:
    response = csrf_app.test_client().post("/api/v1/events", json={"events": []})
    assert response.status_code == 401  # refused for the token, not for CSRF


def test_session_cookies_are_secure_by_default(
    database_url: str, tmp_path: Path, make_user: Callable
) -> None:
    settings = app_settings(database_url, tmp_path)
    del settings["SESSION_COOKIE_SECURE"]
    app = create_app(settings)
    make_user("siti", Role.GUARD)
    response = app.test_client().post("/login", data={"username": "siti", "password": PASSWORD})
    get_engine(app).dispose()
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "script-src 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_carry_no_inline_script_or_style(
    client: FlaskClient, login: Callable, make_room: Callable
) -> None:
    make_room("lobby")
    login(Role.ADMIN)
    for path in (
        "/",
        "/sites/kantor-pusat/rooms/lobby",
        "/screenings",
        "/alerts",
        "/settings/",
        "/settings/users",
        "/queue",
    ):
        page = client.get(path).text
        assert "<script>" not in page
        assert "<script src=" in page
        assert "style=" not in page
        assert "<style" not in page


@pytest.mark.parametrize(
    ("proxies", "locked_out_elsewhere"),
    [
        # no trusted proxy: X-Forwarded-For is ignored, everyone behind the proxy shares its address
        (0, True),
        # one trusted proxy: each visitor is their own source
        (1, False),
    ],
)
def test_the_limit_is_keyed_on_the_visitor_behind_a_trusted_proxy(
    database_url: str, tmp_path: Path, proxies: int, locked_out_elsewhere: bool
) -> None:
    app = create_app(app_settings(database_url, tmp_path, TRUSTED_PROXIES=proxies))
    try:
        with new_session(app) as session:
            manage.create_user(session, f"dewi-{proxies}", PASSWORD, Role.SUPERVISOR)
        client = app.test_client()
        name = f"dewi-{proxies}"
        attacker = {"X-Forwarded-For": "203.0.113.7"}
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            client.post("/login", data={"username": name, "password": "guess"}, headers=attacker)
        colleague = {"X-Forwarded-For": "198.51.100.20"}
        response = client.post("/login", data={"username": name, "password": PASSWORD}, headers=colleague)
        assert (response.status_code == 429) is locked_out_elsewhere
    finally:
        get_engine(app).dispose()


@pytest.mark.parametrize(
    "ending",
    [
        # the user logs out (in another tab, or on another screen)
        "logout",
        # an admin disables the user
        "disable",
    ],
)
def test_a_cookie_copied_before_the_session_ended_opens_nothing(
    app: Flask, make_user: Callable, ending: str
) -> None:
    make_user("siti", Role.ADMIN)
    make_user("boss", Role.ADMIN)
    victim = app.test_client()
    assert victim.post("/login", data={"username": "siti", "password": PASSWORD}).status_code == 302
    stolen = victim.get_cookie("session").value
    before = app.test_client()
    before.set_cookie("session", stolen)
    assert before.get("/settings/users").status_code == 200  # the copy works while the session lasts
    if ending == "logout":
        victim.post("/logout")
    else:
        admin = app.test_client()
        admin.post("/login", data={"username": "boss", "password": PASSWORD})
        admin.post(
            "/settings/users/siti", data={"role": "admin", "locale": "en", "active": "0", "confirm": "yes"}
        )
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/settings/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]

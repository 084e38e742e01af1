"""Security: station tokens rotated and revoked, the audit log, input limits, headers, a database down."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dashboard_support import app_settings
from dashboard_wire import bearer, correction, crossing, event, screening
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import dashboard
from dashboard import create_app
from dashboard.db import get_engine, new_session
from dashboard.models import AuditEntry, Role, Station


@pytest.fixture
def lobby(make_room: Callable[..., str], make_station: Callable[[str, str], str]) -> str:
    make_room("lobby", capacity_people=10)
    return make_station("gate-1", "lobby")


def post(client: FlaskClient, token: str, *events: dict) -> int:
    return client.post("/api/v1/events", json={"events": list(events)}, headers=bearer(token)).status_code


def audit_entries(app: Flask, action: str | None = None) -> list[AuditEntry]:
    with new_session(app) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.execute(query).scalars())


# --- tokens -----------------------------------------------------------------------------------------


def test_a_rotated_token_replaces_the_old_one_at_once(
    app: Flask, client: FlaskClient, runner, lobby: str
) -> None:
    result = runner.invoke(["rotate-token", "gate-1"])
    assert result.exit_code == 0, result.output
    new = result.output.strip()
    assert new != lobby
    assert post(client, lobby, crossing("in")) == 401
    assert post(client, new, crossing("in")) == 200
    assert [e.detail for e in audit_entries(app, "rotate-token")] == ["gate-1"]


def test_a_revoked_station_is_refused_until_given_a_new_token(
    app: Flask, client: FlaskClient, runner, lobby: str
) -> None:
    assert runner.invoke(["revoke-station", "gate-1"]).output.strip() == "station gate-1 revoked"
    assert post(client, lobby, crossing("in")) == 401
    assert client.get("/api/v1/rooms/lobby/occupancy", headers=bearer(lobby)).status_code == 401
    again = runner.invoke(["revoke-station", "gate-1"])
    assert again.exit_code == 1
    assert "revoked already" in again.output
    new = runner.invoke(["rotate-token", "gate-1"]).output.strip()
    assert post(client, new, crossing("in")) == 200
    assert [e.action for e in audit_entries(app) if e.action != "add-room"][-2:] == [
        "revoke-station",
        "rotate-token",
    ]


@pytest.mark.parametrize(
    "command",
    [
        # rotating a station nobody registered
        "rotate-token",
        # revoking one
        "revoke-station",
    ],
)
def test_unknown_stations_get_a_message(runner, lobby: str, command: str) -> None:
    result = runner.invoke([command, "nobody"])
    assert result.exit_code == 1
    assert "no station 'nobody'" in result.output


CONFIRMED = {"confirm": "yes"}  # the second POST of a destructive action (dashboard.confirm)


def test_supervisors_rotate_and_revoke_on_the_settings_page(
    app: Flask, client: FlaskClient, lobby: str, login: Callable
) -> None:
    login(Role.SUPERVISOR)
    page = client.post("/settings/stations/gate-1/token", data=CONFIRMED)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "The old token no longer works." in page.text
    assert post(client, lobby, crossing("in")) == 401
    response = client.post("/settings/stations/gate-1/revoke", data=CONFIRMED)
    assert response.status_code == 302
    with new_session(app) as session:
        assert session.execute(select(Station.revoked_at)).scalar_one() is not None
    assert "revoked" in client.get("/settings/").text
    assert client.post("/settings/stations/gate-1/revoke", data=CONFIRMED).status_code == 400
    assert client.post("/settings/stations/nobody/token").status_code == 404
    assert client.post("/settings/stations/nobody/token", data=CONFIRMED).status_code == 404
    assert {e.actor for e in audit_entries(app, "revoke-station")} == {"user-supervisor"}


@pytest.mark.parametrize(
    ("path", "form", "question", "action"),
    [
        # revoking, first POST: the question, said exactly
        (
            "/settings/stations/gate-1/revoke",
            {},
            "Revoke station gate-1? It will be refused until its token is rotated.",
            "revoke-station",
        ),
        # a new token, first POST: the old one would stop working
        (
            "/settings/stations/gate-1/token",
            {},
            "Give station gate-1 a new token? Its current token stops working at once",
            "rotate-token",
        ),
        # a confirm field with another value is no confirmation
        ("/settings/stations/gate-1/revoke", {"confirm": "1"}, "Revoke station gate-1?", "revoke-station"),
    ],
)
def test_revoking_and_rotating_ask_first_and_change_nothing(
    app: Flask,
    client: FlaskClient,
    lobby: str,
    login: Callable,
    path: str,
    form: dict[str, str],
    question: str,
    action: str,
) -> None:
    login(Role.SUPERVISOR)
    page = client.post(path, data=form)
    assert page.status_code == 200
    assert question in page.text
    # the Confirm button posts back to the same URL with confirm=yes; Cancel goes back to settings
    assert f'action="{path}"' in page.text
    assert '<input type="hidden" name="confirm" value="yes">' in page.text
    assert '<a href="/settings/" id="cancel"' in page.text
    assert 'name="csrf_token"' in page.text
    assert post(client, lobby, crossing("in")) == 200  # the station's token still works
    with new_session(app) as session:
        assert session.execute(select(Station.revoked_at)).scalar_one() is None
    assert audit_entries(app, action) == []


def test_for_a_revoked_station_the_question_says_what_a_new_token_does(
    app: Flask, client: FlaskClient, lobby: str, login: Callable, runner
) -> None:
    runner.invoke(["revoke-station", "gate-1"])
    login(Role.SUPERVISOR)
    page = client.post("/settings/stations/gate-1/token")
    assert page.status_code == 200
    assert "Give station gate-1 a new token? It is revoked now" in page.text
    # revoking it again is not asked: it is refused as before
    response = client.post("/settings/stations/gate-1/revoke")
    assert response.status_code == 400
    assert "revoked already" in response.text
    assert [e.actor for e in audit_entries(app, "revoke-station")] == ["cli"]


def test_the_question_is_in_the_users_language(client: FlaskClient, lobby: str, login: Callable) -> None:
    login(Role.SUPERVISOR, locale="id")
    page = client.post("/settings/stations/gate-1/revoke").text
    assert "Cabut stasiun gate-1? Stasiun akan ditolak sampai diberi token baru." in page
    assert ">Batal</a>" in page
    assert ">Cabut</button>" in page


@pytest.mark.parametrize(
    ("path", "action"),
    [
        # confirmed: revoked, the token refused from now on
        ("/settings/stations/gate-1/revoke", "revoke-station"),
        # confirmed: a new token, the old one refused
        ("/settings/stations/gate-1/token", "rotate-token"),
    ],
)
def test_a_confirmed_revoke_or_rotation_happens(
    app: Flask, client: FlaskClient, lobby: str, login: Callable, path: str, action: str
) -> None:
    login(Role.SUPERVISOR)
    assert client.post(path, data=CONFIRMED).status_code in (200, 302)
    assert post(client, lobby, crossing("in")) == 401
    assert [(e.actor, e.detail) for e in audit_entries(app, action)] == [("user-supervisor", "gate-1")]


# --- the audit log ------------------------------------------------------------------------------------


def test_overrides_and_corrections_from_stations_are_audited(
    app: Flask, client: FlaskClient, lobby: str, login: Callable
) -> None:
    override = screening(
        "allow", reason="override", override_by="budi", override_reason="mask given at the door"
    )
    assert post(client, lobby, override, screening("allow"), correction(delta=1, by="siti")) == 200
    assert post(client, lobby, override) == 200  # a duplicate is not audited twice
    overrides = audit_entries(app, "override")
    assert [(e.actor, override["id"] in e.detail) for e in overrides] == [("gate-1/budi", True)]
    assert "mask given at the door" in overrides[0].detail
    corrections = audit_entries(app, "correction")
    assert [(e.actor, "lobby +1 -> 1" in e.detail) for e in corrections] == [("gate-1/siti", True)]
    login(Role.SUPERVISOR)
    page = client.get("/audit?action=override").text
    assert "gate-1/budi" in page
    assert "gate-1/siti" not in page
    assert "gate-1/siti" in client.get("/audit").text


def test_settings_changes_are_audited_with_who_made_them(
    app: Flask, client: FlaskClient, lobby: str, login: Callable
) -> None:
    login(Role.SUPERVISOR)
    client.post(
        "/settings/sites/kantor-pusat/rooms/lobby", data={"capacity": "20", "share": "0.5", "name": "Lobby"}
    )
    client.post("/settings/rooms", data={"site": "kantor-pusat", "room": "aula", "capacity": "50"})
    client.post("/settings/stations", data={"name": "gate-2", "room": "aula"})
    made = [(e.actor, e.action) for e in audit_entries(app) if e.actor == "user-supervisor"]
    assert made == [
        ("user-supervisor", "login"),
        ("user-supervisor", "update-room"),
        ("user-supervisor", "add-room"),
        ("user-supervisor", "add-station"),
    ]


def test_the_audit_log_escapes_what_stations_send(client: FlaskClient, lobby: str, login: Callable) -> None:
    script = "<script>alert('x')</script>"
    assert post(client, lobby, correction(delta=1, by="siti", reason=script)) == 200
    login(Role.SUPERVISOR)
    page = client.get("/audit").text
    assert script not in page
    assert "&lt;script&gt;" in page


def test_guards_may_not_read_the_audit_log(client: FlaskClient, login: Callable) -> None:
    login(Role.GUARD)
    assert client.get("/audit").status_code == 403


# --- input limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        # a door name longer than its column (100)
        (crossing("in", door="d" * 101), "door"),
        # a source longer than its column (32)
        (crossing("in", source="s" * 33), "source"),
        # a reason code longer than its column (64)
        (screening("deny", reason="r" * 65), "reason"),
        # PostgreSQL cannot store a NUL character in text
        (screening("deny", reason="fe\x00ver"), "reason"),
        # a NUL in free text too
        (correction(delta=1, reason="a\x00b"), "reason"),
        # a device name longer than its column (64)
        (event("status", device="x" * 65, state="online"), "device"),
        # a time that a zone pushes before year 1
        (crossing("in") | {"at": "0001-01-01T00:00:00+05:00"}, "at"),
        # or past year 9999
        (crossing("in") | {"at": "9999-12-31T23:59:59-05:00"}, "at"),
        # a screening dated 9999-12-31: would head every list and outlive every purge
        (screening("allow") | {"at": "9999-12-31T00:00:00+00:00"}, "at"),
        # two days ahead of the dashboard's clock
        (screening("allow") | {"at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "at"),
        # before the retention window (30 days): it would be purged at once
        (crossing("in") | {"at": (datetime.now(UTC) - timedelta(days=31)).isoformat()}, "at"),
    ],
)
def test_what_the_database_cannot_hold_gets_a_400_naming_the_field(
    app: Flask, client: FlaskClient, lobby: str, bad: dict, field: str
) -> None:
    response = client.post("/api/v1/events", json={"events": [crossing("in"), bad]}, headers=bearer(lobby))
    assert response.status_code == 400, response.text
    assert response.get_json()["field"].endswith(field)
    assert client.get("/api/v1/rooms/lobby/occupancy", headers=bearer(lobby)).get_json()["occupancy"] == 0


def test_the_longest_allowed_text_is_stored(client: FlaskClient, lobby: str) -> None:
    assert post(client, lobby, crossing("in", door="d" * 100, source="s" * 32)) == 200


@pytest.mark.parametrize(
    "room",
    [
        # not a slug: capitals and a NUL character never reach the database
        "Lobby%00",
        # far too long
        "x" * 300,
    ],
)
def test_rooms_that_cannot_exist_are_404(client: FlaskClient, lobby: str, room: str) -> None:
    response = client.get(f"/api/v1/rooms/{room}/occupancy", headers=bearer(lobby))
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_a_huge_stream_position_is_no_error(client: FlaskClient, login: Callable) -> None:
    login(Role.GUARD)
    response = client.get("/live/stream?after=" + "9" * 40)
    assert response.status_code == 200
    assert "retry:" in response.get_data(as_text=True)


def test_the_openapi_document_states_the_column_limits(client: FlaskClient) -> None:
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["CrossingEvent"]["properties"]["door"]["maxLength"] == 100
    assert schemas["StatusEvent"]["properties"]["detail"]["maxLength"] == 500


# --- headers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        # a page (the login form)
        "/login",
        # the API
        "/api/v1/health",
        # an error page
        "/no-such-page",
        # a static file
        "/static/live.js",
    ],
)
def test_every_answer_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    response.close()  # a static file's answer holds the file open
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_https_answers_ask_for_https_from_now_on(client: FlaskClient) -> None:
    headers = client.get("/login", base_url="https://dashboard.example").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_template_turns_escaping_off() -> None:
    templates = Path(dashboard.__file__).parent / "templates"
    for path in templates.glob("*.html"):
        text = path.read_text()
        assert "|safe" not in text.replace(" ", ""), path.name
        assert "autoescape false" not in text, path.name
        assert "Markup(" not in text, path.name


def test_no_sql_is_built_from_strings() -> None:
    """No ``text()`` or ``execute()`` gets an f-string, a ``%`` or ``+`` expression or ``.format``."""
    package = Path(dashboard.__file__).parent
    found = []
    for path in package.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name not in {"text", "execute", "exec_driver_sql"}:
                continue
            first = node.args[0]
            built = isinstance(first, ast.JoinedStr | ast.BinOp) or (
                isinstance(first, ast.Call)
                and getattr(first.func, "attr", "") == "format"
                and isinstance(getattr(first.func, "value", None), ast.Constant)  # "...".format()
            )
            if built:
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


# --- the database down ------------------------------------------------------------------------------------


def test_an_unreachable_database_is_a_503_the_station_retries(tmp_path: Path) -> None:
    app = create_app(app_settings(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'db.sqlite3'}", tmp_path))
    try:
        response = app.test_client().post(
            "/api/v1/events", json={"events": [crossing("in")]}, headers=bearer("token")
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert "unavailable" in response.get_json()["error"]
        assert app.test_client().get("/api/v1/health").status_code == 503
    finally:
        get_engine(app).dispose()


def test_every_connection_busy_is_a_503_after_the_pool_timeout(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the connection pool is sized for PostgreSQL")
    settings = {
        **app_settings(database_url, tmp_path),
        "DATABASE_POOL_SIZE": 1,
        "DATABASE_MAX_OVERFLOW": 0,
        "DATABASE_POOL_TIMEOUT_S": 0.2,
        "LIVE_NOTIFY": False,
    }
    app = create_app(settings)
    busy = get_engine(app).connect()  # the pool's only connection, held by "another request"
    try:
        response = app.test_client().post(
            "/api/v1/events", json={"events": [crossing("in")]}, headers=bearer("token")
        )
        assert response.status_code == 503  # not a 500: the station retries
        assert response.headers["Retry-After"] == "2"
    finally:
        busy.close()
    try:
        client = app.test_client()
        free = client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer("x"))
        assert free.status_code == 401  # the pool answers again: the unknown token is what fails now
    finally:
        get_engine(app).dispose()


def test_thousands_of_nested_arrays_get_a_400(client: FlaskClient, lobby: str) -> None:
    deep = b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = client.post(
        "/api/v1/events", data=deep, content_type="application/json", headers=bearer(lobby)
    )
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize(
    "query",
    [
        # the first and the last day a date can name: their bounds in the site's zone overflow
        "from=0001-01-01",
        "from=9999-12-31&to=9999-12-31",
        "to=9999-12-31",
    ],
)
def test_far_dates_in_filters_get_a_400(client: FlaskClient, login: Callable, query: str) -> None:
    login(Role.ADMIN)
    assert client.get(f"/screenings?{query}").status_code == 400
    assert client.get(f"/screenings.csv?{query}").status_code == 400


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_far_days_in_the_report_get_a_400(
    client: FlaskClient, login: Callable, make_room: Callable, day: str
) -> None:
    make_room("lobby-2", site="kantor-pusat")
    login(Role.ADMIN)
    assert client.get("/reports/kantor-pusat").status_code == 200
    assert client.get(f"/reports/kantor-pusat?day={day}").status_code == 400


@pytest.mark.parametrize(
    ("path", "stored"),
    [
        # the screenings log and its export hold temperatures: never kept by a browser or a proxy
        ("/screenings", False),
        ("/screenings.csv", False),
        ("/alerts", False),
        ("/", False),
        # style sheets may be cached
        ("/static/dashboard.css", True),
    ],
)
def test_health_pages_are_not_stored(client: FlaskClient, login: Callable, path: str, stored: bool) -> None:
    login(Role.ADMIN)
    with client.get(path) as response:
        assert response.status_code == 200
        assert (response.headers.get("Cache-Control") == "no-store") is not stored


def test_the_sqlite_database_and_the_journal_are_private(tmp_path: Path) -> None:
    from station.journal import Journal

    app = create_app(app_settings(f"sqlite:///{tmp_path / 'private.sqlite3'}", tmp_path))
    with app.app_context():
        get_engine(app).connect().close()
    assert (tmp_path / "private.sqlite3").stat().st_mode & 0o777 == 0o600
    get_engine(app).dispose()
    Journal(tmp_path / "journal.sqlite3").close()
    assert (tmp_path / "journal.sqlite3").stat().st_mode & 0o777 == 0o600

"""The read API: what the pages show, as JSON pages, scoped to the user's sites by role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dashboard_wire import crossing, event, screening
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard import read_api
from dashboard.auth import end_sessions
from dashboard.db import new_session
from dashboard.models import Role, User

READS = [
    "/api/v1/rooms",
    "/api/v1/crossings",
    "/api/v1/screenings",
    "/api/v1/alerts",
    "/api/v1/queue",
    "/api/v1/stations",
]


@pytest.fixture
def two_sites(
    client: FlaskClient, make_room: Callable[..., str], make_station: Callable[[str, str], str]
) -> dict[str, str]:
    """A room and station at kantor-pusat (lobby, gate-1) and at cabang (loket, gate-2), each busy."""
    make_room("lobby")
    make_room("loket", site="cabang")
    tokens = {"lobby": make_station("gate-1", "lobby"), "loket": make_station("gate-2", "loket")}
    for room, token in tokens.items():
        response = client.post(
            "/api/v1/events",
            json={
                "events": [
                    crossing("in"),
                    screening("deny", reason="fever", body_c=38.5),
                    event("queue", ticket=7, action="issued"),
                    event("status", device="camera", state="error", detail="no frames"),
                ]
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, (room, response.text)
    return tokens


def rooms_seen(body: dict) -> set[str]:
    return {item.get("room") for item in body["items"]}


# (role, sites the user works at, operation, status, rooms in the answer)
SCOPING = [
    # a guard of kantor-pusat reads its rooms, crossings, screenings, queue...
    (Role.GUARD, ("kantor-pusat",), "/api/v1/rooms", 200, {"lobby"}),
    (Role.GUARD, ("kantor-pusat",), "/api/v1/crossings", 200, {"lobby"}),
    (Role.GUARD, ("kantor-pusat",), "/api/v1/screenings", 200, {"lobby"}),
    (Role.GUARD, ("kantor-pusat",), "/api/v1/queue", 200, {"lobby"}),
    # ...but not the alerts and the stations' health, as on the pages
    (Role.GUARD, ("kantor-pusat",), "/api/v1/alerts", 403, None),
    (Role.GUARD, ("kantor-pusat",), "/api/v1/stations", 403, None),
    # a supervisor of cabang sees cabang only, alerts and stations included
    (Role.SUPERVISOR, ("cabang",), "/api/v1/rooms", 200, {"loket"}),
    (Role.SUPERVISOR, ("cabang",), "/api/v1/crossings", 200, {"loket"}),
    (Role.SUPERVISOR, ("cabang",), "/api/v1/screenings", 200, {"loket"}),
    (Role.SUPERVISOR, ("cabang",), "/api/v1/alerts", 200, {"loket"}),
    (Role.SUPERVISOR, ("cabang",), "/api/v1/queue", 200, {"loket"}),
    (Role.SUPERVISOR, ("cabang",), "/api/v1/stations", 200, {"loket"}),
    # a supervisor of both sites sees both
    (Role.SUPERVISOR, ("kantor-pusat", "cabang"), "/api/v1/screenings", 200, {"lobby", "loket"}),
    # a supervisor of no site sees nothing
    (Role.SUPERVISOR, (), "/api/v1/rooms", 200, set()),
    (Role.SUPERVISOR, (), "/api/v1/alerts", 200, set()),
    # an admin sees every site, whatever sites are theirs
    (Role.ADMIN, (), "/api/v1/rooms", 200, {"lobby", "loket"}),
    (Role.ADMIN, (), "/api/v1/alerts", 200, {"lobby", "loket"}),
    (Role.ADMIN, (), "/api/v1/stations", 200, {"lobby", "loket"}),
]


@pytest.mark.parametrize(("role", "sites", "path", "status", "rooms"), SCOPING)
def test_reads_are_scoped_to_the_users_sites_by_role(
    client: FlaskClient,
    login: Callable,
    two_sites: dict[str, str],
    role: Role,
    sites: tuple[str, ...],
    path: str,
    status: int,
    rooms: set[str] | None,
) -> None:
    login(role, sites=sites)
    response = client.get(path)
    assert response.status_code == status, response.text
    if rooms is not None:
        assert rooms_seen(response.get_json()) == rooms


# (role, whether the screenings carry temperatures)
TEMPERATURES = [
    (Role.GUARD, False),  # a guard sees decisions, not temperatures
    (Role.SUPERVISOR, True),  # supervisors see temperatures
    (Role.ADMIN, True),  # and admins
]


@pytest.mark.parametrize(("role", "shown"), TEMPERATURES)
def test_temperatures_only_for_supervisors_and_admins(
    client: FlaskClient, login: Callable, two_sites: dict[str, str], role: Role, shown: bool
) -> None:
    login(role, sites=("kantor-pusat",))
    items = client.get("/api/v1/screenings?room=lobby").get_json()["items"]
    assert [item["decision"] for item in items] == ["deny"]
    assert ("body_c" in items[0]) is shown
    if shown:
        assert items[0]["body_c"] == 38.5


def test_pages_follow_the_cursor_to_the_end(
    client: FlaskClient, login: Callable, make_room: Callable[..., str], make_station: Callable
) -> None:
    make_room("lobby")
    token = make_station("gate-1", "lobby")
    batch = {"events": [crossing("in") for _ in range(5)]}
    client.post("/api/v1/events", json=batch, headers={"Authorization": f"Bearer {token}"})
    login(Role.GUARD)
    seen: list[int] = []
    after, pages = 0, 0
    while after is not None:
        body = client.get(f"/api/v1/crossings?limit=2&after={after}").get_json()
        seen += [item["occupancy_after"] for item in body["items"]]
        after, pages = body["next_after"], pages + 1
    assert seen == [1, 2, 3, 4, 5]
    assert pages == 3


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/rooms?after=5053162699122929664",  # past a 32-bit id column: an empty page, not a 500
        "/api/v1/crossings?after=9223372036854775807",  # the largest 64-bit id
        "/api/v1/stations?after=9223372036854775807",  # the stations (filtered in Python)
    ],
)
def test_a_cursor_past_every_id_is_an_empty_last_page(
    client: FlaskClient, login: Callable, path: str
) -> None:
    login(Role.SUPERVISOR)
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "next_after": None}


# (query, the parameter named in the 400)
BAD_QUERIES = [
    ("/api/v1/crossings?limit=0", "limit"),  # below 1
    ("/api/v1/crossings?limit=501", "limit"),  # above the largest page
    ("/api/v1/crossings?after=-1", "after"),  # a cursor is never negative
    ("/api/v1/crossings?after=abc", "after"),  # nor a word
    ("/api/v1/crossings?after=99999999999999999999", "after"),  # nor past 64 bits
    ("/api/v1/crossings?room=Not%20A%20Slug", "room"),  # a room is a slug
    ("/api/v1/alerts?state=closed", "state"),  # no such state
]


@pytest.mark.parametrize(("path", "field"), BAD_QUERIES)
def test_bad_queries_are_a_json_400_naming_the_parameter(
    client: FlaskClient, login: Callable, path: str, field: str
) -> None:
    login(Role.SUPERVISOR)
    response = client.get(path)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


@pytest.mark.parametrize("path", READS)
def test_reads_without_a_login_or_token_are_a_json_401(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json() == {"error": "login required"}


def token_for(app: Flask, username: str) -> str:
    with new_session(app) as session, app.test_request_context():
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return read_api.make_token(user)


def test_an_api_token_reads_as_its_user(
    app: Flask, client: FlaskClient, make_user: Callable, two_sites: dict[str, str]
) -> None:
    make_user("sari", Role.SUPERVISOR, sites=("cabang",))
    headers = {"Authorization": f"Bearer {token_for(app, 'sari')}"}
    response = client.get("/api/v1/alerts", headers=headers)
    assert response.status_code == 200
    assert rooms_seen(response.get_json()) == {"loket"}
    # it reads and does nothing else: no page, no write
    assert client.get("/alerts", headers=headers).status_code == 302
    # a station's token reads no user's data
    station = {"Authorization": f"Bearer {two_sites['loket']}"}
    assert client.get("/api/v1/alerts", headers=station).status_code == 401


# (what happens to the user, after which their token no longer reads)
ENDINGS = [
    ("disabled", lambda user: setattr(user, "active", False)),  # the user is disabled
    ("sessions ended", end_sessions),  # log out everywhere
    (
        "new password",
        lambda user: setattr(user, "password_hash", user.password_hash + "x"),
    ),  # password changed
]


@pytest.mark.parametrize(("case", "end"), ENDINGS)
def test_an_api_token_ends_with_its_users_sessions(
    app: Flask, client: FlaskClient, make_user: Callable, case: str, end: Callable
) -> None:
    make_user("sari", Role.SUPERVISOR)
    headers = {"Authorization": f"Bearer {token_for(app, 'sari')}"}
    assert client.get("/api/v1/rooms", headers=headers).status_code == 200
    with new_session(app) as session:
        end(session.execute(select(User).where(User.username == "sari")).scalar_one())
        session.commit()
    assert client.get("/api/v1/rooms", headers=headers).status_code == 401


def test_the_cli_prints_a_token_that_reads(
    app: Flask, client: FlaskClient, runner, make_user: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GERBANG_SECRET_KEY", app.config["SECRET_KEY"])  # the CLI's app is the server's
    make_user("sari", Role.GUARD)
    result = runner.invoke(["api-token", "sari"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert client.get("/api/v1/rooms", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(["api-token", "nobody"]).exit_code != 0


def test_every_read_is_in_the_openapi_document_and_the_docs_page(
    client: FlaskClient, login: Callable
) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {f"/api/v1{path}" for path in paths} >= set(READS)
    login(Role.GUARD)
    page = client.get("/api/docs").text
    for path in READS:
        assert f"GET {path}</code>" in page
    assert 'id="api-docs"' in client.get("/").text  # linked from the header

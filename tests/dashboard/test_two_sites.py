"""Two sites, each with a room called ``hall``: pages, counts, live messages, CLI and API keep them apart."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from dashboard_wire import bearer, crossing, screening
from flask import Flask
from flask.testing import FlaskClient

from dashboard.models import Role


@pytest.fixture
def halls(client: FlaskClient, make_room: Callable, make_station: Callable) -> dict[str, str]:
    """A hall at site a (2 inside) and one at site b (1 inside, a fever); their stations' tokens."""
    make_room("hall", site="a")
    make_room("hall", site="b")
    tokens = {"a": make_station("gate-a", "a/hall"), "b": make_station("gate-b", "b/hall")}
    for site, events in (
        ("a", [crossing("in"), crossing("in")]),
        ("b", [crossing("in"), screening("deny", reason="fever", body_c=38.9)]),
    ):
        response = client.post("/api/v1/events", json={"events": events}, headers=bearer(tokens[site]))
        assert response.status_code == 200, response.text
    return tokens


def count_on(page: str) -> int:
    return int(page.split('<span class="count">')[1].split("<")[0])


def stream(client: FlaskClient) -> list[tuple[str, dict]]:
    body = client.get("/live/stream?after=0").get_data(as_text=True)
    found = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


def test_both_halls_have_their_own_page_and_count(client: FlaskClient, login: Callable, halls: dict) -> None:
    login(Role.ADMIN, sites=())
    assert count_on(client.get("/sites/a/rooms/hall").text) == 2
    assert count_on(client.get("/sites/b/rooms/hall").text) == 1
    overview = client.get("/").text
    assert 'data-site="a" data-room="hall"' in overview
    assert 'data-site="b" data-room="hall"' in overview
    assert 'href="/sites/b/rooms/hall"' in overview
    # the old address cannot say which hall: not found
    assert client.get("/rooms/hall").status_code == 404


@pytest.mark.parametrize(
    ("sites", "old_address"),
    [
        # a guard of site b sees one hall: the old address sends them on to it
        (("b",), "/sites/b/rooms/hall"),
        # a guard of site a likewise to theirs
        (("a",), "/sites/a/rooms/hall"),
    ],
)
def test_a_guard_sees_their_own_hall_only(
    client: FlaskClient, login: Callable, halls: dict, sites: tuple, old_address: str
) -> None:
    login(Role.GUARD, sites=sites)
    response = client.get("/rooms/hall")
    assert response.status_code == 302
    assert response.headers["Location"] == old_address
    other = "a" if sites == ("b",) else "b"
    assert client.get(f"/sites/{other}/rooms/hall").status_code == 404
    assert client.get(f"/api/v1/rooms/{other}%2Fhall/occupancy").status_code == 404
    assert client.get("/api/v1/rooms/hall/occupancy").get_json()["site"] == sites[0]  # theirs: unique to them


def test_live_messages_name_the_site_and_go_to_its_page_only(
    client: FlaskClient, login: Callable, halls: dict
) -> None:
    login(Role.GUARD, sites=("a",))
    seen = stream(client)
    assert seen, "site a's messages"
    assert {(data.get("site"), data.get("room")) for _kind, data in seen} == {("a", "hall")}
    assert [data["occupancy"] for kind, data in seen if kind == "occupancy"] == [2]  # never b's 1
    client.post("/logout")
    login(Role.SUPERVISOR, sites=("b",))
    seen = stream(client)
    assert {(data.get("site"), data.get("room")) for _kind, data in seen} == {("b", "hall")}
    assert {kind for kind, _data in seen} == {"occupancy", "alert"}


@pytest.mark.parametrize(
    ("room", "status", "answer"),
    [
        # a full name, its slash sent as %2F
        ("a%2Fhall", 200, {"site": "a", "room": "hall", "occupancy": 2}),
        # a full name, its slash as it is
        ("b/hall", 200, {"site": "b", "room": "hall", "occupancy": 1}),
        # a bare name two sites have: refused, naming them
        (
            "hall",
            400,
            {"error": "more than one site has a room 'hall' (a, b): name it as SITE/ROOM, e.g. a/hall"},
        ),
        # no such hall
        ("c%2Fhall", 404, {"error": "no room 'c/hall'"}),
    ],
)
def test_the_occupancy_api_takes_site_and_room(
    client: FlaskClient, login: Callable, halls: dict, room: str, status: int, answer: dict
) -> None:
    login(Role.ADMIN, sites=())
    response = client.get(f"/api/v1/rooms/{room}/occupancy")
    assert response.status_code == status, response.text
    assert answer.items() <= response.get_json().items()


@pytest.mark.parametrize(
    ("site", "room", "status", "occupancy"),
    [
        # its own room by its bare name: other sites' halls do not make it ambiguous for the station
        ("a", "hall", 200, 2),
        # ... and by its full name
        ("a", "a%2Fhall", 200, 2),
        # the other site's hall is not its to read
        ("a", "b%2Fhall", 403, None),
        # station b likewise
        ("b", "hall", 200, 1),
    ],
)
def test_a_station_reads_its_own_hall(
    client: FlaskClient, halls: dict, site: str, room: str, status: int, occupancy: int | None
) -> None:
    response = client.get(f"/api/v1/rooms/{room}/occupancy", headers=bearer(halls[site]))
    assert response.status_code == status, response.text
    if occupancy is not None:
        assert response.get_json()["occupancy"] == occupancy


@pytest.mark.parametrize(
    ("room", "status", "sites"),
    [
        # site a's hall: its two crossings
        ("a/hall", 200, ["a", "a"]),
        # the slash sent as %2F
        ("b%2Fhall", 200, ["b"]),
        # a bare name two sites have
        ("hall", 400, None),
        # a name that is none
        ("a/b/c", 400, None),
        # no such room: an empty list
        ("a/kitchen", 200, []),
    ],
)
def test_the_read_apis_room_filter_takes_site_and_room(
    client: FlaskClient, login: Callable, halls: dict, room: str, status: int, sites: list | None
) -> None:
    login(Role.ADMIN, sites=())
    response = client.get(f"/api/v1/crossings?room={room}")
    assert response.status_code == status, response.text
    if sites is None:
        assert response.get_json()["field"] == "room"
        return
    assert [item["site"] for item in response.get_json()["items"]] == sites


def test_the_alerts_filter_takes_site_and_room(client: FlaskClient, login: Callable, halls: dict) -> None:
    login(Role.ADMIN, sites=())
    fevers = {
        room: client.get(f"/alerts?room={room}").text.count('class="alert kind-fever ')
        for room in ("a/hall", "b/hall")
    }
    assert fevers == {"a/hall": 0, "b/hall": 1}
    response = client.get("/alerts?room=hall")
    assert response.status_code == 400
    assert "more than one site has a room" in response.text


@pytest.mark.parametrize(
    ("args", "code", "output"),
    [
        # a full name
        (["set-room", "a/hall", "--capacity", "20"], 0, "room a/hall: capacity 20, share 0.5, limit 10"),
        # a bare name two sites have: refused with the sites and how to say which
        (["set-room", "hall", "--capacity", "20"], 1, "more than one site has a room 'hall' (a, b)"),
        # a station in b's hall
        (["add-station", "gate-b2", "--room", "b/hall"], 0, None),
        # a station in "the" hall
        (["add-station", "gate-x", "--room", "hall"], 1, "name it as SITE/ROOM, e.g. a/hall"),
        # a third hall at a: taken
        (["add-room", "a", "hall", "--capacity", "5"], 1, "room 'a/hall' exists already"),
        # a hall at a new site
        (["add-room", "c", "hall", "--capacity", "5"], 0, "room hall in c: capacity 5, limit 2"),
    ],
)
def test_the_cli_takes_site_and_room(runner, halls: dict, args: list, code: int, output: str | None) -> None:
    result = runner.invoke(args)
    assert result.exit_code == code, result.output
    if output is not None:
        assert output in result.output


def test_settings_change_one_hall_only(app: Flask, client: FlaskClient, login: Callable, halls: dict) -> None:
    login(Role.SUPERVISOR, sites=("a", "b"))
    form = {"name": "Aula B", "capacity": "40", "share": "0.5"}
    assert client.post("/settings/sites/b/rooms/hall", data=form).status_code == 302
    assert client.get("/api/v1/rooms/b%2Fhall/occupancy").get_json()["limit"] == 20
    assert client.get("/api/v1/rooms/a%2Fhall/occupancy").get_json()["limit"] == 5
    settings = client.get("/settings/").text
    assert 'value="a/hall"' in settings  # the station form's rooms
    assert 'value="b/hall"' in settings
    response = client.post("/settings/stations", data={"name": "gate-y", "room": "hall"})
    assert response.status_code == 400
    assert "more than one site has a room" in response.text

"""API v1: ingest (idempotent, all-or-nothing), occupancy, health and the OpenAPI document."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_wire import bearer, correction, crossing, event, screening
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.db import new_session
from dashboard.models import Alert, Crossing, LiveEvent, QueueTicket, Role, Screening, Station


@pytest.fixture
def lobby(make_room: Callable[..., str], make_station: Callable[[str, str], str]) -> str:
    """A room of capacity 10 (limit 5) with one station; returns the station's token."""
    make_room("lobby", capacity_people=10)
    return make_station("gate-1", "lobby")


def post(client: FlaskClient, token: str, *events: dict) -> tuple[int, dict]:
    response = client.post("/api/v1/events", json={"events": list(events)}, headers=bearer(token))
    return response.status_code, response.get_json()


def occupancy(client: FlaskClient, token: str, room: str = "lobby") -> dict:
    response = client.get(f"/api/v1/rooms/{room}/occupancy", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.get_json()


def test_accepted_events_move_the_count(client: FlaskClient, lobby: str) -> None:
    status, body = post(client, lobby, crossing("in"), crossing("in"), crossing("out"), screening())
    assert (status, body) == (200, {"accepted": 4, "duplicates": 0})
    assert occupancy(client, lobby) == {
        "site": "kantor-pusat",
        "room": "lobby",
        "occupancy": 1,
        "limit": 5,
        "capacity": 10,
        "state": "open",
    }


def test_a_batch_sent_twice_changes_nothing_the_second_time(client: FlaskClient, lobby: str) -> None:
    batch = [crossing("in"), crossing("in"), screening()]
    assert post(client, lobby, *batch) == (200, {"accepted": 3, "duplicates": 0})
    assert post(client, lobby, *batch) == (200, {"accepted": 0, "duplicates": 3})
    # one new event beside two old ones
    assert post(client, lobby, batch[0], crossing("in"), batch[1]) == (200, {"accepted": 1, "duplicates": 2})
    assert occupancy(client, lobby)["occupancy"] == 3


def test_the_same_id_twice_in_one_batch_counts_once(client: FlaskClient, lobby: str) -> None:
    once = crossing("in")
    assert post(client, lobby, once, once) == (200, {"accepted": 1, "duplicates": 1})
    assert occupancy(client, lobby)["occupancy"] == 1


@pytest.mark.parametrize(
    "kind",
    [
        # a door crossing: the count moves once per station
        "crossing",
        # a screening: a row each
        "screening",
        # a guard's correction: the count moves once per station
        "correction",
        # a device's report
        "status",
    ],
)
def test_event_ids_are_unique_per_station_not_across_stations(
    app: Flask, client: FlaskClient, lobby: str, make_station: Callable[[str, str], str], kind: str
) -> None:
    other = make_station("gate-2", "lobby")
    same_id = "0b6f3a52-5a55-4c3e-9a55-1d9ad1e0c0de"
    built = {
        "crossing": lambda: crossing("in", event_id=same_id),
        "screening": lambda: screening(event_id=same_id),
        "correction": lambda: correction(event_id=same_id, delta=1),
        "status": lambda: event("status", event_id=same_id, device="camera", state="ok", detail=""),
    }[kind]
    assert post(client, lobby, built()) == (200, {"accepted": 1, "duplicates": 0})
    # another station reusing the id is another event
    assert post(client, other, built()) == (200, {"accepted": 1, "duplicates": 0})
    # a station resending its own id is the same event
    assert post(client, lobby, built()) == (200, {"accepted": 0, "duplicates": 1})
    assert post(client, other, built()) == (200, {"accepted": 0, "duplicates": 1})
    if kind in {"crossing", "correction"}:
        assert occupancy(client, lobby)["occupancy"] == 2


@pytest.mark.parametrize(
    ("bad_event", "field"),
    [
        # a direction that is neither in nor out
        (crossing("sideways"), "direction"),
        # no time zone on the timestamp
        (event("crossing", at="2026-11-28T08:00:00", direction="in"), "at"),
        # an id that is not a UUID
        (event("crossing", event_id="not-a-uuid", direction="in"), "id"),
        # an unknown event type
        (event("teleport"), "type"),
        # a correction with neither delta nor value
        (correction(), "delta"),
        # a field the schema does not have
        (crossing("in", colour="red"), "colour"),
    ],
)
def test_one_bad_event_rejects_the_whole_batch(
    client: FlaskClient, lobby: str, bad_event: dict, field: str
) -> None:
    status, body = post(client, lobby, crossing("in"), bad_event)
    assert status == 400
    assert body["field"].startswith("events[1]")
    assert body["field"].endswith(f".{field}")
    assert body["field"] in body["error"]
    assert occupancy(client, lobby)["occupancy"] == 0  # the good first event was not applied either


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # not JSON at all
        (b"<html>", "text/html"),
        # JSON, but broken
        (b'{"events": [', "application/json"),
        # JSON without the events list
        (b'{"crossing": 1}', "application/json"),
        # events is not a list
        (b'{"events": {}}', "application/json"),
    ],
)
def test_malformed_bodies_get_a_json_400(
    client: FlaskClient, lobby: str, body: bytes, content_type: str
) -> None:
    response = client.post("/api/v1/events", data=body, content_type=content_type, headers=bearer(lobby))
    assert response.status_code == 400
    assert response.is_json
    assert response.get_json()["error"]


def test_a_body_over_the_size_limit_gets_a_json_413(app: Flask, client: FlaskClient, lobby: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(
        "/api/v1/events",
        data=b'{"events": [' + b" " * 2000 + b"]}",
        content_type="application/json",
        headers=bearer(lobby),
    )
    assert response.status_code == 413
    assert response.get_json()["error"]


@pytest.mark.parametrize(
    "headers",
    [
        # no Authorization header
        {},
        # a token nobody was given
        bearer("made-up-token"),
        # the right scheme with an empty token
        {"Authorization": "Bearer "},
        # basic instead of bearer
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_posting_without_a_valid_token_is_refused(client: FlaskClient, lobby: str, headers: dict) -> None:
    response = client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=headers)
    assert response.status_code == 401
    assert "token" in response.get_json()["error"]
    assert occupancy(client, lobby)["occupancy"] == 0


def test_a_station_reads_only_its_own_room(
    client: FlaskClient, lobby: str, make_room: Callable[..., str], make_station: Callable[[str, str], str]
) -> None:
    make_room("loket", capacity_people=4)
    other = make_station("gate-2", "loket")
    response = client.get("/api/v1/rooms/lobby/occupancy", headers=bearer(other))
    assert response.status_code == 403
    assert "another room" in response.get_json()["error"]


def test_a_station_posts_into_its_own_room_only(
    client: FlaskClient, lobby: str, make_room: Callable[..., str], make_station: Callable[[str, str], str]
) -> None:
    make_room("loket", capacity_people=4)
    other = make_station("gate-2", "loket")
    post(client, other, crossing("in"))
    assert occupancy(client, other, "loket")["occupancy"] == 1
    assert occupancy(client, lobby)["occupancy"] == 0


def test_unknown_room_is_a_json_404(client: FlaskClient, lobby: str) -> None:
    response = client.get("/api/v1/rooms/<script>alert(1)</script>/occupancy", headers=bearer(lobby))
    assert response.status_code == 404
    assert response.is_json
    assert response.mimetype == "application/json"


def test_occupancy_needs_a_token_or_a_login(client: FlaskClient, lobby: str, login: Callable) -> None:
    assert client.get("/api/v1/rooms/lobby/occupancy").status_code == 401
    login(Role.GUARD)
    assert client.get("/api/v1/rooms/lobby/occupancy").get_json()["occupancy"] == 0


def test_an_exit_at_zero_is_recorded_but_moves_nothing(app: Flask, client: FlaskClient, lobby: str) -> None:
    # the exit arrives first (its entry was missed): the entries after it count from 0
    post(client, lobby, crossing("out"), crossing("in"), crossing("in"))
    assert occupancy(client, lobby)["occupancy"] == 2
    with new_session(app) as session:
        rows = session.execute(select(Crossing.direction, Crossing.counted, Crossing.occupancy_after)).all()
    assert sorted(rows) == [("in", True, 1), ("in", True, 2), ("out", False, 0)]


def test_every_door_of_a_room_adds_up(client: FlaskClient, lobby: str, make_station: Callable) -> None:
    second = make_station("gate-2", "lobby")
    post(client, lobby, crossing("in", door="north"), crossing("in", door="south"))
    post(client, second, crossing("in", door="east"), crossing("out", door="east"))
    assert occupancy(client, lobby)["occupancy"] == 2
    assert occupancy(client, second)["occupancy"] == 2


@pytest.mark.parametrize(
    ("before", "fix", "after"),
    [
        # add people the camera missed
        (2, {"delta": 3}, 5),
        # remove some
        (4, {"delta": -1}, 3),
        # removing more than are in stops at zero
        (1, {"delta": -5}, 0),
        # set the count outright
        (4, {"value": 7}, 7),
        # set it to zero
        (3, {"value": 0}, 0),
    ],
)
def test_corrections_change_the_count(
    client: FlaskClient, lobby: str, before: int, fix: dict, after: int
) -> None:
    post(client, lobby, *[crossing("in") for _ in range(before)])
    assert post(client, lobby, correction(**fix))[0] == 200
    assert occupancy(client, lobby)["occupancy"] == after


@pytest.mark.parametrize(
    ("capacity", "share", "inside", "limit", "state"),
    [
        # limit = floor(10 x 0.5) = 5; 3 of 5 is under 80 %
        (10, 0.5, 3, 5, "open"),
        # 4 of 5 is 80 %: near
        (10, 0.5, 4, 5, "near"),
        # at the limit: full
        (10, 0.5, 5, 5, "full"),
        # over it: still full
        (10, 0.5, 6, 5, "full"),
        # floor: 7 x 0.5 = 3.5 -> 3
        (7, 0.5, 0, 3, "open"),
        # exact arithmetic: 100 x 0.29 is 29, not 28.999...
        (100, 0.29, 0, 29, "open"),
        # the whole room
        (20, 1.0, 15, 20, "open"),
    ],
)
def test_state_against_the_limit(
    client: FlaskClient,
    make_room: Callable[..., str],
    make_station: Callable,
    capacity: int,
    share: float,
    inside: int,
    limit: int,
    state: str,
) -> None:
    make_room("aula", capacity_people=capacity, share=share)
    token = make_station("gate-a", "aula")
    if inside:
        post(client, token, correction(value=inside))
    body = occupancy(client, token, "aula")
    assert (body["occupancy"], body["limit"], body["capacity"], body["state"]) == (
        inside,
        limit,
        capacity,
        state,
    )


def alerts(app: Flask) -> list[str]:
    with new_session(app) as session:
        return sorted(session.execute(select(Alert.kind)).scalars())


@pytest.mark.parametrize(
    ("screened", "expected"),
    [
        # a normal visitor raises nothing
        (screening(body_c=36.6, mask="with_mask"), []),
        # fever on the first test
        (screening("retest", reason="fever", body_c=37.8, mask="with_mask"), ["fever"]),
        # fever again after the rest
        (screening("deny", reason="fever_retest", body_c=37.6, retest=True), ["fever_retest"]),
        # a temperature over the threshold, whatever the reason says
        (screening("allow", body_c=37.3, temperature_policy="soft"), ["fever"]),
        # no mask
        (screening("deny", reason="no_mask", mask="without_mask"), ["no_mask"]),
        # a mask below the nose, allowed by a soft policy
        (screening("allow", mask="incorrect", mask_policy="soft"), ["no_mask"]),
        # both at once
        (screening("deny", reason="fever", body_c=38.0, mask="without_mask"), ["fever", "no_mask"]),
    ],
)
def test_screenings_raise_alerts(
    app: Flask, client: FlaskClient, lobby: str, screened: dict, expected: list
) -> None:
    assert post(client, lobby, screened)[0] == 200
    assert alerts(app) == expected
    with new_session(app) as session:
        stored = session.execute(select(Screening)).scalar_one()
    assert stored.decision == screened["decision"]
    assert stored.body_c == screened.get("body_c")


def test_going_over_the_limit_alerts_once(app: Flask, client: FlaskClient, lobby: str) -> None:
    post(client, lobby, *[crossing("in") for _ in range(5)])
    assert alerts(app) == []
    post(client, lobby, crossing("in"), crossing("in"))  # 6 and 7 of limit 5
    assert alerts(app) == ["over_limit"]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # a correction straight to 999 in a room of limit 5
        ([correction(value=999)], ["over_limit"]),
        # a correction by +2 from 5 takes it to 7
        ([*[crossing("in") for _ in range(5)], correction(delta=2)], ["over_limit"]),
        # set to 7, then crossings further up: still the same excursion, one alert
        ([correction(value=7), crossing("in"), crossing("in")], ["over_limit"]),
        # over, back to the limit by exits, over again: two excursions, two alerts
        ([correction(value=6), crossing("out"), crossing("in")], ["over_limit", "over_limit"]),
        # over, still above after an exit, up again: one excursion
        ([correction(value=8), crossing("out"), crossing("in")], ["over_limit"]),
        # over, corrected back to the limit, over by a crossing: two
        ([correction(value=9), correction(value=5), crossing("in")], ["over_limit", "over_limit"]),
        # up to the limit exactly: none
        ([correction(value=5)], []),
    ],
)
def test_any_count_above_the_limit_alerts_once_until_it_falls_back(
    app: Flask, client: FlaskClient, lobby: str, events: list, expected: list
) -> None:
    for one in events:  # one batch each, as a station ships them over time
        assert post(client, lobby, one)[0] == 200
    assert alerts(app) == expected


def test_queue_tickets_follow_their_events(app: Flask, client: FlaskClient, lobby: str) -> None:
    post(
        client,
        lobby,
        event("queue", ticket=1, action="issued"),
        event("queue", ticket=2, action="issued"),
        event("queue", ticket=1, action="called"),
        event("queue", ticket=1, action="served"),
    )
    with new_session(app) as session:
        tickets = session.execute(select(QueueTicket.ticket, QueueTicket.status)).all()
    assert sorted(tickets) == [(1, "served"), (2, "issued")]


_HOUR_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
_QUEUE_STEPS = {  # ticket 7's life at the door, a minute a step
    step: (_HOUR_AGO + timedelta(minutes=minute)).isoformat()
    for minute, step in enumerate(["issued", "called", "served"])
}


@pytest.mark.parametrize(
    "order",
    [
        # in order
        ["issued", "called", "served"],
        # the call arrives before the issue (another station's journal shipped first)
        ["called", "issued", "served"],
        # the end first: the earlier steps must not take it back
        ["served", "issued", "called"],
        ["served", "called", "issued"],
        ["issued", "served", "called"],
        ["called", "served", "issued"],
    ],
)
@pytest.mark.parametrize("batched", [True, False], ids=["one-batch", "a-batch-each"])
def test_out_of_order_queue_events_leave_one_ticket_in_its_latest_state(
    app: Flask, client: FlaskClient, lobby: str, order: list[str], batched: bool
) -> None:
    events = [event("queue", at=_QUEUE_STEPS[step], ticket=7, action=step) for step in order]
    if batched:
        assert post(client, lobby, *events)[0] == 200
    else:
        for one in events:
            assert post(client, lobby, one)[0] == 200
    with new_session(app) as session:
        tickets = session.execute(select(QueueTicket.ticket, QueueTicket.status, QueueTicket.issued_at)).all()
    assert [(t.ticket, t.status, t.issued_at.isoformat()) for t in tickets] == [
        (7, "served", _QUEUE_STEPS["issued"])
    ]


@pytest.mark.parametrize(
    ("step", "minute"),
    [
        # a no-show at the same moment as the call: the later step wins
        ("no_show", 1),
        # a late cancellation after the service is the later event: it wins
        ("cancelled", 5),
    ],
)
def test_a_ticket_takes_the_later_event_then_the_later_step(
    app: Flask, client: FlaskClient, lobby: str, step: str, minute: int
) -> None:
    at = (_HOUR_AGO + timedelta(minutes=minute)).isoformat()
    post(
        client,
        lobby,
        event("queue", at=at, ticket=7, action=step),
        event("queue", at=_QUEUE_STEPS["called"], ticket=7, action="called"),
        event("queue", at=_QUEUE_STEPS["issued"], ticket=7, action="issued"),
    )
    with new_session(app) as session:
        assert session.execute(select(QueueTicket.status)).scalars().all() == [step]


def test_the_same_ticket_number_on_another_day_is_another_ticket(
    app: Flask, client: FlaskClient, lobby: str
) -> None:
    yesterday, today = _HOUR_AGO - timedelta(days=1), _HOUR_AGO
    post(
        client,
        lobby,
        event("queue", at=yesterday.isoformat(), ticket=1, action="issued"),
        event("queue", at=today.isoformat(), ticket=1, action="issued"),
        event("queue", at=(yesterday + timedelta(minutes=5)).isoformat(), ticket=1, action="served"),
        event("queue", at=(today + timedelta(minutes=1)).isoformat(), ticket=1, action="called"),
    )
    with new_session(app) as session:
        tickets = session.execute(
            select(QueueTicket.status, QueueTicket.issued_at).order_by(QueueTicket.issued_at)
        ).all()
    assert [(status, at.isoformat()) for status, at in tickets] == [
        ("served", yesterday.isoformat()),
        ("called", today.isoformat()),
    ]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # a queue change tells the open queue pages, once per batch
        ([event("queue", ticket=1, action="issued"), event("queue", ticket=2, action="issued")], ["queue"]),
        # a crossing tells the room's figures, not the queue
        ([crossing("in")], ["occupancy"]),
        # a device's state tells the stations' health, once per batch
        (
            [
                event("status", device="camera", state="online"),
                event("status", device="beams", state="online"),
            ],
            ["station"],
        ),
    ],
)
def test_queue_and_device_changes_reach_the_live_stream(
    app: Flask, client: FlaskClient, lobby: str, events: list[dict], expected: list[str]
) -> None:
    assert post(client, lobby, *events)[0] == 200
    with new_session(app) as session:
        kinds = session.execute(select(LiveEvent.kind).order_by(LiveEvent.id)).scalars().all()
        rooms = [json.loads(p)["room"] for p in session.execute(select(LiveEvent.payload)).scalars()]
    assert kinds == expected
    assert rooms == ["lobby"]


def test_a_queue_batch_sent_again_tells_the_pages_nothing_new(
    app: Flask, client: FlaskClient, lobby: str
) -> None:
    batch = [event("queue", ticket=1, action="issued"), event("status", device="camera", state="online")]
    assert post(client, lobby, *batch) == (200, {"accepted": 2, "duplicates": 0})
    assert post(client, lobby, *batch) == (200, {"accepted": 0, "duplicates": 2})
    with new_session(app) as session:
        kinds = session.execute(select(LiveEvent.kind).order_by(LiveEvent.id)).scalars().all()
    assert kinds == ["queue", "station"]  # in the batch's transaction, once


def test_any_event_marks_the_station_seen(app: Flask, client: FlaskClient, lobby: str) -> None:
    post(client, lobby, event("status", device="thermometer", state="offline", detail="unplugged"))
    with new_session(app) as session:
        assert session.execute(select(Station.last_seen_at)).scalar_one() is not None


def test_concurrent_doors_stay_exact(app: Flask, lobby: str, make_station: Callable) -> None:
    tokens = [lobby, *(make_station(f"gate-{n}", "lobby") for n in range(2, 5))]
    errors: list[BaseException] = []

    def send(token: str, direction: str) -> None:
        try:
            client = app.test_client()
            for _ in range(10):
                status, _body = post(client, token, *[crossing(direction) for _ in range(3)])
                assert status == 200
        except BaseException as err:
            errors.append(err)

    for direction, expected in (("in", 120), ("out", 0)):
        threads = [threading.Thread(target=send, args=(token, direction)) for token in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert occupancy(app.test_client(), lobby)["occupancy"] == expected


def test_health_and_openapi_are_public(client: FlaskClient) -> None:
    assert client.get("/api/v1/health").get_json()["status"] == "ok"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/events", "/rooms/{room}/occupancy", "/health"} <= set(spec["paths"])


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        # no such endpoint
        ("GET", "/api/v1/nothing-here", 404),
        # events are posted, not read
        ("GET", "/api/v1/events", 405),
    ],
)
def test_api_errors_are_json(client: FlaskClient, method: str, path: str, status: int) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.get_json()["error"]


def test_the_openapi_document_matches_the_wire_schema(client: FlaskClient) -> None:
    from dataclasses import fields

    from station.events import EVENT_CLASSES

    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for event_type, cls in EVENT_CLASSES.items():
        schema = schemas[cls.__name__]
        assert schema["properties"]["type"] == {"const": str(event_type)}
        assert set(schema["properties"]) == {"type"} | {f.name for f in fields(cls)}, cls.__name__


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # a lone surrogate: valid JSON, not valid Unicode (a reason typed at the kiosk was enough)
        ("reason", "\ud800"),
        # a lone low surrogate inside other text
        ("reason", "tamu \udfff lupa masker"),
        # in the correction's author
        ("by", "pak \ud83d"),
    ],
)
def test_text_that_is_not_unicode_is_a_400_not_a_500(
    client: FlaskClient, lobby: str, field: str, value: str
) -> None:
    status, body = post(client, lobby, correction(delta=1, **{field: value}))
    assert status == 400, body
    assert "not valid Unicode" in body["error"]
    assert client.get("/api/v1/health").status_code == 200


@pytest.mark.parametrize(
    ("fix", "field"),
    [
        # a count set past any room (the 32-bit column would overflow later)
        ({"value": 2_147_483_647}, "value"),
        # a jump up by more than any room holds
        ({"delta": 1_000_001}, "delta"),
        # or down
        ({"delta": -5_000_000}, "delta"),
    ],
)
def test_corrections_beyond_any_room_are_a_400(
    client: FlaskClient, lobby: str, fix: dict, field: str
) -> None:
    status, body = post(client, lobby, correction(**fix))
    assert status == 400
    assert body["field"].endswith(f".{field}")
    assert occupancy(client, lobby)["occupancy"] == 0


def test_no_run_of_corrections_and_crossings_overflows_the_count(client: FlaskClient, lobby: str) -> None:
    # 2,400 of the largest corrections (2.4 billion, past a 32-bit column): the count stops at the
    # ceiling, and crossings still work
    for _ in range(6):
        assert post(client, lobby, *[correction(delta=1_000_000) for _ in range(400)])[0] == 200
    assert occupancy(client, lobby)["occupancy"] == 1_000_000
    assert post(client, lobby, crossing("out"))[0] == 200
    assert occupancy(client, lobby)["occupancy"] == 999_999
    assert post(client, lobby, crossing("in"), crossing("in"))[0] == 200  # the second stops at the ceiling
    assert occupancy(client, lobby)["occupancy"] == 1_000_000

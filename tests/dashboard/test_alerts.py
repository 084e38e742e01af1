"""Alerts a person can handle: severity, grouping, filters, bulk acknowledgement, device health, sound."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_wire import bearer, crossing, event, screening
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard import jobs
from dashboard.alerts import AlertGroup, Severity, group, parse_ids
from dashboard.db import new_session
from dashboard.models import Alert, AuditEntry, Role, Station
from dashboard.words import MessageError

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def alerts(*specs: tuple[str, int, float]) -> list[Alert]:
    """Alerts from (kind, station id, minutes after T0), returned newest first as the pages read them."""
    made = [
        Alert(
            id=number, kind=kind, room_id=1, station_id=station, at=T0 + timedelta(minutes=minutes), detail=""
        )
        for number, (kind, station, minutes) in enumerate(specs, start=1)
    ]
    return sorted(made, key=lambda alert: alert.at, reverse=True)


def shape(groups: list[AlertGroup]) -> list[tuple[str, int | None, int]]:
    return [(g.kind, g.alerts[0].station_id, g.count) for g in groups]


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        # ten no-mask refusals at one door in ten minutes: one line with a count
        ([("no_mask", 1, m) for m in range(10)], [("no_mask", 1, 10)]),
        # the same ten at two doors: a line per door
        ([("no_mask", 1 + m % 2, m) for m in range(10)], [("no_mask", 2, 5), ("no_mask", 1, 5)]),
        # eleven minutes apart: two lines
        ([("no_mask", 1, 0), ("no_mask", 1, 11)], [("no_mask", 1, 1), ("no_mask", 1, 1)]),
        # a fever outranks no-mask refusals that came after it
        ([("fever", 1, 0), ("no_mask", 1, 1), ("no_mask", 1, 2)], [("fever", 1, 1), ("no_mask", 1, 2)]),
        # over the limit too; a silent station ranks with no-mask, newest first among equals
        (
            [("station_silent", 2, 5), ("no_mask", 1, 1), ("over_limit", 1, 0)],
            [("over_limit", 1, 1), ("station_silent", 2, 1), ("no_mask", 1, 1)],
        ),
        # kinds never merge
        ([("fever", 1, 0), ("fever_retest", 1, 1)], [("fever_retest", 1, 1), ("fever", 1, 1)]),
    ],
)
def test_alerts_group_by_kind_door_and_ten_minutes(specs: list, expected: list) -> None:
    assert shape(group(alerts(*specs))) == expected


@pytest.mark.parametrize(
    ("kind", "severity"),
    [
        # a fever, at first or again at the re-test, and a full room are the urgent ones
        ("fever", Severity.HIGH),
        ("fever_retest", Severity.HIGH),
        ("over_limit", Severity.HIGH),
        # then a missing mask and a silent station
        ("no_mask", Severity.MEDIUM),
        ("station_silent", Severity.MEDIUM),
        # refused data waits for a technician
        ("events_set_aside", Severity.LOW),
    ],
)
def test_severity(kind: str, severity: Severity) -> None:
    assert group(alerts((kind, 1, 0)))[0].severity is severity


@pytest.mark.parametrize(
    ("values", "ids"),
    [
        # one checkbox per line, a line may stand for several alerts
        (["3,1", "2"], [1, 2, 3]),
        # repeated ids count once
        (["4", "4,4"], [4]),
    ],
)
def test_parse_ids(values: list[str], ids: list[int]) -> None:
    assert parse_ids(values) == ids


@pytest.mark.parametrize(
    "values",
    [
        [],  # nothing chosen
        ["1,x"],  # not a number
        ["-1"],  # not an id
    ],
)
def test_parse_ids_refuses(values: list[str]) -> None:
    with pytest.raises(MessageError):
        parse_ids(values)


def post(client: FlaskClient, token: str, *events: dict) -> None:
    response = client.post("/api/v1/events", json={"events": list(events)}, headers=bearer(token))
    assert response.status_code == 200, response.text


@pytest.fixture
def doors(make_room: Callable[..., str], make_station: Callable[[str, str], str]) -> dict[str, str]:
    make_room("lobby", capacity_people=4)
    make_room("gudang", capacity_people=4, site="cabang")
    return {"gate-1": make_station("gate-1", "lobby"), "back-1": make_station("back-1", "gudang")}


@pytest.fixture
def supervisor(login: Callable[..., FlaskClient], doors: dict[str, str]) -> FlaskClient:
    return login(Role.SUPERVISOR, sites=("kantor-pusat", "cabang"))  # a supervisor of both sites


def test_alerts_page_groups_ranks_and_names_the_zone(client: FlaskClient, doors, supervisor) -> None:
    post(
        client,
        doors["gate-1"],
        *[screening("deny", reason="no_mask", mask="without_mask") for _ in range(10)],
    )
    post(client, doors["gate-1"], screening("retest", reason="fever", body_c=38.0))
    page = client.get("/alerts").text
    rows = re.findall(r'<tr class="alert kind-(\w+) severity-(\w+)', page)
    assert rows == [("fever", "high"), ("no_mask", "medium")]
    assert "× 10" in page
    assert "WIB</time>" in page  # the dashboard's zone, named


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        # every open alert, both sites
        ("", {"no_mask", "over_limit"}),
        # one kind
        ("?kind=over_limit", {"over_limit"}),
        # one room, one site
        ("?room=gudang", {"over_limit"}),
        ("?site=kantor-pusat", {"no_mask"}),
        # acknowledged ones only: none yet
        ("?state=acknowledged", set()),
    ],
)
def test_alert_filters(client: FlaskClient, doors, supervisor, query: str, kinds: set[str]) -> None:
    post(client, doors["gate-1"], screening("deny", reason="no_mask", mask="without_mask"))
    post(client, doors["back-1"], *[crossing("in") for _ in range(3)])  # limit 2: over
    page = client.get(f"/alerts{query}").text
    assert set(re.findall(r'<tr class="alert kind-(\w+)', page)) == kinds


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # a kind that does not exist
        ("?kind=nope", "no such kind of alert: &#39;nope&#39;"),
        # a state that does not exist
        ("?state=closed", "no such state of alerts: &#39;closed&#39;"),
    ],
)
def test_bad_alert_filters_get_a_message(client: FlaskClient, supervisor, query: str, message: str) -> None:
    response = client.get(f"/alerts{query}")
    assert response.status_code == 400
    assert message in response.text


def test_bulk_acknowledge_with_a_note_is_audited(app: Flask, client: FlaskClient, doors, supervisor) -> None:
    post(
        client, doors["gate-1"], *[screening("deny", reason="no_mask", mask="without_mask") for _ in range(3)]
    )
    post(client, doors["back-1"], *[crossing("in") for _ in range(3)])
    page = client.get("/alerts").text
    lines = re.findall(r'name="ids" value="([\d,]+)"', page)
    assert len(lines) == 2
    assert len(lines[1].split(",")) == 3
    response = client.post("/alerts/ack", data={"ids": lines, "note": "  told the guard\nto check masks "})
    assert response.status_code == 302
    with new_session(app) as session:
        rows = session.execute(select(Alert.acknowledged_by, Alert.acknowledged_note)).all()
        assert set(rows) == {("user-supervisor", "told the guard to check masks")}
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "acknowledge")).scalar_one()
        assert "note: told the guard to check masks" in entry.detail
    page = client.get("/alerts?state=acknowledged").text
    assert "told the guard to check masks" in page
    assert client.get("/alerts?state=open").text.count('name="ids"') == 0


def test_a_lines_own_button_acknowledges_only_that_line(
    app: Flask, client: FlaskClient, doors, supervisor
) -> None:
    post(client, doors["gate-1"], screening("deny", reason="no_mask", mask="without_mask"))
    post(client, doors["back-1"], *[crossing("in") for _ in range(3)])
    lines = re.findall(r'name="ids" value="([\d,]+)"', client.get("/alerts").text)
    # both ticked, the first line's own button pressed
    assert client.post(f"/alerts/ack?only={lines[0]}", data={"ids": lines}).status_code == 302
    with new_session(app) as session:
        assert session.execute(select(Alert.kind).where(Alert.acknowledged_at.is_(None))).scalars().all() == [
            "no_mask"
        ]


@pytest.mark.parametrize(
    "data",
    [
        {},  # nothing chosen
        {"ids": "1,abc"},  # not an id
    ],
)
def test_bulk_acknowledge_refuses_bad_input(client: FlaskClient, supervisor, data: dict) -> None:
    response = client.post("/alerts/ack", data=data)
    assert response.status_code == 400
    assert 'role="alert"' in response.text


def test_device_health_lists_offline_stations_and_failing_parts(
    app: Flask, client: FlaskClient, doors, supervisor
) -> None:
    post(
        client,
        doors["gate-1"],
        event("status", device="thermometer", state="offline", detail="unplugged"),
        event("status", device="camera", state="online"),
        event("status", device="uplink", state="set_aside", detail="2 events refused"),
    )
    post(client, doors["back-1"], event("status", device="beams", state="online"))
    with new_session(app) as session:  # back-1 last heard an hour ago
        back = session.execute(select(Station).where(Station.name == "back-1")).scalar_one()
        back.last_seen_at = datetime.now(UTC) - timedelta(hours=1)
        session.commit()
        jobs.check_silent(session, app.config["STATION_SILENT_S"])
    page = client.get("/alerts").text
    health = page[page.index('id="health"') :]
    rows = re.findall(r'<tr class="station( offline)?( failing)?" data-station="([\w-]+)"', health)
    assert rows == [(" offline", "", "back-1"), ("", " failing", "gate-1")]
    assert "thermometer: offline" in health
    assert "(unplugged)" in health
    assert "upload to the dashboard: data set aside" in health
    assert "camera: working" in health


def test_overview_lists_the_latest_lines_and_links_to_all(client: FlaskClient, doors, supervisor) -> None:
    # twelve over-limit alerts, each its own line (one an hour apart is not a repeat)
    start = datetime.now(UTC) - timedelta(hours=13)
    for hour in range(12):
        at = (start + timedelta(hours=hour)).isoformat()
        post(
            client,
            doors["back-1"],
            *[event("crossing", direction="in", door="main", at=at) for _ in range(3)],
        )
        post(
            client,
            doors["back-1"],
            *[event("crossing", direction="out", door="main", at=at) for _ in range(3)],
        )
    page = client.get("/").text
    assert page.count('<li class="alert kind-over_limit') == 10
    assert "All 12 open alerts" in page
    assert 'href="/alerts?state=open"' in page


@pytest.mark.parametrize(
    ("choice", "status", "sound"),
    [
        # off, and the page says so to its script
        ("off", 302, "off"),
        # and on again
        ("on", 302, "on"),
        # anything else is refused
        ("loud", 400, "on"),
    ],
)
def test_sound_is_a_stored_choice(
    client: FlaskClient, supervisor, choice: str, status: int, sound: str
) -> None:
    response = client.post("/account/sound", data={"sound": choice, "next": "/alerts"})
    assert response.status_code == status
    assert f'data-sound="{sound}"' in client.get("/").text


def test_the_overview_says_when_stations_need_attention(client: FlaskClient, doors, supervisor) -> None:
    post(client, doors["gate-1"], event("status", device="camera", state="error", detail="no frames"))
    post(client, doors["back-1"], event("status", device="camera", state="online"))
    page = client.get("/").text
    assert '<a id="attention" class="bad" href="/alerts#health">1 station needs attention</a>' in page

"""Every rule in the URL map demands its role: anonymous and wrong-role requests are refused.

The walk is over ``app.url_map`` itself, so a view added without a guard fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from dashboard_wire import bearer, correction, crossing, event, screening
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from dashboard.api import TOKEN_ATTR
from dashboard.auth import PUBLIC_ATTR, ROLE_ATTR
from dashboard.db import get_engine, new_session
from dashboard.models import Alert, AuditEntry, LiveEvent, Role, Room

# Sample values for URL parameters, by name.
SAMPLES = {
    "room": "lobby",
    "site": "kantor-pusat",
    "alert_id": 1,
    "username": "user-guard",
    "filename": "live.js",
    "station": "gate-1",
}
# Open to everyone on purpose.
# /metrics: for Prometheus, behind GERBANG_METRICS_TOKEN when set (tests/dashboard/test_metrics.py).
PUBLIC = {"auth.login", "api.health", "api.openapi", "static", "metrics.metrics_page"}
# Authenticated by a station token (or, for reading occupancy, also a login).
TOKEN = {"api.post_events", "api.room_occupancy"}
# Destructive actions asked first: a POST without confirm=yes only shows the question (dashboard.confirm).
CONFIRMED = {"confirm": "yes"}
TWO_STEP = {
    # revoking a station
    "settings.revoke_station": ({}, Role.SUPERVISOR),
    # a station's new token (the old one stops working)
    "settings.rotate_token": ({}, Role.SUPERVISOR),
    # disabling a user
    "settings.update_user": ({"role": "guard", "locale": "en", "active": "0"}, Role.ADMIN),
}
# Old addresses that send the user on (302) to where the page is now; followed where a page is read.
# /rooms/<room>: the room page before rooms were named per site (/sites/<site>/rooms/<room>).
REDIRECTS = {"ui.old_room_page"}


def rules(app: Flask) -> list[tuple[Rule, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


def url(rule: Rule) -> str:
    return rule.build({name: SAMPLES[name] for name in rule.arguments})[1]


def required_role(app: Flask, endpoint: str) -> Role | None:
    return getattr(app.view_functions[endpoint], ROLE_ATTR, None)


def test_every_view_declares_who_may_call_it(app: Flask) -> None:
    for rule, _method in rules(app):
        view = app.view_functions[rule.endpoint]
        declared = [
            getattr(view, ROLE_ATTR, None) is not None,
            getattr(view, PUBLIC_ATTR, False) or rule.endpoint == "static",
            getattr(view, TOKEN_ATTR, False),
        ]
        assert sum(declared) == 1, (
            f"{rule.endpoint} must have exactly one of require_role, public, station_token"
        )
        if rule.endpoint in PUBLIC:
            assert declared[1], rule.endpoint
        if rule.endpoint in TOKEN:
            assert declared[2], rule.endpoint


def test_anonymous_requests_are_refused_everywhere_but_the_public_views(
    app: Flask, client: FlaskClient
) -> None:
    checked = 0
    for rule, method in rules(app):
        if rule.endpoint in PUBLIC:
            continue
        response = client.open(url(rule), method=method)
        checked += 1
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], rule.endpoint
        else:
            assert response.status_code == 401, (rule.endpoint, method, response.status_code)
    assert checked >= 20


@pytest.mark.parametrize(
    "role",
    [
        # a guard may see the overview, rooms and queue, nothing a supervisor manages
        Role.GUARD,
        # a supervisor manages rooms and stations, not users
        Role.SUPERVISOR,
    ],
)
def test_wrong_roles_get_403(
    app: Flask, client: FlaskClient, login: Callable[[Role], FlaskClient], make_room: Callable, role: Role
) -> None:
    make_room("lobby")
    login(role)
    refused = 0
    for rule, method in rules(app):
        needed = required_role(app, rule.endpoint)
        if needed is None or role.rank >= needed.rank:
            continue
        # both steps of a two-step action (dashboard.confirm): the question is refused as well
        for form in ({}, CONFIRMED) if method == "POST" else ({},):
            response = client.open(url(rule), method=method, data=form)
            assert response.status_code == 403, (rule.endpoint, method, form, response.status_code)
        refused += 1
    assert refused >= (9 if role is Role.GUARD else 3)


def test_a_login_is_no_station_token(client: FlaskClient, login: Callable[[Role], FlaskClient]) -> None:
    login(Role.ADMIN)
    response = client.post("/api/v1/events", json={"events": []})
    assert response.status_code == 401


def test_the_right_role_gets_in(
    app: Flask, client: FlaskClient, login: Callable[[Role], FlaskClient], make_room: Callable
) -> None:
    make_room("lobby")
    login(Role.ADMIN)
    for rule, method in rules(app):
        if method != "GET" or rule.endpoint in PUBLIC | TOKEN | {"live.events"}:
            continue
        response = client.get(url(rule), follow_redirects=rule.endpoint in REDIRECTS)
        assert response.status_code == 200, (rule.endpoint, response.status_code, response.text[:300])


@pytest.mark.parametrize("endpoint", sorted(TWO_STEP))
def test_two_step_actions_only_ask_without_confirm(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], FlaskClient],
    make_room: Callable,
    make_station: Callable,
    make_user: Callable,
    endpoint: str,
) -> None:
    make_room("lobby")
    make_station("gate-1", "lobby")
    make_user("user-guard", Role.GUARD)
    form, role = TWO_STEP[endpoint]
    login(role)
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint and "POST" in r.methods]
    before = audit_actions(app)
    response = client.post(url(rule), data=form)
    assert response.status_code == 200, (endpoint, response.status_code)
    assert '<input type="hidden" name="confirm" value="yes">' in response.text
    assert audit_actions(app) == before  # nothing done, nothing audited
    assert client.post(url(rule), data={**form, **CONFIRMED}).status_code in (200, 302)
    assert len(audit_actions(app)) == len(before) + 1


def audit_actions(app: Flask) -> list[str]:
    with new_session(app) as session:
        return list(session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


# --- Sites kept apart (issue 13, finding 10) ----------------------------------------------------
# Two sites: the user's (kantor-pusat: room lobby, station gate-1) and another (cabang: room gudang,
# station gate-9). What is the other site's must not show, and its URLs are answered 404.
OTHER_MARKS = ("gudang", "gate-9", "39.4")  # its room, its station, its visitor's temperature
# A chart's drawing numbers (an SVG coordinate can be 39.4 by chance, as the time of day moves the curve)
GEOMETRY = re.compile(r'\s(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height|d|points|viewBox)="[^"]*"')
OWN = {"room": "lobby", "site": "kantor-pusat", "station": "gate-1"}
OTHER = {"room": "gudang", "site": "cabang", "station": "gate-9"}
SITE_PARAMS = {"room", "site", "station", "alert_id"}


@pytest.fixture
def two_sites(app: Flask, client: FlaskClient, make_room: Callable, make_station: Callable) -> dict:
    """Both sites with a fever each (alerts), crossings, a correction and a status; their alert ids."""
    make_room("lobby")
    make_room("gudang", site="cabang")
    tokens = {"lobby": make_station("gate-1", "lobby"), "gudang": make_station("gate-9", "gudang")}
    for room, body_c in (("lobby", 38.2), ("gudang", 39.4)):
        events = [
            crossing("in"),
            screening("deny", reason="fever", body_c=body_c),
            correction(delta=1),
            event("status", device="thermometer", state="offline", detail="unplugged"),
        ]
        response = client.post("/api/v1/events", json={"events": events}, headers=bearer(tokens[room]))
        assert response.status_code == 200, response.text
    with new_session(app) as session:
        alert_ids = {
            room: session.execute(
                select(Alert.id).join(Room, Alert.room_id == Room.id).where(Room.slug == room)
            )
            .scalars()
            .first()
            for room in ("lobby", "gudang")
        }
    return {
        "own": {**OWN, "alert_id": alert_ids["lobby"]},
        "other": {**OTHER, "alert_id": alert_ids["gudang"]},
    }


def site_url(rule: Rule, samples: dict) -> str:
    values = {name: samples.get(name, SAMPLES.get(name)) for name in rule.arguments}
    return rule.build(values)[1]


def readable(app: Flask, role: Role) -> list[Rule]:
    """The GET views ``role`` may open (the live stream and token views have their own tests)."""
    found = []
    for rule, method in rules(app):
        needed = required_role(app, rule.endpoint)
        if (
            method == "GET"
            and needed is not None
            and role.rank >= needed.rank
            and rule.endpoint != "live.events"
        ):
            found.append(rule)
    return found


@pytest.mark.parametrize(
    "role",
    [
        # a guard of kantor-pusat: its overview, rooms and queue, nothing of cabang
        Role.GUARD,
        # a supervisor of kantor-pusat: also its alerts, screenings, reports, exports and settings
        Role.SUPERVISOR,
    ],
)
def test_each_page_shows_only_the_users_sites(
    app: Flask, client: FlaskClient, login: Callable, two_sites: dict, role: Role
) -> None:
    login(role, sites=("kantor-pusat",))
    checked = 0
    for rule in readable(app, role):
        response = client.get(site_url(rule, two_sites["own"]), follow_redirects=rule.endpoint in REDIRECTS)
        assert response.status_code == 200, (rule.endpoint, response.status_code)
        shown = GEOMETRY.sub("", response.text)
        for mark in OTHER_MARKS:
            assert mark not in shown, (rule.endpoint, mark)
        checked += 1
    assert checked >= (3 if role is Role.GUARD else 10)


@pytest.mark.parametrize(
    "role",
    [
        # a guard of kantor-pusat asking for cabang's room by name
        Role.GUARD,
        # a supervisor of kantor-pusat asking for cabang's room, report, station and alert
        Role.SUPERVISOR,
    ],
)
def test_the_other_sites_things_are_not_found(
    app: Flask, client: FlaskClient, login: Callable, two_sites: dict, role: Role
) -> None:
    login(role, sites=("kantor-pusat",))
    checked = 0
    for rule, method in rules(app):
        needed = required_role(app, rule.endpoint)
        if needed is None or role.rank < needed.rank or not SITE_PARAMS & set(rule.arguments):
            continue
        # a two-step action on the other site's things: not found at either step
        for form in ({}, CONFIRMED) if method == "POST" else ({},):
            response = client.open(site_url(rule, two_sites["other"]), method=method, data=form)
            assert response.status_code == 404, (rule.endpoint, method, form, response.status_code)
        checked += 1
    assert checked >= (1 if role is Role.GUARD else 6)
    # the API's occupancy read with a login
    assert client.get("/api/v1/rooms/gudang/occupancy").status_code == 404
    assert client.get("/api/v1/rooms/lobby/occupancy").status_code == 200


def test_an_admin_sees_every_site(app: Flask, client: FlaskClient, login: Callable, two_sites: dict) -> None:
    login(Role.ADMIN, sites=())
    for rule in readable(app, Role.ADMIN):
        for samples in (two_sites["own"], two_sites["other"]):
            response = client.get(site_url(rule, samples), follow_redirects=rule.endpoint in REDIRECTS)
            assert response.status_code == 200, (rule.endpoint, response.status_code)
    overview = client.get("/").text
    assert "gudang" in overview
    assert "lobby" in overview
    assert "39.4" in client.get("/screenings.csv").text


@pytest.mark.parametrize(
    ("role", "sites", "rooms_seen"),
    [
        # a guard of kantor-pusat: the replay and the stream carry lobby's messages only
        (Role.GUARD, ("kantor-pusat",), {"lobby"}),
        # a supervisor of both sites sees both
        (Role.SUPERVISOR, ("kantor-pusat", "cabang"), {"lobby", "gudang"}),
        # a guard of no site sees nothing
        (Role.GUARD, (), set()),
        # an admin sees every site without belonging to one
        (Role.ADMIN, (), {"lobby", "gudang"}),
    ],
)
def test_the_live_replay_carries_only_the_users_sites(
    client: FlaskClient, login: Callable, two_sites: dict, role: Role, sites: tuple, rooms_seen: set
) -> None:
    login(role, sites=sites)
    body = client.get("/live/stream?after=0").get_data(as_text=True)
    data = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert {message.get("room") for message in data} == rooms_seen
    if "gudang" not in rooms_seen:
        assert all(mark not in body for mark in OTHER_MARKS)


def test_the_live_stream_on_the_event_loop_keeps_sites_apart(
    app: Flask, client: FlaskClient, login: Callable, two_sites: dict
) -> None:
    from dashboard.livestream import catch_up
    from dashboard.scope import StreamStart

    # the replay of the event-loop server (dashboard.livestream) filters with the same rule
    start = StreamStart(0, rooms=frozenset({"kantor-pusat/lobby"}), stations=frozenset({"gate-1"}))
    with new_session(app) as session:
        newest = session.execute(select(func.max(LiveEvent.id))).scalar_one()
    replay = catch_up(get_engine(app), start, 0, newest)
    assert replay
    assert {message.data.get("room") for message in replay} == {"lobby"}

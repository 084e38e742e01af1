"""Every rule in the URL map demands its role: anonymous and wrong-role requests are refused.

The walk is over ``app.url_map`` itself, so a view added without a guard fails here.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from dashboard.api import TOKEN_ATTR
from dashboard.auth import PUBLIC_ATTR, ROLE_ATTR
from dashboard.models import Role

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
        response = client.open(url(rule), method=method)
        assert response.status_code == 403, (rule.endpoint, method, response.status_code)
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
        response = client.get(url(rule))
        assert response.status_code == 200, (rule.endpoint, response.status_code, response.text[:300])

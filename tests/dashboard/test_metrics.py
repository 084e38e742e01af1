"""``/metrics``: ingest, live streams, stations' last-heard and the forwarder's queue, in Prometheus text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_support import app_settings
from dashboard_wire import bearer, crossing, screening
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from dashboard import create_app
from dashboard.db import get_engine, new_session
from dashboard.live import last_id
from dashboard.models import Role


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, by name and labels (parsed by Prometheus's own parser)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture
def lobby(make_room: Callable[..., str], make_station: Callable[[str, str], str]) -> str:
    make_room("lobby", capacity_people=10)
    return make_station("gate-1", "lobby")


def test_ingest_is_counted_by_result_and_timed_by_status(client: FlaskClient, lobby: str) -> None:
    batch = {"events": [crossing("in"), screening("allow")]}
    assert client.post("/api/v1/events", json=batch, headers=bearer(lobby)).status_code == 200
    assert client.post("/api/v1/events", json=batch, headers=bearer(lobby)).status_code == 200  # again
    assert client.post("/api/v1/events", json={"events": "no"}, headers=bearer(lobby)).status_code == 400
    samples = scrape(client)
    assert samples[("gerbang_ingest_events_total", (("result", "accepted"),))] == 2
    assert samples[("gerbang_ingest_events_total", (("result", "duplicate"),))] == 2
    assert samples[("gerbang_ingest_request_seconds_count", (("status", "200"),))] == 2
    assert samples[("gerbang_ingest_request_seconds_count", (("status", "400"),))] == 1
    assert samples[("gerbang_ingest_request_seconds_sum", (("status", "200"),))] > 0


def test_a_station_is_listed_once_it_was_heard(client: FlaskClient, lobby: str, make_station) -> None:
    make_station("gate-2", "lobby")  # never heard: absent, not 0
    client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(lobby))
    samples = scrape(client)
    heard = {
        labels: value for (name, labels), value in samples.items() if name.startswith("gerbang_station_")
    }
    assert list(heard) == [(("room", "lobby"), ("station", "gate-1"))]
    assert next(iter(heard.values())) > 1.7e9  # a Unix time, not a count


def test_an_open_live_stream_is_counted_until_it_closes(client: FlaskClient, login: Callable) -> None:
    login(Role.GUARD)
    assert scrape(client)[("gerbang_live_streams", ())] == 0
    response = client.get("/live/stream", buffered=False)
    next(response.response)  # the stream has begun
    assert scrape(client)[("gerbang_live_streams", ())] == 1
    response.close()  # the browser left
    assert scrape(client)[("gerbang_live_streams", ())] == 0


@pytest.mark.parametrize(
    ("position", "depth"),
    [
        (0, 2),  # the forwarder started before both messages: two wait
        (None, None),  # no position file yet: no figure rather than a wrong one
        ("garbage", None),  # an unreadable position file: no figure, and /metrics still answers
    ],
)
def test_the_forwarders_queue_is_what_follows_its_position(
    database_url: str, tmp_path: Path, lobby: str, position: object, depth: int | None
) -> None:
    position_path = tmp_path / "forward-position"
    app = create_app(app_settings(database_url, tmp_path, FORWARDER_POSITION=str(position_path)))
    try:
        client = app.test_client()
        with new_session(app) as session:
            start = last_id(session)
        # a crossing and an alert (a fever) each leave one live message
        client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(lobby))
        client.post(
            "/api/v1/events",
            json={"events": [screening("deny", reason="fever", body_c=38.5)]},
            headers=bearer(lobby),
        )
        with new_session(app) as session:
            newest = last_id(session)
        if isinstance(position, int):
            position_path.write_text(str(start + position))
        elif position is not None:
            position_path.write_text(str(position))
        samples = scrape(client)
        found = samples.get(("gerbang_forwarder_queue_depth", ()))
        if depth is None:
            assert found is None
        else:
            assert newest - start >= depth
            assert found == newest - start - position
    finally:
        get_engine(app).dispose()


def test_metrics_are_open_like_health(app: Flask) -> None:
    assert app.test_client().get("/metrics").status_code == 200  # no login, no token


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),  # no token
        ({"Authorization": "Bearer wrong"}, 401),  # another token
        ({"Authorization": "Basic c2NyYXBlOg=="}, 401),  # another scheme
        ({"Authorization": "Bearer s3cret-metrics"}, 200),  # the token
    ],
)
def test_a_metrics_token_keeps_the_page_to_its_bearer(
    database_url: str, tmp_path: Path, headers: dict[str, str], status: int
) -> None:
    app = create_app(app_settings(database_url, tmp_path, METRICS_TOKEN="s3cret-metrics"))
    try:
        assert app.test_client().get("/metrics", headers=headers).status_code == status
    finally:
        get_engine(app).dispose()

"""Several dashboard processes on one PostgreSQL: exact counts, LISTEN/NOTIFY fan-out, the simulator.

Two ``gerbang dashboard run`` processes (waitress, each on its own port) share a fresh schema; a
fleet of emulated stations (``gerbang_simulate``: real journals, uplinks, tokens) posts to both at
once, several doors per room, so the same room's count is moved by both processes concurrently.
Bounded: a few seconds of events, every wait with a deadline.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fleet_support import GERBANG, Dashboard, LiveWatcher, Schema, wait_until
from postgres_support import postgres_problem

import gerbang_simulate
from dashboard import create_app, manage
from dashboard.db import get_engine, new_session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Schema, list[Dashboard]]]:
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    schema = Schema()
    logs = tmp_path_factory.mktemp("cluster")
    dashboards = [Dashboard(schema.url, logs) for _ in range(2)]
    try:
        for dashboard in dashboards:
            dashboard.start()
        yield schema, dashboards
    finally:
        for dashboard in dashboards:
            dashboard.stop()
        schema.drop()


def test_a_fleet_over_two_processes_loses_nothing_and_counts_exactly(
    cluster: tuple[Schema, list[Dashboard]], tmp_path: Path
) -> None:
    schema, dashboards = cluster
    report = gerbang_simulate.run(
        stations=8,
        rooms=2,  # 4 doors per room, spread over both processes
        rate_per_s=5.0,
        duration_s=4.0,
        urls=[d.base for d in dashboards],
        database_url=schema.url,
        journal_dir=tmp_path,
        drain_s=30,
        echo=lambda _line: None,
    )
    assert report.generated >= 100
    assert (report.lost, report.pending, report.rejected) == (0, 0, 0)
    assert report.verified is not None
    assert report.verified.ok, report.verified.line()
    assert report.verified.rooms == 2


def test_a_browser_on_one_process_sees_events_ingested_by_the_other(
    cluster: tuple[Schema, list[Dashboard]],
) -> None:
    schema, (first, second) = cluster
    app = create_app({"DATABASE_URL": schema.url, "LIVE_NOTIFY": False, "SECRET_KEY": "x"})
    with new_session(app) as session:
        manage.add_room(session, "fan-out", "aula", 100, 1.0)
        token = manage.add_station(session, "aula-1", "aula")[1]
    get_engine(app).dispose()
    watcher = LiveWatcher(second)
    try:
        for _ in range(3):
            body = {
                "events": [
                    {
                        "id": str(uuid.uuid4()),
                        "type": "crossing",
                        "at": datetime.now(UTC).isoformat(),
                        "direction": "in",
                    }
                ]
            }
            request = urllib.request.Request(
                f"{first.base}/api/v1/events",
                data=json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert json.load(response) == {"accepted": 1, "duplicates": 0}
        assert wait_until(lambda: watcher.occupancy_of("aula") == [1, 2, 3], 15), watcher.messages
    finally:
        watcher.stop.set()


def test_the_simulate_command_prints_its_figures(cluster: tuple[Schema, list[Dashboard]]) -> None:
    schema, dashboards = cluster
    result = subprocess.run(
        [
            GERBANG,
            "simulate",
            "--stations",
            "3",
            "--rate",
            "4",
            "--duration",
            "1.5",
            "--url",
            ",".join(d.base for d in dashboards),
            "--database",
            schema.url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "simulate: 3 stations in 1 rooms" in result.stdout
    assert "lost 0" in result.stdout
    assert "p99" in result.stdout
    assert "database check OK" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # more rooms than stations cannot give every room a door
        (["--stations", "2", "--rooms", "3"], "--rooms must be 1 to the number of stations (2)"),
        # a rate of zero makes no events
        (["--stations", "2", "--rate", "0"], "--rate must be more than 0 events/s"),
    ],
)
def test_the_simulate_command_refuses_bad_input(
    cluster: tuple[Schema, list[Dashboard]], args: list[str], message: str
) -> None:
    schema, dashboards = cluster
    result = subprocess.run(
        [
            GERBANG,
            "simulate",
            *args,
            "--duration",
            "1",
            "--url",
            dashboards[0].base,
            "--database",
            schema.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_process_serves_more_kept_alive_stations_than_waitress_would_by_default(
    cluster: tuple[Schema, list[Dashboard]],
) -> None:
    # Stations keep their connection open; waitress's own limit (100) would shut out the 101st.
    _schema, dashboards = cluster
    assert all(status == 200 for status in kept_alive_health_checks(dashboards[0].port, 130))


def test_past_file_descriptor_1023_a_process_keeps_serving(
    cluster: tuple[Schema, list[Dashboard]], tmp_path: Path
) -> None:
    # With select(), waitress's loop dies at the first socket numbered 1024 or more; it must poll().
    schema, _dashboards = cluster
    dashboard = Dashboard(schema.url, tmp_path, extra_args=("--connection-limit", "1500"))
    dashboard.start()
    try:
        statuses = kept_alive_health_checks(dashboard.port, 1100)
        assert statuses.count(200) == 1100
        assert dashboard.healthy()
    finally:
        dashboard.stop()


def kept_alive_health_checks(port: int, count: int) -> list[int]:
    """Open ``count`` connections, each kept alive after one health check; return the statuses."""
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(count)]
    statuses = []
    try:
        for conn in connections:
            conn.request("GET", "/api/v1/health")
            response = conn.getresponse()
            assert not response.will_close  # kept alive: each still holds its slot
            response.read()
            statuses.append(response.status)
    finally:
        for conn in connections:
            conn.close()
    return statuses

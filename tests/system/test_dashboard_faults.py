"""Faults on the dashboard's side, under load: every event still arrives exactly once.

* The dashboard process is killed (SIGKILL: requests cut mid-flight, some after their commit, so
  their retry is a duplicate) and started again a few seconds later on the same port.
* PostgreSQL goes away mid-run. By default every connection of the test's dashboards is
  terminated over and over for a couple of seconds (what a restart does to its clients, and safe
  on a machine where other suites use the same server); with ``GERBANG_TEST_PG_RESTART=1`` the
  real cluster is restarted with ``pg_ctlcluster`` (CI's machine runs nothing else on it).

Each run is a fleet of emulated stations (``gerbang_simulate``) for a few seconds; the journals
are drained afterwards and the database checked: every event once, every room's count exact.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_support import Dashboard, Schema, wait_until
from postgres_support import postgres_problem

import gerbang_simulate

pytestmark = pytest.mark.slow
REAL_RESTART = os.environ.get("GERBANG_TEST_PG_RESTART") == "1"


@pytest.fixture
def schema() -> Iterator[Schema]:
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    made = Schema()
    yield made
    made.drop()


def run_fleet(schema: Schema, dashboards: list[Dashboard], journals: Path, fault) -> gerbang_simulate.Report:
    return gerbang_simulate.run(
        stations=6,
        rooms=2,
        rate_per_s=5.0,
        duration_s=7.0,
        urls=[d.base for d in dashboards],
        database_url=schema.url,
        journal_dir=journals,
        drain_s=45,
        backoff_max_s=1.0,
        during=fault,
        echo=lambda _line: None,
    )


def assert_exactly_once(report: gerbang_simulate.Report) -> None:
    assert (report.lost, report.pending, report.rejected) == (0, 0, 0)
    assert report.verified is not None
    assert report.verified.ok, report.verified.line()


def test_dashboard_killed_under_load_then_back(schema: Schema, tmp_path: Path) -> None:
    dashboard = Dashboard(schema.url, tmp_path)
    dashboard.start()
    outage: dict[str, float] = {}

    def fault(_fleet: gerbang_simulate.Fleet) -> None:
        time.sleep(1.5)
        dashboard.kill()
        outage["down"] = time.monotonic()
        time.sleep(3.0)
        dashboard.start()
        outage["up"] = time.monotonic()

    try:
        report = run_fleet(schema, [dashboard], tmp_path / "journals", fault)
    finally:
        dashboard.stop()
    assert set(outage) == {"down", "up"}
    assert report.failures >= 1  # the stations felt the outage ...
    assert_exactly_once(report)  # ... and lost and doubled nothing


def restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=60,
        capture_output=True,
    )


def test_postgresql_lost_mid_run(schema: Schema, tmp_path: Path) -> None:
    dashboards = [Dashboard(schema.url, tmp_path) for _ in range(2)]
    for dashboard in dashboards:
        dashboard.start()
    killed: list[int] = []
    done = threading.Event()

    def fault(_fleet: gerbang_simulate.Fleet) -> None:
        time.sleep(1.5)
        if REAL_RESTART:
            restart_postgres()
            killed.append(-1)
        else:
            until = time.monotonic() + 2.0
            while time.monotonic() < until:
                killed.append(schema.kill_connections())
                time.sleep(0.05)
        done.set()

    try:
        report = run_fleet(schema, dashboards, tmp_path / "journals", fault)
        assert done.is_set()
        assert sum(killed) != 0  # connections were cut (or the cluster restarted)
        assert report.failures >= 1
        assert_exactly_once(report)
        for dashboard in dashboards:  # both processes serve again without a restart of their own
            assert wait_until(dashboard.healthy, 15)
            assert dashboard.process is not None
            assert dashboard.process.poll() is None
    finally:
        for dashboard in dashboards:
            dashboard.stop()

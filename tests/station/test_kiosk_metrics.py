"""The kiosk server's ``/metrics``: journal backlog, set-aside events, devices, decision latency."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from station.core import FaceObservation, Station
from station.events import Mask
from station.journal import Journal
from station.kiosk import Broadcaster, create_kiosk
from station.metrics import StationMetrics
from station.occupancy import Ledger
from station.screening import ScreeningConfig

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


def rig(tmp_path, backlog=None):
    """A station, its journal and clock, and the kiosk's test client with the station's metrics."""
    clock = Clock()
    journal = Journal(tmp_path / "journal.sqlite3")
    holder = {}
    metrics = StationMetrics(lambda: holder["station"].state, backlog or journal.pending_count)
    station = Station(
        ScreeningConfig(), Ledger(capacity_people=10), journal, clock=clock, on_decision=metrics.decided
    )
    holder["station"] = station
    client = create_kiosk(station, Broadcaster(), pin="2468", metrics=metrics).test_client()
    return station, journal, clock, client


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def visitor(station, clock, late_s):
    """A masked visitor, normal temperature; the inputs reach the station ``late_s`` after they happened."""
    for _ in range(8):
        clock.advance(0.1)
        at = clock.now - timedelta(seconds=late_s)
        station.face(FaceObservation(at, True, True, Mask.WITH_MASK))
        station.reading(at, 34.4, 25.0, None)


def test_a_decisions_latency_is_from_its_input_to_the_journal(tmp_path):
    station, _, clock, client = rig(tmp_path)
    visitor(station, clock, late_s=0.25)
    assert station.state.decision == "allow"
    samples = scrape(client)
    assert samples[("gerbang_station_decision_latency_seconds_count", ())] == 1
    assert samples[("gerbang_station_decision_latency_seconds_sum", ())] == pytest.approx(0.25)
    assert samples[("gerbang_station_decision_latency_seconds_bucket", (("le", "0.1"),))] == 0
    assert samples[("gerbang_station_decision_latency_seconds_bucket", (("le", "0.25"),))] == 1


def test_backlog_set_aside_and_devices_are_read_at_each_scrape(tmp_path):
    station, journal, _, client = rig(tmp_path)
    station.device("thermometer", "online")
    station.device("camera", "offline")
    station.set_aside(2)
    samples = scrape(client)
    assert samples[("gerbang_station_journal_backlog_events", ())] == journal.pending_count() == 3
    assert samples[("gerbang_station_set_aside_events", ())] == 2
    assert samples[("gerbang_station_journal_ok", ())] == 1
    assert samples[("gerbang_station_device_state", (("device", "thermometer"), ("state", "online")))] == 1
    assert samples[("gerbang_station_device_state", (("device", "camera"), ("state", "offline")))] == 1
    station.device("camera", "online")  # the camera is back: its old state is gone from the page
    samples = scrape(client)
    assert ("gerbang_station_device_state", (("device", "camera"), ("state", "offline"))) not in samples
    assert samples[("gerbang_station_device_state", (("device", "camera"), ("state", "online")))] == 1


def test_a_journal_that_cannot_be_counted_leaves_the_figure_out_not_the_page(tmp_path):
    def broken():
        raise OSError("disk I/O error")

    _, _, _, client = rig(tmp_path, backlog=broken)
    samples = scrape(client)
    assert ("gerbang_station_journal_backlog_events", ()) not in samples
    assert samples[("gerbang_station_set_aside_events", ())] == 0


def test_a_kiosk_without_metrics_has_no_page(tmp_path):
    station = Station(ScreeningConfig(), Ledger(capacity_people=10), Journal(tmp_path / "j.sqlite3"))
    assert create_kiosk(station, Broadcaster(), pin="").test_client().get("/metrics").status_code == 404

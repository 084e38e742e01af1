"""``GET /metrics`` on the kiosk's server: the station in Prometheus text format.

Read at each scrape: the journal's backlog (``gerbang_station_journal_backlog_events``, events not yet
shipped), the events set aside (``gerbang_station_set_aside_events``), each device's state
(``gerbang_station_device_state{device, state}`` is 1 for the current state), whether the journal
writes (``gerbang_station_journal_ok``) and the room's count and limit. Counted as they happen: the
time from the input that decided a screening (a stable reading, a mask vote) to the decision
journaled and shown (``gerbang_station_decision_latency_seconds``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from station.core import KioskState

log = logging.getLogger(__name__)
# A decision is shown within milliseconds of its last reading; a busy or slow disk takes longer.
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class StationMetrics:
    """The station's figures, in a registry of its own.

    Args:
        state: Returns what the kiosk shows now (``Station.state``).
        backlog: Returns how many journaled events wait to be shipped (``Journal.pending_count``).
    """

    def __init__(self, state: Callable[[], KioskState], backlog: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.decision_latency = Histogram(
            "gerbang_station_decision_latency_seconds",
            "Time from the input that decided a screening to the decision journaled.",
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.registry.register(_StateCollector(state, backlog))

    def decided(self, latency_s: float) -> None:
        """Note one decision's latency."""
        self.decision_latency.observe(max(0.0, latency_s))

    def render(self) -> tuple[bytes, str]:
        """The page's body and content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _StateCollector(Collector):
    def __init__(self, state: Callable[[], KioskState], backlog: Callable[[], int]) -> None:
        self._state = state
        self._backlog = backlog

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        state = self._state()
        try:
            backlog: int | None = self._backlog()
        except Exception as err:  # a broken journal must not take the page down: the figure is absent
            log.warning("metrics: cannot count the journal's backlog: %s", err)
            backlog = None
        if backlog is not None:
            yield GaugeMetricFamily(
                "gerbang_station_journal_backlog_events",
                "Journaled events not yet shipped to the dashboard.",
                value=backlog,
            )
        yield GaugeMetricFamily(
            "gerbang_station_set_aside_events",
            "Events the dashboard refused, kept in the journal (gerbang station resend).",
            value=state.set_aside,
        )
        yield GaugeMetricFamily(
            "gerbang_station_journal_ok",
            "1 while the journal writes, 0 while events wait in memory.",
            value=1 if state.journal_ok else 0,
        )
        devices = GaugeMetricFamily(
            "gerbang_station_device_state",
            "1 for each device's current state (online, offline, ended ...).",
            labels=["device", "state"],
        )
        for device, device_state in sorted(state.devices.items()):
            devices.add_metric([device, device_state], 1)
        yield devices
        yield GaugeMetricFamily(
            "gerbang_station_occupancy_people",
            "People in the room, as the station knows it.",
            value=state.occupancy_people,
        )
        yield GaugeMetricFamily("gerbang_station_limit_people", "The room's limit.", value=state.limit_people)

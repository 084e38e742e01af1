"""``GET /metrics``: the dashboard in Prometheus text format.

Counted in this process: events ingested (``gerbang_ingest_events_total`` by result), ingest requests
and their latency (``gerbang_ingest_request_seconds`` by status), open live streams
(``gerbang_live_streams``). Read from the database at each scrape: every station's last-heard time
(``gerbang_station_last_heard_timestamp_seconds``) and the forwarder's queue depth
(``gerbang_forwarder_queue_depth``: outbox messages after the forwarder's position file, named by
``GERBANG_FORWARDER_POSITION``). Each process has its own figures: scrape every process.
Open to everyone, like ``/api/v1/health``, unless ``GERBANG_METRICS_TOKEN`` is set (then Prometheus sends it
as a bearer token); keep it to the inside network at the proxy too (``deploy/nginx/gerbang.conf``).
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, Response, current_app, request
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select

from dashboard.auth import public
from dashboard.db import get_session
from dashboard.models import Room, Station

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)
F = TypeVar("F", bound=Callable[..., Any])
EXTENSION = "gerbang_metrics"
# Ingest answers within milliseconds on a quiet database and within a second under a fleet's load.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DashboardMetrics:
    """One app's figures, in a registry of its own (several apps in one process do not mix)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.ingest_events = Counter(
            "gerbang_ingest_events",
            "Events received from stations over API v1, by result (accepted, duplicate).",
            ["result"],
            registry=self.registry,
        )
        self.ingest_requests = Histogram(
            "gerbang_ingest_request_seconds",
            "Time to answer POST /api/v1/events, by HTTP status.",
            ["status"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.live_streams = Gauge(
            "gerbang_live_streams", "Live pages' event streams open now.", registry=self.registry
        )
        self.registry.register(_DatabaseCollector())

    def ingested(self, accepted: int, duplicates: int) -> None:
        """Count one batch's events."""
        self.ingest_events.labels("accepted").inc(accepted)
        self.ingest_events.labels("duplicate").inc(duplicates)

    def track_stream(self, body: Iterable[str]) -> Iterator[str]:
        """Yield ``body``, counted as an open live stream until it ends or the browser leaves."""
        self.live_streams.inc()
        try:
            yield from body
        finally:
            self.live_streams.dec()


class _DatabaseCollector(Collector):
    """Figures read from the database when scraped (inside the ``/metrics`` request)."""

    def describe(self) -> list[Metric]:
        """Nothing ahead of a scrape: the figures need the request's database session."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Read the figures now."""
        session = get_session()
        heard = GaugeMetricFamily(
            "gerbang_station_last_heard_timestamp_seconds",
            "When each station last reached the dashboard (Unix time; absent: never).",
            labels=["station", "room"],
        )
        rows = session.execute(
            select(Station.name, Room.slug, Station.last_seen_at)
            .join(Room, Station.room_id == Room.id)
            .where(Station.revoked_at.is_(None))
            .order_by(Station.name)
        )
        for name, room, seen_at in rows:
            if seen_at is not None:
                heard.add_metric([name, room], seen_at.timestamp())
        yield heard
        position_path = current_app.config.get("FORWARDER_POSITION")
        if position_path:
            from dashboard.forward import PositionFile
            from dashboard.live import last_id

            try:
                position = PositionFile(Path(position_path)).load()
            except (OSError, ValueError) as err:
                log.warning("metrics: cannot read the forwarder's position %s: %s", position_path, err)
                position = None
            if position is not None:
                yield GaugeMetricFamily(
                    "gerbang_forwarder_queue_depth",
                    "Live messages the forwarder has yet to hand to MQTT and webhooks.",
                    value=max(0, last_id(session) - position),
                )


def current() -> DashboardMetrics:
    """The running app's metrics."""
    metrics: DashboardMetrics = current_app.extensions[EXTENSION]
    return metrics


def timed_ingest(view: F) -> F:
    """Time an ingest view and count its answer by status."""

    @functools.wraps(view)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        status = 500
        try:
            answer = view(*args, **kwargs)
            status = _status(answer)
            return answer
        finally:
            current().ingest_requests.labels(str(status)).observe(time.perf_counter() - started)

    return cast(F, timed)


def _status(answer: object) -> int:
    if isinstance(answer, tuple) and len(answer) > 1 and isinstance(answer[1], int):
        return answer[1]
    if isinstance(answer, Response):
        return answer.status_code
    return 200


@bp.get("/metrics")
@public
def metrics_page() -> ResponseReturnValue:
    """The figures in Prometheus text format; with ``METRICS_TOKEN`` set, only for its bearer."""
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return {"error": "the metrics token is required (Authorization: Bearer TOKEN)"}, 401
    return Response(generate_latest(current().registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Give ``app`` its metrics and the ``/metrics`` page."""
    app.extensions[EXTENSION] = DashboardMetrics()
    app.register_blueprint(bp)

"""Scheduled jobs: purge old screenings (privacy) and alert on silent stations.

``gerbang dashboard purge`` runs both once (for cron or a systemd timer); ``gerbang dashboard run``
also starts ``Scheduler``, a daemon thread that runs them every ``interval_s``. Both are safe to run
in several processes at once: each is a few idempotent SQL statements.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from dashboard import audit, live
from dashboard.db import new_session, utc_now
from dashboard.ingest import alert_payload
from dashboard.models import Alert, AlertKind, LiveEvent, LoginAttempt, Room, Screening, Station

log = logging.getLogger(__name__)
LIVE_KEEP_S = 24 * 3600


def purge(session: Session, keep_days: int, now: datetime | None = None) -> int:
    """Delete screenings older than ``keep_days``, and live messages and login attempts older than a day.

    Returns:
        The number of screenings deleted.
    """
    now = now or utc_now()
    cutoff = now - timedelta(days=keep_days)
    # a DELETE's result is a CursorResult, which counts the rows
    result = cast("CursorResult[Any]", session.execute(delete(Screening).where(Screening.at < cutoff)))
    deleted = result.rowcount
    session.execute(delete(LiveEvent).where(LiveEvent.at < now - timedelta(seconds=LIVE_KEEP_S)))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(seconds=LIVE_KEEP_S)))
    if deleted:
        audit.record(session, "scheduler", "purge", f"{deleted} screenings before {cutoff.isoformat()}")
    session.commit()
    return deleted


def check_silent(session: Session, silent_s: float, now: datetime | None = None) -> list[Alert]:
    """Alert once for each station not heard from for ``silent_s``; return the new alerts."""
    now = now or utc_now()
    quiet = session.execute(
        select(Station).where(
            Station.last_seen_at.is_not(None), Station.last_seen_at < now - timedelta(seconds=silent_s)
        )
    ).scalars()
    alerts = []
    for station in quiet:
        assert station.last_seen_at is not None
        known = session.execute(
            select(Alert.id).where(
                Alert.station_id == station.id,
                Alert.kind == str(AlertKind.STATION_SILENT),
                Alert.at >= station.last_seen_at,
            )
        ).first()
        if known:
            continue
        silent_for_s = int((now - station.last_seen_at).total_seconds())
        alert = Alert(
            kind=str(AlertKind.STATION_SILENT),
            room_id=station.room_id,
            station_id=station.id,
            at=now,
            detail=f"silent for {silent_for_s} s",
        )
        session.add(alert)
        session.flush()
        room = session.get(Room, station.room_id)
        payload = alert_payload(
            alert.id, alert.kind, room.slug if room else None, station.name, alert.at, alert.detail
        )
        live.publish(session, "alert", payload)
        alerts.append(alert)
    session.commit()
    return alerts


def run_once(app: Flask) -> None:
    """Run every job once with the app's settings."""
    session = new_session(app)
    try:
        check_silent(session, app.config["STATION_SILENT_S"])
        deleted = purge(session, app.config["PURGE_AFTER_DAYS"])
        if deleted:
            log.info("purged %s screenings", deleted)
    finally:
        session.close()


class Scheduler(threading.Thread):
    """Runs the jobs every ``interval_s`` until ``stop`` is set."""

    def __init__(self, app: Flask, interval_s: float = 30.0) -> None:
        super().__init__(name="gerbang-jobs", daemon=True)
        self.app = app
        self.interval_s = interval_s
        self.stop = threading.Event()

    def run(self) -> None:
        """Loop until stopped; a failing round is logged and the next one tried."""
        while not self.stop.is_set():
            try:
                run_once(self.app)
            except Exception:  # keep the scheduler alive through a database hiccup
                log.exception("scheduled jobs failed; trying again in %s s", self.interval_s)
            self.stop.wait(self.interval_s)

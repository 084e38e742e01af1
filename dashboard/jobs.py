"""Scheduled jobs: purge old health data (privacy) and alert on silent stations.

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
from dashboard.models import (
    Alert,
    AlertKind,
    AuditEntry,
    LiveEvent,
    LoginAttempt,
    Room,
    Screening,
    Station,
    StationStatus,
)

log = logging.getLogger(__name__)
LIVE_KEEP_S = 24 * 3600


#: Audit actions whose detail carries health data: a screening's decision and why (overrides), an
#: alert's kind (acknowledgements). Their entries are kept as long as the screenings, no longer.
HEALTH_AUDIT_ACTIONS = ("override", "acknowledge")


def purge(session: Session, keep_days: int, now: datetime | None = None) -> dict[str, int]:
    """Delete health data older than ``keep_days``: the one retention rule (``PURGE_AFTER_DAYS``).

    It covers every table holding temperatures or decisions: screenings, alerts, the audit log's
    entries about them (``HEALTH_AUDIT_ACTIONS``) and station statuses. Live messages and login
    attempts go after a day.

    Returns:
        Rows deleted per table, in the order ``purge`` reports them: ``screenings``, ``alerts``,
        ``audit entries``, ``station statuses``.
    """
    now = now or utc_now()
    cutoff = now - timedelta(days=keep_days)
    statements = {
        "screenings": delete(Screening).where(Screening.at < cutoff),
        "alerts": delete(Alert).where(Alert.at < cutoff),
        "audit entries": delete(AuditEntry).where(
            AuditEntry.at < cutoff, AuditEntry.action.in_(HEALTH_AUDIT_ACTIONS)
        ),
        "station statuses": delete(StationStatus).where(StationStatus.at < cutoff),
    }
    # a DELETE's result is a CursorResult, which counts the rows
    deleted = {
        name: cast("CursorResult[Any]", session.execute(statement)).rowcount
        for name, statement in statements.items()
    }
    session.execute(delete(LiveEvent).where(LiveEvent.at < now - timedelta(seconds=LIVE_KEEP_S)))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(seconds=LIVE_KEEP_S)))
    if any(deleted.values()):
        counts = ", ".join(f"{number} {name}" for name, number in deleted.items())
        audit.record(session, "scheduler", "purge", f"{counts} before {cutoff.isoformat()}")
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
        name = (room.site.slug, room.slug) if room else None
        payload = alert_payload(alert.id, alert.kind, name, station.name, alert.at, alert.detail)
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
        if any(deleted.values()):
            log.info("purged %s", ", ".join(f"{number} {name}" for name, number in deleted.items()))
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

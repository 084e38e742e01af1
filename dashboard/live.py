"""Live updates: an outbox table every process writes, and Server-Sent Events that poll it.

Ingest appends a ``live_events`` row in the same transaction as the change it reports, so a
message exists exactly when its change is committed, whichever process made it. Each stream
reads the rows after the last id it sent. The wait between reads goes through the ``Notifier``
seam: ``PollingNotifier`` sleeps a fraction of a second (SQLite); on PostgreSQL
``notify.ListenNotifier`` wakes every stream of every process as soon as a message is committed.

PostgreSQL hands out sequence numbers before commit, so a later id can become visible before an
earlier one. ``OutboxReader`` therefore stops at a gap and waits for it to fill; a gap still open
after ``gap_grace_s`` (or one before a row older than that) is a rolled-back insert, or rows
purged, and is skipped.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flask import Blueprint, Response, current_app, request
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from dashboard import metrics, notify, scope
from dashboard.auth import require_role
from dashboard.db import get_engine, get_session, utc_now
from dashboard.models import LiveEvent, Role

bp = Blueprint("live", __name__, url_prefix="/live")
MAX_ID = 2**63 - 1  # the largest id the column holds (a 64-bit integer)
#: Set in the environ by ``dashboard.livestream``: the view then says where to start, and the event
#: loop streams (no request thread is held).
HANDOFF_KEY = "gerbang.live_handoff"
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Notifier(Protocol):
    """Wakes a stream when new live events may be waiting."""

    def wait(self, timeout_s: float) -> None:
        """Return when new events may be there, or after ``timeout_s`` at the latest."""


class PollingNotifier:
    """The portable notifier: wakes every ``interval_s`` (works on SQLite and across processes).

    A commit in this process wakes it at once (``committed``): pages hear of a station's upload
    right after it is answered, not at a random point of the polling interval, which is also when
    the next upload would come.
    """

    def __init__(self, interval_s: float = 0.25) -> None:
        self.interval_s = interval_s
        self._poked = threading.Event()

    def wait(self, timeout_s: float) -> None:
        """Sleep for the polling interval (or less, if ``timeout_s`` is shorter, or until poked)."""
        self._poked.wait(max(0.0, min(self.interval_s, timeout_s)))
        self._poked.clear()

    def poke(self) -> None:
        """Wake the waiter now: this process committed live messages."""
        self._poked.set()


def committed(notifier: Notifier) -> None:
    """Say that this process committed live messages (LISTEN/NOTIFY needs no word; polling does)."""
    poke = getattr(notifier, "poke", None)
    if poke is not None:
        poke()


@dataclass(frozen=True, slots=True)
class Message:
    """One live message.

    Attributes:
        id: Its outbox id (the SSE event id).
        kind: ``occupancy`` or ``alert``.
        data: Its JSON payload.
    """

    id: int
    kind: str
    data: dict[str, Any]

    def to_sse(self) -> str:
        """Return the message in the text/event-stream format."""
        return f"id: {self.id}\nevent: {self.kind}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


_OUTBOX_INSERT = insert(LiveEvent.__table__)


def publish(session: Session, kind: str, data: dict[str, Any]) -> None:
    """Append a message to the outbox in the caller's transaction.

    On PostgreSQL the outbox's trigger queues the NOTIFY that wakes every process's streams.
    """
    session.execute(
        _OUTBOX_INSERT, {"at": utc_now(), "kind": kind, "payload": json.dumps(data, separators=(",", ":"))}
    )


def rights_changed(session: Session, user_id: int) -> None:
    """End the user's open live streams once the caller commits (logout, disabling, other sites).

    Each process's hub closes them; the browser reconnects and is checked again like any request.
    """
    publish(session, scope.RIGHTS_KIND, {"user": user_id})


def make_notifier(config: Mapping[str, Any]) -> Notifier:
    """Return the app's notifier.

    ``LISTEN/NOTIFY`` on PostgreSQL (unless ``LIVE_NOTIFY`` is off), else polling every ``LIVE_POLL_S``.
    """
    url = str(config["DATABASE_URL"])
    if url.startswith("postgresql") and config.get("LIVE_NOTIFY", True):
        return notify.ListenNotifier(notify.libpq_url(url), max_wait_s=config.get("LIVE_MAX_WAIT_S", 1.0))
    return PollingNotifier(config["LIVE_POLL_S"])


def last_id(session: Session) -> int:
    """Return the newest outbox id (0 when empty): a page rendered now streams from here."""
    return session.execute(select(func.coalesce(func.max(LiveEvent.id), 0))).scalar_one()


class OutboxReader:
    """Reads the outbox in id order, waiting briefly at gaps (see the module's note)."""

    def __init__(self, engine: Engine, after_id: int, gap_grace_s: float = 2.0) -> None:
        self.engine = engine
        self.after_id = after_id
        self.gap_grace_s = gap_grace_s
        self._gap_seen_at: tuple[int, float] | None = None
        # Position 0 means "an empty outbox": PostgreSQL's sequence may be anywhere, so the first
        # row found is taken as it comes; any later position is a real id and gaps after it count.
        self._anchored = after_id > 0

    def read(self, limit: int = 500) -> list[Message]:
        """Return the messages after the last one read, up to the first young gap."""
        statement = (
            select(LiveEvent.id, LiveEvent.kind, LiveEvent.payload, LiveEvent.at)
            .where(LiveEvent.id > self.after_id)
            .order_by(LiveEvent.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(statement).all()
        messages: list[Message] = []
        expected = self.after_id + 1
        settled = utc_now() - timedelta(seconds=self.gap_grace_s)
        for row_id, kind, payload, at in rows:
            # A gap before a row written longer ago than the grace cannot be an insert in flight.
            gap = row_id != expected and self._anchored
            if gap and at > settled and not self._gap_expired(expected):
                break
            self._anchored = True
            messages.append(Message(row_id, kind, json.loads(payload)))
            expected = row_id + 1
            self.after_id = row_id
        return messages

    def _gap_expired(self, missing_id: int) -> bool:
        now = time.monotonic()
        if self._gap_seen_at is None or self._gap_seen_at[0] != missing_id:
            self._gap_seen_at = (missing_id, now)
        return now - self._gap_seen_at[1] >= self.gap_grace_s


def stream(
    reader: OutboxReader,
    notifier: Notifier,
    duration_s: float,
    heartbeat_s: float = 10.0,
    min_read_interval_s: float = 0.0,
    may_see: Callable[[Message], bool] | None = None,
    ended_by: Callable[[Message], bool] | None = None,
) -> Iterator[str]:
    """Yield SSE text for ``duration_s``; the browser's EventSource then reconnects by itself.

    Args:
        reader: Reads the outbox.
        notifier: Says when to read again.
        duration_s: How long the stream lasts.
        heartbeat_s: Longest silence before a comment keeps proxies from closing the stream.
        min_read_interval_s: Shortest time between two reads: a fleet commits hundreds of times a
            second, and each commit wakes every stream; a read gathers whatever came meanwhile. The
            first change after a quiet spell is read at once.
        may_see: Which messages the stream carries (``scope``: the user's sites); all by default.
        ended_by: Which message ends the stream (``scope``: its user's rights changed); none by default.
    """
    yield "retry: 1000\n\n"
    started = last_beat = time.monotonic()
    while True:
        read_at = time.monotonic()
        for message in reader.read():
            if ended_by is not None and ended_by(message):
                return
            if may_see is None or may_see(message):
                yield message.to_sse()
        now = time.monotonic()
        if now - started >= duration_s:
            return
        if now - last_beat >= heartbeat_s:
            last_beat = now
            yield ": keep-alive\n\n"
        notifier.wait(duration_s - (now - started))
        pause_s = min_read_interval_s - (time.monotonic() - read_at)
        if pause_s > 0:
            time.sleep(min(pause_s, max(0.0, duration_s - (time.monotonic() - started))))


@bp.get("/stream")
@require_role(Role.GUARD)
def events() -> Response:
    """Stream occupancy changes and alerts as Server-Sent Events.

    Starts after ``Last-Event-ID`` (a reconnect), else after ``?after=N`` (the id the page was
    rendered at), else at the newest message.
    """
    start = request.headers.get("Last-Event-ID") or request.args.get("after")
    try:
        after_id = min(max(int(start), 0), MAX_ID) if start is not None else last_id(get_session())
    except ValueError:
        after_id = last_id(get_session())
    start_at = scope.stream_start(get_session(), after_id)
    handoff = request.environ.get(HANDOFF_KEY)
    if handoff is not None:  # served on the event loop (dashboard.livestream): say where to start
        handoff.append(start_at)
        return Response(b"", mimetype="text/event-stream", headers=STREAM_HEADERS)
    config = current_app.config
    reader = OutboxReader(get_engine(), after_id, config["LIVE_GAP_GRACE_S"])
    notifier = current_app.extensions["gerbang_notifier"]
    body = stream(
        reader,
        notifier,
        config["LIVE_STREAM_S"],
        min_read_interval_s=config["LIVE_MIN_READ_INTERVAL_S"],
        may_see=start_at.may_see,
        ended_by=start_at.ended_by,
    )
    return Response(
        metrics.current().track_stream(body), mimetype="text/event-stream", headers=STREAM_HEADERS
    )

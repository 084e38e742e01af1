"""PostgreSQL ``LISTEN/NOTIFY`` for the live stream: any process's commit wakes every process's streams.

A statement-level trigger on ``live_events`` (migration 0003) runs ``pg_notify('gerbang_live', '')``
in the transaction that writes outbox rows, so PostgreSQL delivers the notification exactly when the
rows become visible, whoever wrote them, at no extra round trip. Each dashboard
process holds one dedicated listening connection (``ListenNotifier``, started on first use): a
thread waits on ``conn.notifies()`` and bumps a generation counter that wakes every waiting
stream at once. The outbox stays the source of truth; a notification only says "read now". So a
lost notification (the listener reconnecting after PostgreSQL restarts) costs at most
``max_wait_s`` of delay, never a message: streams still wake at that interval.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
CHANNEL = "gerbang_live"
HEALTH_CHECK_S = 10.0


def libpq_url(sqlalchemy_url: str) -> str:
    """Return a libpq connection URI for a SQLAlchemy ``postgresql+psycopg://`` URL (query kept)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ListenNotifier:
    """The ``Notifier`` on PostgreSQL: wakes streams when any process commits a live message.

    Args:
        conninfo: A libpq URI (see ``libpq_url``).
        max_wait_s: Longest sleep of a stream without a notification (a safety net for
            notifications lost while the listener reconnects, and for the reader's gap rule).
        reconnect_s: Pause before the listener tries to connect again after a failure.
    """

    def __init__(self, conninfo: str, max_wait_s: float = 1.0, reconnect_s: float = 0.5) -> None:
        self.conninfo = conninfo
        self.max_wait_s = max_wait_s
        self.reconnect_s = reconnect_s
        self.generation = 0
        self.connected = threading.Event()
        self.backend_pid: int | None = None  # the listening connection's server process
        self._changed = threading.Condition()
        self._seen = threading.local()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def wait(self, timeout_s: float) -> None:
        """Return at the next notification (or at once if one came since this thread's last wait).

        Returns after ``min(timeout_s, max_wait_s)`` at the latest.
        """
        self.start()
        limit_s = max(0.0, min(timeout_s, self.max_wait_s))
        with self._changed:
            seen = getattr(self._seen, "generation", None)
            if seen == self.generation:
                self._changed.wait_for(lambda: self.generation != seen, timeout=limit_s)
            self._seen.generation = self.generation

    def start(self) -> None:
        """Start the listening thread (idempotent; ``wait`` calls it)."""
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._listen, name="gerbang-listen", daemon=True)
                self._thread.start()

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the listener and close its connection."""
        self._stop.set()
        self._wake()  # release waiting streams now
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _wake(self) -> None:
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    self.backend_pid = conn.info.backend_pid
                    self._wake()  # messages may have come while no one listened
                    self.connected.set()
                    log.info("live updates: listening on %s", CHANNEL)
                    self._drain(conn)
            except Exception as err:  # PostgreSQL restarting or unreachable: keep trying
                if self.connected.is_set():
                    log.warning("live updates: listener lost its connection (%s); reconnecting", err)
                self.connected.clear()
                self._wake()
                self._stop.wait(self.reconnect_s)

    def _drain(self, conn: Any) -> None:
        quiet_s = 0.0
        while not self._stop.is_set():
            woke = False
            for _notice in conn.notifies(timeout=0.5):
                woke = True
                self._wake()
            quiet_s = 0.0 if woke else quiet_s + 0.5
            if quiet_s >= HEALTH_CHECK_S:  # notices a dead server even when nothing is said
                conn.execute("SELECT 1")
                quiet_s = 0.0

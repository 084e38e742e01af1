"""The station's journal: every event is written here first (SQLite, WAL) and shipped from here.

An event is on disk before ``append`` returns, so what the kiosk has shown survives a SIGKILL or a
power cut. The uplink reads pending events in order and marks them sent once the dashboard has
confirmed them; sending twice is harmless (event ids are UUIDs and the dashboard ingests
idempotently), losing is not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from station.events import Event, utc_now

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT,
    rejected TEXT
);
CREATE INDEX IF NOT EXISTS events_pending ON events (seq) WHERE sent_at IS NULL AND rejected IS NULL;
"""


@dataclass(frozen=True, slots=True)
class SetAside:
    """An event the dashboard refused, kept in the journal until it is sent again.

    Attributes:
        seq: Its place in the journal.
        event_id: Its id.
        kind: Its type (``screening``, ``crossing`` ...).
        at: When it happened (ISO 8601).
        reason: What the dashboard answered.
    """

    seq: int
    event_id: str
    kind: str
    at: str
    reason: str


def private_file(path: str | Path) -> None:
    """Create ``path`` readable and writable by its owner only (0600) when it does not exist yet.

    An existing file that others can read is warned about (and left as the operator set it).
    """
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            log.warning("%s can be read by other users (mode %o); chmod 600 it", path, mode & 0o777)
        return
    os.close(descriptor)


class JournalError(RuntimeError):
    """The journal cannot write (disk full, read-only, corrupt); the message says which."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One journalled event waiting to be shipped."""

    seq: int
    body: dict


class Journal:
    """An append-only outbox in one SQLite file.

    Args:
        path: The database file (created with its folder when missing).
        max_size_mb: Largest size the journal may grow to; None for no limit but the disk's.

    Raises:
        JournalError: The file cannot be created or opened.
    """

    def __init__(self, path: str | Path, max_size_mb: float | None = None) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            existed = Path(self.path).exists()
            private_file(self.path)  # temperatures are health data: only this user reads them
            if existed and Path(self.path).stat().st_size == 0 and not Path(self.path + "-wal").exists():
                log.warning(
                    "journal %s was an empty file (0 bytes): starting a new journal; events it may have "
                    "held are not there",
                    self.path,
                )
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)
            if max_size_mb is not None:
                self.set_max_size(max_size_mb)
        except (OSError, sqlite3.Error) as err:
            raise JournalError(f"cannot open the journal {self.path}: {err}") from err

    def set_max_size(self, max_size_mb: float) -> None:
        """Cap the journal's size; past it, ``append`` fails as on a full disk."""
        with self._lock:
            page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
            self._db.execute(f"PRAGMA max_page_count={max(1, int(max_size_mb * 1024 * 1024 // page_size))}")

    def append(self, event: Event) -> int:
        """Write ``event`` durably and return its sequence number.

        Raises:
            JournalError: The write failed; the event is not journalled.
        """
        body = json.dumps(event.to_json(), separators=(",", ":"))
        try:
            with self._lock:
                cursor = self._db.execute(
                    "INSERT INTO events (id, type, at, body) VALUES (?, ?, ?, ?)",
                    (event.id, str(event.type), event.at.isoformat(), body),
                )
        except sqlite3.IntegrityError:
            log.debug("event %s is journalled already", event.id)
            return self.seq_of(event.id)
        except sqlite3.Error as err:
            raise JournalError(f"cannot write the journal {self.path}: {err}") from err
        return int(cursor.lastrowid or 0)

    def seq_of(self, event_id: str) -> int:
        """Return the sequence number of a journalled event (0 when unknown)."""
        with self._lock:
            row = self._db.execute("SELECT seq FROM events WHERE id = ?", (event_id,)).fetchone()
        return int(row[0]) if row else 0

    def pending(self, limit: int = 50) -> list[Entry]:
        """Return up to ``limit`` unsent events, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM events WHERE sent_at IS NULL AND rejected IS NULL"
                " ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [Entry(seq, json.loads(body)) for seq, body in rows]

    def last_seq(self) -> int:
        """Return the sequence number of the newest event (0 for an empty journal)."""
        with self._lock:
            row = self._db.execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def pending_count(self) -> int:
        """How many events wait to be shipped."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM events WHERE sent_at IS NULL AND rejected IS NULL"
            ).fetchone()
        return int(row[0])

    def mark_sent(self, seqs: list[int], at: datetime | None = None) -> None:
        """Record that the dashboard confirmed these events."""
        stamp = (at or utc_now()).isoformat()
        with self._lock, self._errors("mark events sent in"):
            self._db.executemany("UPDATE events SET sent_at = ? WHERE seq = ?", [(stamp, s) for s in seqs])

    def mark_rejected(self, seq: int, reason: str) -> None:
        """Set aside an event the dashboard refuses for good, so it does not block the others."""
        with self._lock, self._errors("set aside an event in"):
            self._db.execute("UPDATE events SET rejected = ? WHERE seq = ?", (reason[:500], seq))

    def set_aside(self) -> list[SetAside]:
        """Return the events set aside (refused by the dashboard), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, id, type, at, rejected FROM events"
                " WHERE rejected IS NOT NULL AND sent_at IS NULL ORDER BY seq"
            ).fetchall()
        return [SetAside(seq, event_id, kind, at, reason) for seq, event_id, kind, at, reason in rows]

    def resend(self, event_ids: list[str] | None = None) -> int:
        """Put set-aside events back in the queue (all when ``event_ids`` is None); return how many."""
        with self._lock, self._errors("put set-aside events back in"):
            if event_ids is None:
                cursor = self._db.execute(
                    "UPDATE events SET rejected = NULL WHERE rejected IS NOT NULL AND sent_at IS NULL"
                )
            else:
                cursor = self._db.executemany(
                    "UPDATE events SET rejected = NULL"
                    " WHERE id = ? AND rejected IS NOT NULL AND sent_at IS NULL",
                    [(event_id,) for event_id in event_ids],
                )
            return int(cursor.rowcount or 0)

    def events(self) -> list[dict]:
        """Return every journalled event, oldest first (for reports and tests)."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM events ORDER BY seq").fetchall()
        return [json.loads(body) for (body,) in rows]

    def purge(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Delete shipped events older than ``older_than`` (screenings are health data)."""
        cutoff = ((now or utc_now()) - older_than).isoformat()
        with self._lock, self._errors("purge"):
            cursor = self._db.execute(
                "DELETE FROM events WHERE sent_at IS NOT NULL AND at < ?",
                (cutoff,),
            )
        return cursor.rowcount

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as err:
            raise JournalError(f"cannot {doing} the journal {self.path}: {err}") from err

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

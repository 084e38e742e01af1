"""Forwarding live messages to building systems: the outbox read in order, handed to each sink.

``gerbang dashboard forward`` runs one ``Forwarder`` (one per cluster: it is not a web process).
It reads the same outbox the live pages read (``live.OutboxReader``), so it sees what every
dashboard process ingested, in order, once committed, and hands each message to its sinks: MQTT
(``mqtt.py``) and signed webhooks (``webhooks.py``). A sink that fails is logged and the message
is not retried by the forwarder (the webhook sink retries on its own; MQTT state is retained and
the next update supersedes it). With a ``PositionFile`` the forwarder notes the last message it
handed over, and a restart resumes right after it: what came while it was stopped is forwarded late,
not lost (as long as the outbox still holds it: one day).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from dashboard.live import Message, Notifier, OutboxReader

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Somewhere live messages go."""

    def deliver(self, message: Message) -> None:
        """Hand over one message (``occupancy`` or ``alert``); raise on failure."""


class PositionFile:
    """The id of the last outbox message forwarded, kept in a small text file.

    Args:
        path: The file; written by atomic replacement, so a crash leaves the old or the new id.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int | None:
        """Return the saved id, or None when there is none yet.

        Raises:
            ValueError: The file holds something else than an id (it names the file).
        """
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return None
        if not text.isdigit():
            raise ValueError(f"{self.path} should hold the id of an outbox message, not {text[:40]!r}")
        return int(text)

    def save(self, message_id: int) -> None:
        """Remember ``message_id`` as forwarded."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w") as file:
            file.write(f"{message_id}\n")
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self.path)


def starting_point(position: PositionFile | None, newest_id: Callable[[], int]) -> int:
    """Return the outbox id to forward after: the saved position, else the newest message.

    A new position file gets the newest id at once, so a restart resumes there even when the
    forwarder stopped before it forwarded anything.

    Args:
        position: The position file, or None.
        newest_id: Returns the newest outbox id (``live.last_id``).

    Raises:
        ValueError: The position file holds something else than an id.
        OSError: The position file cannot be read or written.
    """
    start = position.load() if position is not None else None
    if start is None:
        start = newest_id()
        if position is not None:
            position.save(start)
    return start


class Forwarder:
    """Hands every new outbox message to every sink, in order.

    Args:
        reader: The outbox, from the position to start after.
        notifier: Wakes the loop when messages may be waiting.
        sinks: Where messages go.
        position: Where to note the last message forwarded (None: nowhere).
    """

    def __init__(
        self,
        reader: OutboxReader,
        notifier: Notifier,
        sinks: Sequence[Sink],
        position: PositionFile | None = None,
    ) -> None:
        self.reader = reader
        self.notifier = notifier
        self.sinks = list(sinks)
        self.position = position
        self.forwarded = 0
        self.failures = 0

    def run_once(self) -> int:
        """Forward what is waiting now; return how many messages were read."""
        messages = self.reader.read()
        for message in messages:
            for sink in self.sinks:
                try:
                    sink.deliver(message)
                except Exception as err:  # one broken sink must not stop the others
                    self.failures += 1
                    log.error("forwarding message %s to %s failed: %s", message.id, type(sink).__name__, err)
            self.forwarded += 1
        if messages and self.position is not None:
            self.position.save(messages[-1].id)
        return len(messages)

    def run(self, stop: threading.Event, wait_s: float = 1.0) -> None:
        """Forward until ``stop`` is set."""
        while not stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception:  # the database restarting: keep going
                log.exception("reading the outbox failed; trying again")
            self.notifier.wait(wait_s)

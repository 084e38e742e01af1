"""Forwarding live messages to building systems: the outbox read in order, handed to each sink.

``gerbang dashboard forward`` runs one ``Forwarder`` (one per cluster: it is not a web process).
It reads the same outbox the live pages read (``live.OutboxReader``), so it sees what every
dashboard process ingested, in order, once committed, and hands each message to its sinks: MQTT
(``mqtt.py``) and signed webhooks (``webhooks.py``). A sink that fails is logged and the message
is not retried by the forwarder (the webhook sink retries on its own; MQTT state is retained and
the next update supersedes it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from dashboard.live import Message, Notifier, OutboxReader

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Somewhere live messages go."""

    def deliver(self, message: Message) -> None:
        """Hand over one message (``occupancy`` or ``alert``); raise on failure."""


class Forwarder:
    """Hands every new outbox message to every sink, in order.

    Args:
        reader: The outbox, from the position to start after.
        notifier: Wakes the loop when messages may be waiting.
        sinks: Where messages go.
    """

    def __init__(self, reader: OutboxReader, notifier: Notifier, sinks: Sequence[Sink]) -> None:
        self.reader = reader
        self.notifier = notifier
        self.sinks = list(sinks)
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

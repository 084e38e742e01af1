"""Live streams served on the event loop: no request thread is held while a page listens.

``gerbang dashboard run`` serves the app on an asyncio server (``dashboard.serve``); requests for
``/live/stream`` come here instead of to a WSGI thread:

- the request first goes through the Flask app in a short worker-thread call (the same view, the
  same login check by session cookie, proxies, headers and errors as every page): the view sees
  the hand-off key in its environ and returns the stream's start instead of streaming itself;
- one ``OutboxFeed`` thread per process reads the outbox whenever the notifier says (PostgreSQL
  ``LISTEN/NOTIFY`` or polling) and hands each batch to the loop, where ``LiveHub`` copies it to
  every open stream: one database read per wake for all pages, however many there are;
- a stream that starts behind the hub (``after=`` or ``Last-Event-ID``) is first caught up from the
  outbox up to the hub's position, then follows the hub;
- at most ``LIVE_MAX_STREAMS`` streams are open per process; the next is refused with a 503 and
  ``Retry-After`` (the page tries again then);
- a page that reads too slowly is closed; its browser comes back with ``Last-Event-ID`` and is
  caught up from the outbox, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from a2wsgi.wsgi import build_environ
from flask import Flask
from sqlalchemy import Engine, select

from dashboard import metrics
from dashboard.db import get_engine, new_session
from dashboard.live import HANDOFF_KEY, Message, Notifier, OutboxReader, last_id
from dashboard.models import LiveEvent
from dashboard.scope import RIGHTS_KIND, StreamStart

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: The scope extension (``dashboard.serve``) writing a chunk of a started response straight to its
#: socket; it returns False when the stream must end (closed, or the page reads too slowly).
BODY_WRITER = "gerbang.body_writer"
RETRY_AFTER_S = 5
QUEUE_BATCHES = 256  # batches a page may fall behind before it is closed (and catches up on return)
HEARTBEAT_S = 10.0
CATCH_UP_ROWS = 500


@dataclass(frozen=True, slots=True)
class Batch:
    """Messages read together, each encoded once for every stream."""

    messages: tuple[Message, ...]
    encoded: tuple[bytes, ...]
    _whole: dict[tuple[frozenset[str] | None, frozenset[str]], bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, messages: Iterable[Message]) -> Batch:
        """Encode ``messages`` in the text/event-stream format."""
        found = tuple(messages)
        return cls(found, tuple(m.to_sse().encode() for m in found))

    def after(self, start: StreamStart, after_id: int) -> bytes:
        """The part of this batch for a stream past ``after_id`` that ``start`` may see."""
        if self.messages and after_id < self.messages[0].id:  # the usual case: joined once per audience
            whole = self._whole.get(start.audience)
            if whole is None:
                whole = self._whole[start.audience] = self._join(start, after_id)
            return whole
        return self._join(start, after_id)

    def _join(self, start: StreamStart, after_id: int) -> bytes:
        return b"".join(
            text
            for message, text in zip(self.messages, self.encoded, strict=True)
            if message.id > after_id and start.may_see(message)
        )


@dataclass(eq=False)
class Subscriber:
    """One open stream as the hub sees it."""

    start: StreamStart
    after_id: int
    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_BATCHES))
    overflowed: bool = False
    write: Callable[[bytes], bool] | None = None  # set once caught up: messages go straight out

    def offer(self, batch: Batch) -> None:
        """Send or queue this stream's part of ``batch``; close the stream when it lags too far."""
        if self.overflowed:
            return
        text = batch.after(self.start, self.after_id)
        if batch.messages:
            self.after_id = max(self.after_id, batch.messages[-1].id)
        if text:
            self._put(text)

    def go_direct(self, write: Callable[[bytes], bool]) -> bool:
        """Send what is queued through ``write``, then send every later message through it at once.

        Returns False when the stream is to end (it was closed, or ``write`` refused).
        """
        while not self.queue.empty():
            text = self.queue.get_nowait()
            if text is None or not write(text):
                self.close()
                return False
        self.write = write
        return True

    def _put(self, text: bytes) -> None:
        if self.write is not None:
            if not self.write(text):
                self.overflowed = True
                self.write = None
                self.close()
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        """End the stream at its next read; what it had not sent yet is dropped.

        Nothing is lost: the browser comes back with the last id it received and is caught up.
        """
        self.write = None  # nothing more goes out once the end is queued
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    def beat(self) -> None:
        """Send a keep-alive comment if nothing is waiting to be sent."""
        if self.queue.empty() and not self.overflowed:
            self._put(b": keep-alive\n\n")


class LiveHub:
    """The loop's side: the open streams and the position the outbox has been read to.

    A batch is handed to the streams ``SLICE`` at a time, ``SLICE_GAP_S`` apart, so a station's
    request waiting for the loop waits for one slice, not for a thousand pages, and between slices
    the loop sleeps on its sockets and the request threads have the GIL to themselves.
    ``bench/live.py`` (1,000 pages, the ingest p99 against no pages, same run): 16 a slice gave 0.99–1.24
    in four runs, 64 gave 0.94–1.88 in five (two over 1.5); a page's update then arrives within 300 ms
    instead of 250 ms.
    """

    SLICE = 16
    SLICE_GAP_S = 0.001

    def __init__(self, position: int, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.position = position
        self.subscribers: set[Subscriber] = set()
        self._loop = loop
        self._pending: deque[tuple[Batch, list[Subscriber]]] = deque()
        self._pumping = False

    def publish(self, messages: list[Message]) -> None:
        """Hand a batch read from the outbox to every open stream (on the loop)."""
        if not messages:
            return
        self.position = max(self.position, messages[-1].id)
        for message in messages:
            if message.kind == RIGHTS_KIND:  # logged out, disabled, other sites: checked again
                for subscriber in self.subscribers:
                    if subscriber.start.ended_by(message):
                        subscriber.close()
        self._pending.append((Batch.of(messages), list(self.subscribers)))
        if not self._pumping:
            self._pumping = True
            self._pump()

    def _pump(self) -> None:
        budget = self.SLICE
        while self._pending and budget > 0:
            batch, targets = self._pending[0]
            while targets and budget > 0:
                targets.pop().offer(batch)
                budget -= 1
            if not targets:
                self._pending.popleft()
        if self._pending:
            # a pause between slices: the loop waits on its sockets, and request threads get the GIL
            (self._loop or asyncio.get_running_loop()).call_later(self.SLICE_GAP_S, self._pump)
        else:
            self._pumping = False

    def subscribe(self, start: StreamStart) -> tuple[Subscriber, int]:
        """Add a stream; return it and the hub's position, up to which it must be caught up."""
        subscriber = Subscriber(start, max(start.after_id, self.position))
        self.subscribers.add(subscriber)
        return subscriber, self.position

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a closed stream."""
        self.subscribers.discard(subscriber)

    def close_all(self) -> None:
        """End every stream (shutdown)."""
        for subscriber in list(self.subscribers):
            subscriber.close()


class OutboxFeed:
    """One thread per process: reads the outbox when told to and hands each batch on.

    Args:
        reader: Reads the outbox from the hub's starting position.
        notifier: Says when to read again.
        deliver: Called in this thread with every non-empty batch.
        min_read_interval_s: Shortest time between two reads (a busy fleet's commits gathered).
        max_wait_s: Longest wait between two reads.
    """

    def __init__(
        self,
        reader: OutboxReader,
        notifier: Notifier,
        deliver: Callable[[list[Message]], None],
        min_read_interval_s: float = 0.2,
        max_wait_s: float = 1.0,
    ) -> None:
        self.reader = reader
        self.notifier = notifier
        self.deliver = deliver
        self.min_read_interval_s = min_read_interval_s
        self.max_wait_s = max_wait_s
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="gerbang-live-feed", daemon=True)

    def start(self) -> None:
        """Start reading in the background."""
        self._thread.start()

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop reading."""
        self.stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def run(self) -> None:
        """Read, hand on, wait; until ``stop`` is set."""
        while not self.stop.is_set():
            read_at = time.monotonic()
            try:
                messages = self.reader.read(CATCH_UP_ROWS)
            except Exception as err:  # the database restarting: streams stay open, reads resume
                problem = str(err).splitlines()[0]
                log.warning("live streams: cannot read the outbox (%s); trying again", problem)
                self.stop.wait(1.0)
                continue
            if messages:
                self.deliver(messages)
            if len(messages) == CATCH_UP_ROWS:
                continue  # more are waiting
            self.notifier.wait(self.max_wait_s)
            pause_s = self.min_read_interval_s - (time.monotonic() - read_at)
            if pause_s > 0:
                self.stop.wait(pause_s)


def catch_up(engine: Engine, start: StreamStart, after_id: int, until_id: int) -> list[Message]:
    """The messages after ``after_id`` up to ``until_id`` that ``start`` may see (a replay).

    The hub has already waited out the outbox's gaps up to ``until_id``: rows are read as they are.
    """
    found: list[Message] = []
    while after_id < until_id:
        statement = (
            select(LiveEvent.id, LiveEvent.kind, LiveEvent.payload)
            .where(LiveEvent.id > after_id, LiveEvent.id <= until_id)
            .order_by(LiveEvent.id)
            .limit(CATCH_UP_ROWS)
        )
        with engine.connect() as conn:
            rows = conn.execute(statement).all()
        if not rows:
            break
        for row_id, kind, payload in rows:
            message = Message(row_id, kind, json.loads(payload))
            if start.may_see(message):
                found.append(message)
        after_id = rows[-1][0]
    return found


@dataclass(frozen=True, slots=True)
class FlaskAnswer:
    """What the Flask view answered a stream request: a start, or a response to pass on."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    start: StreamStart | None


class LiveStreams:
    """The ASGI app of ``/live/stream``.

    Args:
        app: The Flask app (its ``/live/stream`` view authorizes and says where to start).
        max_streams: Streams this process keeps open at once (``LIVE_MAX_STREAMS``).
        authorize_threads: Worker threads for the login checks of new streams (kept apart from the
            request threads, so a thousand pages reconnecting at once do not queue station uploads).
    """

    def __init__(self, app: Flask, max_streams: int | None = None, authorize_threads: int = 4) -> None:
        self.app = app
        config = app.config
        self.max_streams = int(max_streams if max_streams is not None else config["LIVE_MAX_STREAMS"])
        self.duration_s = float(config["LIVE_STREAM_S"])
        self.heartbeat_s = HEARTBEAT_S
        self.opening = 0
        self.hub: LiveHub | None = None
        self.feed: OutboxFeed | None = None
        self._executor = ThreadPoolExecutor(authorize_threads, thread_name_prefix="gerbang-live-auth")
        self._start_lock: asyncio.Lock | None = None

    @property
    def open_streams(self) -> int:
        """Streams open now (being opened included)."""
        return self.opening + (len(self.hub.subscribers) if self.hub else 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ``GET /live/stream``."""
        if self.open_streams >= self.max_streams:
            await self._refuse(send)
            return
        self.opening += 1
        subscriber: Subscriber | None = None
        try:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self._executor, self._ask_flask, scope)
            if answer.start is None:  # not logged in, not allowed, the database down ...
                await _send_whole(send, answer.status, answer.headers, answer.body)
                return
            hub = await self._started_hub()
            subscriber, position = hub.subscribe(answer.start)
            self.opening -= 1
            gauge = self.app.extensions[metrics.EXTENSION].live_streams  # /metrics: streams open now
            gauge.inc()
            try:
                await self._stream(scope, receive, send, answer, subscriber, position)
            finally:
                gauge.dec()
        finally:
            if subscriber is None:
                self.opening -= 1
            elif self.hub is not None:
                self.hub.unsubscribe(subscriber)

    def close(self) -> None:
        """End every stream and stop the feed (shutdown)."""
        if self.hub is not None:
            self.hub.close_all()
        if self.feed is not None:
            self.feed.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _started_hub(self) -> LiveHub:
        if self.hub is not None:
            return self.hub
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self.hub is None:
                loop = asyncio.get_running_loop()
                position = await loop.run_in_executor(self._executor, self._newest)
                hub = LiveHub(position, loop)
                config = self.app.config
                reader = OutboxReader(get_engine(self.app), position, config["LIVE_GAP_GRACE_S"])

                def publish(messages: list[Message]) -> None:
                    loop.call_soon_threadsafe(hub.publish, messages)

                self.feed = OutboxFeed(
                    reader,
                    self.app.extensions["gerbang_notifier"],
                    publish,
                    min_read_interval_s=config["LIVE_MIN_READ_INTERVAL_S"],
                    max_wait_s=config.get("LIVE_MAX_WAIT_S", 1.0),
                )
                self.feed.start()
                self.hub = hub
        return self.hub

    def _newest(self) -> int:
        with new_session(self.app) as session:
            return last_id(session)

    def _ask_flask(self, scope: Scope) -> FlaskAnswer:
        """Run the request through the Flask app (in a worker thread) with the hand-off key set."""
        environ = cast("dict[str, Any]", build_environ(scope, io.BytesIO(b"")))  # type: ignore[arg-type]
        handoff: list[StreamStart] = []
        environ[HANDOFF_KEY] = handoff
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in headers
                if name.lower() != "content-length"
            ]
            return lambda _data: None

        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return FlaskAnswer(started["status"], started["headers"], body, handoff[0] if handoff else None)

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        answer: FlaskAnswer,
        subscriber: Subscriber,
        position: int,
    ) -> None:
        loop = asyncio.get_running_loop()
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body", "body": b"retry: 1000\n\n", "more_body": True})
        start = answer.start
        assert start is not None
        if start.after_id < position:
            replay = await loop.run_in_executor(
                self._executor, catch_up, get_engine(self.app), start, start.after_id, position
            )
            if replay:
                first = Batch.of(replay).after(start, -1)
                await send({"type": "http.response.body", "body": first, "more_body": True})
        write = scope.get("extensions", {}).get(BODY_WRITER)
        if write is not None and not subscriber.go_direct(write):
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        watcher = asyncio.ensure_future(_until_disconnect(receive, subscriber))
        # Timers, not a timeout per read: a read is one await, whatever the number of pages.
        timers = [loop.call_later(self.duration_s, subscriber.close)]

        def beat() -> None:
            subscriber.beat()
            timers.append(loop.call_later(self.heartbeat_s, beat))

        timers.append(loop.call_later(self.heartbeat_s, beat))
        try:
            while (text := await subscriber.queue.get()) is not None:
                await send({"type": "http.response.body", "body": text, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            for timer in timers:
                timer.cancel()

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": "too many live pages open on this server; try again shortly"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"retry-after", str(RETRY_AFTER_S).encode()),
            (b"cache-control", b"no-store"),
        ]
        await _send_whole(send, 503, headers, body)


async def _until_disconnect(receive: Receive, subscriber: Subscriber) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            subscriber.close()
            return


async def _send_whole(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})

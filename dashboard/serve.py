"""The dashboard's server: one asyncio loop for every socket, worker threads for the Flask app.

``gerbang dashboard run`` serves this (uvicorn; HTTP/1.1 parsed by httptools). Why not waitress
alone: waitress answers each request from one of its threads until the response ends, so every open
live page held a thread, and 32 pages stopped the dashboard. Here:

- ``/live/stream`` is served on the loop (``dashboard.livestream``): an open page costs a socket
  and a queue, never a thread; at most ``LIVE_MAX_STREAMS`` per process, then 503 + Retry-After.
  The stream's messages are written straight to the page's socket (the ``gerbang.body_writer``
  scope extension, a chunk as uvicorn's own send writes it): a thousand pages cost a thousand
  writes, not a thousand task switches;
- every other request runs the Flask app in one of ``threads`` worker threads (a2wsgi), which are
  busy only while a request is answered: its body is read on the loop first (at most
  ``MAX_CONTENT_LENGTH``, within 30 s), so a slow or idle client costs no thread;
- idle sockets cost nothing but a file descriptor, and are bounded: a connection must send its
  first request within ``head_timeout_s`` and its next within ``keepalive_s``, and past
  ``connection_limit`` open connections the longest-idle one (one not in a request) is closed to let
  the new one in, so idle sockets never shut out a station or a page.

Forwarded headers are left to the app (``TRUSTED_PROXIES``, Werkzeug's ProxyFix): uvicorn's own
proxy handling is off, so no client can set its address by header.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import sys
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from flask import Flask
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dashboard.livestream import BODY_WRITER, LiveStreams, Receive, Scope, Send

log = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.0005
WRITE_BUFFER_LIMIT = 1024 * 1024  # bytes a live page may leave unread before its stream ends
BODY_TIMEOUT_S = 30.0  # time a request's body may take to arrive (then 408)


class DashboardServer:
    """The ASGI app: live streams on the loop, everything else through the Flask app in threads.

    Args:
        app: The Flask app.
        threads: Worker threads answering requests (database work: the pool is sized to them).
    """

    def __init__(self, app: Flask, threads: int, body_timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app = app
        self.wsgi = WSGIMiddleware(app, workers=threads)  # type: ignore[arg-type]
        self.live = LiveStreams(app)
        self.body_timeout_s = body_timeout_s
        self.max_body_bytes = int(app.config.get("MAX_CONTENT_LENGTH") or 16 * 1024 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one connection's request (or the server's start and stop)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/live/stream":
            await self.live(scope, receive, send)
        elif scope["type"] == "http":
            replay = await self._whole_body(receive, send)
            if replay is not None:
                await self.wsgi(scope, replay, send)  # type: ignore[arg-type]

    async def _whole_body(self, receive: Receive, send: Send) -> Receive | None:
        """Read the request's body on the loop before a thread sees it (as waitress buffers it).

        A client sending its body slowly costs a socket, not a request thread; one taking over
        ``body_timeout_s`` gets a 408, one sending more than ``MAX_CONTENT_LENGTH`` a 413. Returns
        the ``receive`` that hands the app the whole body, or None when answered here.
        """
        body = bytearray()
        more = True
        try:
            async with asyncio.timeout(self.body_timeout_s):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(body) > self.max_body_bytes:
                        await _refuse(send, 413, "the request body is too large")
                        return None
        except TimeoutError:
            await _refuse(send, 408, "the request body took too long to arrive")
            return None
        first: dict[str, Any] | None = {"type": "http.request", "body": bytes(body), "more_body": False}

        async def replay() -> Any:
            nonlocal first
            if first is not None:
                message, first = first, None
                return message
            return await receive()  # a disconnect, later

        return replay

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Everything loaded so far (Flask, SQLAlchemy, the app) lives as long as the process:
                # kept out of the collector's full passes, which would otherwise stop every thread
                # for tens of milliseconds now and then once a thousand pages make garbage.
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.live.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 connection (httptools' parser) with limits on idle sockets (module's note).

    The limits are class attributes, set on a subclass by ``protocol_class``.
    """

    connection_limit = 4000
    head_timeout_s = 10.0
    keepalive_s = 120.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Take the connection; above the limit, close the longest-idle one (or this one)."""
        super().connection_made(transport)
        self._idle_since = self.loop.time()
        self._idle_timer: asyncio.TimerHandle | None = None
        if len(self.connections) > self.connection_limit:
            victim = _longest_idle(self.connections, self)
            if victim is None:
                log.warning("connection limit (%s) reached, all busy: refused", self.connection_limit)
                transport.close()
                return
            victim.transport.close()
        self._arm(self.head_timeout_s)

    def on_headers_complete(self) -> None:
        """Start the request; give the live stream a way to write its body without a task switch."""
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:
            extensions = cast("dict[str, Any]", self.scope.setdefault("extensions", {}))
            extensions[BODY_WRITER] = functools.partial(_write_body, cycle)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection and its timer."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        """A request answered: the connection is idle again until its next one."""
        super().on_response_complete()
        self._idle_since = self.loop.time()
        self._arm(self.keepalive_s)

    @property
    def busy(self) -> bool:
        """Whether a request is being answered on this connection (a live stream included)."""
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self, timeout_s: float) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = self.loop.call_later(timeout_s, self._idle_timeout)

    def _idle_timeout(self) -> None:
        self._idle_timer = None
        if not self.busy and not self.transport.is_closing():
            self.transport.close()


def _write_body(cycle: Any, data: bytes) -> bool:
    """Write ``data`` as the next part of a started, chunked response body, as uvicorn's send would.

    Returns False when it cannot (the response is not started, not chunked, or over) or the client
    reads too slowly (over ``WRITE_BUFFER_LIMIT`` waiting): the stream then ends.
    """
    transport = cycle.transport
    if not cycle.response_started or cycle.response_complete or cycle.disconnected or transport.is_closing():
        return False
    if cycle.chunked_encoding is not True:
        return False
    transport.write(b"%x\r\n%b\r\n" % (len(data), data))
    return transport.get_write_buffer_size() <= WRITE_BUFFER_LIMIT


def _longest_idle(connections: Any, newcomer: GuardedProtocol) -> GuardedProtocol | None:
    idle = [
        c
        for c in connections
        if c is not newcomer
        and isinstance(c, GuardedProtocol)
        and not c.busy
        and not c.transport.is_closing()
    ]
    return min(idle, key=lambda c: c._idle_since, default=None)


def protocol_class(connection_limit: int, head_timeout_s: float, keepalive_s: float) -> type[GuardedProtocol]:
    """Return ``GuardedProtocol`` with these limits."""
    return type(
        "Guarded",
        (GuardedProtocol,),
        {"connection_limit": connection_limit, "head_timeout_s": head_timeout_s, "keepalive_s": keepalive_s},
    )


def make_server(
    app: Flask,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = 32,
    connection_limit: int = 4000,
    head_timeout_s: float = 10.0,
    keepalive_s: float = 120.0,
    backlog: int = 2048,
) -> Any:
    """Return a ``uvicorn.Server`` for ``app``; ``run()`` serves until SIGINT or SIGTERM.

    Args:
        app: The Flask app.
        host: Address to listen on.
        port: Port to listen on.
        threads: Worker threads for the Flask app.
        connection_limit: Open connections kept; past it the longest-idle one is closed.
        head_timeout_s: Time a new connection has to send its first request.
        keepalive_s: Time a kept-alive connection may wait for its next request.
        backlog: Connections the kernel queues before they are accepted.
    """
    import uvicorn

    # The loop thread and the request threads share one GIL. A request thread coming back from the
    # database waits for the GIL up to the switch interval (5 ms by default) whenever the loop is
    # busy writing to a thousand live pages: a dozen statements, a dozen waits. 0.5 ms keeps that
    # wait small at a negligible cost in switches.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    config = uvicorn.Config(
        DashboardServer(app, threads),
        host=host,
        port=port,
        http=protocol_class(connection_limit, head_timeout_s, keepalive_s),
        ws="none",
        lifespan="on",
        proxy_headers=False,  # TRUSTED_PROXIES (ProxyFix) decides whom to believe
        server_header=False,
        access_log=False,
        log_config=None,
        timeout_keep_alive=int(keepalive_s),
        timeout_graceful_shutdown=2,
        backlog=backlog,
    )
    return uvicorn.Server(config)

"""Open live pages and idle sockets against a real ``gerbang dashboard run``: it keeps answering.

Live streams are served on the event loop, not by request threads (issue 13, finding 1); idle
sockets cost no thread and are closed when they crowd out others (finding 3).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import resource
import socket
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fleet_support import PASSWORD, Dashboard, log_in

from dashboard import create_app, manage
from dashboard.db import get_engine, new_session
from dashboard.migrate import upgrade
from dashboard.models import Role

pytestmark = pytest.mark.slow
USER_AGENT = f"Python-urllib/{sys.version_info.major}.{sys.version_info.minor}"


class Served:
    """A migrated SQLite dashboard with a room, a station and a supervisor, served by the CLI."""

    def __init__(self, tmp_path: Path, extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None):
        self.url = url = f"sqlite:///{tmp_path / 'dashboard.sqlite3'}"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "fleet tests"})
        with new_session(app) as session:
            manage.add_room(session, "kantor", "loket", 1000, 0.5)
            _, self.token = manage.add_station(session, "gate-1", "loket")
            manage.create_user(session, "pengawas", PASSWORD, Role.SUPERVISOR, locale="en", sites=["kantor"])
        get_engine(app).dispose()
        self.dashboard = Dashboard(url, tmp_path, threads=8, extra_args=extra_args, env=env)
        self.dashboard.start()
        opener = log_in(self.dashboard)
        cookies = [c for handler in opener.handlers for c in getattr(handler, "cookiejar", [])]
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in cookies)

    def open_stream(self, after: int | None = None) -> socket.socket:
        """Open a live stream on a raw socket; return it once its status line arrived."""
        sock = socket.create_connection(("127.0.0.1", self.dashboard.port), timeout=10)
        query = f"?after={after}" if after is not None else ""
        sock.sendall(
            f"GET /live/stream{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
            f"User-Agent: {USER_AGENT}\r\n"  # the login's: the session is bound to it
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        return sock

    def ingest_one(self) -> tuple[int, float]:
        """POST one crossing; return its status and how long the answer took."""
        event = {"id": str(uuid.uuid4()), "type": "crossing", "at": datetime.now(UTC).isoformat()}
        event |= {"direction": "in", "door": "main"}
        conn = http.client.HTTPConnection("127.0.0.1", self.dashboard.port, timeout=10)
        started = time.monotonic()
        try:
            conn.request(
                "POST",
                "/api/v1/events",
                body=json.dumps({"events": [event]}),
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            return response.status, time.monotonic() - started
        finally:
            conn.close()

    def health(self) -> tuple[int, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.dashboard.port, timeout=10)
        started = time.monotonic()
        try:
            conn.request("GET", "/api/v1/health")
            response = conn.getresponse()
            response.read()
            return response.status, time.monotonic() - started
        finally:
            conn.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path)
    yield server
    server.dashboard.stop()


def read_until(sock: socket.socket, marker: bytes, timeout_s: float = 10) -> bytes:
    sock.settimeout(timeout_s)
    data = b""
    deadline = time.monotonic() + timeout_s
    while marker not in data and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_with_64_live_pages_open_health_and_ingest_answer_within_2_s(served: Served) -> None:
    streams = [served.open_stream() for _ in range(64)]
    try:
        heads = [read_until(sock, b"retry: 1000") for sock in streams]
        assert all(head.startswith(b"HTTP/1.1 200") for head in heads)  # every page is streaming
        health_status, health_s = served.health()
        ingest_status, ingest_s = served.ingest_one()
        assert (health_status, ingest_status) == (200, 200)
        assert health_s < 2, health_s
        assert ingest_s < 2, ingest_s
        # ... and every open page is told of the crossing
        updates = [read_until(sock, b'"occupancy":1') for sock in streams]
        assert all(b"event: occupancy" in update for update in updates)
        assert live_streams_metric(served) == 64  # /metrics counts the streams on the event loop
    finally:
        for sock in streams:
            sock.close()


def live_streams_metric(served: Served) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    conn = http.client.HTTPConnection("127.0.0.1", served.dashboard.port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    return families["gerbang_live_streams"].samples[0].value


def test_a_stream_replays_after_its_position_then_follows(served: Served) -> None:
    assert served.ingest_one()[0] == 200
    replay = served.open_stream(after=0)
    try:
        assert b'"occupancy":1' in read_until(replay, b'"occupancy":1')  # the replay of what came before
        assert served.ingest_one()[0] == 200
        assert b'"occupancy":2' in read_until(replay, b'"occupancy":2')  # then the live update
    finally:
        replay.close()


def test_a_stream_without_a_login_is_refused(served: Served) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.dashboard.port, timeout=10)
    try:
        conn.request("GET", "/live/stream")
        response = conn.getresponse()
        assert response.status == 401
        assert json.loads(response.read()) == {"error": "login required"}
    finally:
        conn.close()


def test_past_the_cap_a_stream_is_refused_with_retry_after(tmp_path: Path) -> None:
    server = Served(tmp_path, env={"GERBANG_LIVE_MAX_STREAMS": "3"})
    streams = [server.open_stream() for _ in range(3)]
    try:
        assert all(read_until(sock, b"retry: 1000").startswith(b"HTTP/1.1 200") for sock in streams)
        conn = http.client.HTTPConnection("127.0.0.1", server.dashboard.port, timeout=10)
        try:
            conn.request("GET", "/live/stream", headers={"Cookie": server.cookie, "User-Agent": USER_AGENT})
            response = conn.getresponse()
            assert response.status == 503
            assert response.getheader("Retry-After") == "5"
            assert "try again" in json.loads(response.read())["error"]
        finally:
            conn.close()
        assert server.health()[0] == 200  # the rest of the dashboard is not refused
    finally:
        for sock in streams:
            sock.close()
        server.dashboard.stop()


@contextlib.contextmanager
def open_files(count: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, count))
    if wanted < count:
        pytest.skip(f"the open-files limit ({hard}) is below {count}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize(
    ("connection_limit", "idle_count"),
    [
        (4000, 1100),  # the default limit: 1,100 idle sockets are just held, at no thread's cost
        (1000, 1100),  # idle sockets past the limit: the longest-idle ones are closed for newcomers
    ],
)
def test_1100_idle_sockets_do_not_stop_the_dashboard(
    tmp_path: Path, connection_limit: int, idle_count: int
) -> None:
    with open_files(idle_count + 500):
        server = Served(tmp_path, extra_args=("--connection-limit", str(connection_limit)))
        idle = []
        try:
            for _ in range(idle_count):  # connected, and never a byte sent
                idle.append(socket.create_connection(("127.0.0.1", server.dashboard.port), timeout=10))
            status, took_s = server.health()
            assert status == 200
            assert took_s < 3, took_s
            assert server.ingest_one()[0] == 200
        finally:
            for sock in idle:
                sock.close()
            server.dashboard.stop()


def test_slow_request_bodies_hold_no_request_thread(served: Served) -> None:
    # 40 uploads that announce a body and send it a byte at a time: waitress-like buffering on the
    # loop, so the 8 request threads stay free for stations
    slow = []
    try:
        for _ in range(40):
            sock = socket.create_connection(("127.0.0.1", served.dashboard.port), timeout=10)
            sock.sendall(
                b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + served.token.encode() + b"\r\nContent-Length: 1000\r\n\r\n{"
            )
            slow.append(sock)
        health_status, health_s = served.health()
        ingest_status, ingest_s = served.ingest_one()
        assert (health_status, ingest_status) == (200, 200)
        assert health_s < 2, health_s
        assert ingest_s < 2, ingest_s
    finally:
        for sock in slow:
            sock.close()


def _log_out_elsewhere(served: Served) -> None:
    """Log the supervisor out from another browser: every session of theirs ends."""
    other = log_in(served.dashboard)
    page = other.open(f"{served.dashboard.base}/", timeout=10).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    form = urllib.parse.urlencode({"csrf_token": csrf.group(1)}).encode()
    other.open(f"{served.dashboard.base}/logout", data=form, timeout=10).read()


def _take_sites_away(served: Served) -> None:
    """An admin takes the supervisor off every site (``gerbang dashboard user pengawas --no-sites``)."""
    app = create_app({"DATABASE_URL": served.url, "SECRET_KEY": "fleet tests"})
    with new_session(app) as session:
        manage.set_user_sites(session, "pengawas", [])
    get_engine(app).dispose()


@pytest.mark.parametrize(
    "change",
    [
        # logged out in another browser: the copied cookie's stream must not go on for its 55 s
        _log_out_elsewhere,
        # moved off the site: the stream is checked again, not left with the old scope
        _take_sites_away,
    ],
)
def test_an_open_stream_ends_when_its_users_rights_change(
    served: Served, change: Callable[[Served], None]
) -> None:
    sock = served.open_stream()
    try:
        assert read_until(sock, b"retry: 1000").startswith(b"HTTP/1.1 200")
        change(served)
        started = time.monotonic()
        tail = read_until(sock, b"0\r\n\r\n", timeout_s=10)  # the chunked body's end
        assert tail.endswith(b"0\r\n\r\n"), tail
        assert time.monotonic() - started < 3  # the stream lasts LIVE_STREAM_S (55 s) otherwise
    finally:
        sock.close()

"""Live updates: the outbox, its reader's gap rule, and the Server-Sent Events stream."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_support import app_settings
from dashboard_wire import bearer, crossing, screening
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from dashboard import create_app
from dashboard.db import get_engine, new_session
from dashboard.live import OutboxReader, PollingNotifier, last_id, publish, stream
from dashboard.models import LiveEvent, Role
from dashboard.notify import ListenNotifier, libpq_url


def messages(body: str) -> list[tuple[int, str, dict]]:
    found = []
    for block in body.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
        )
        if "event" in fields:
            found.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return found


def newest(app: Flask) -> int:
    """The newest outbox id: ids keep rising across tests on PostgreSQL, so streams start here."""
    with new_session(app) as session:
        return last_id(session)


@pytest.fixture
def lobby(make_room: Callable[..., str], make_station: Callable[[str, str], str]) -> str:
    make_room("lobby", capacity_people=4)  # limit 2
    return make_station("gate-1", "lobby")


def test_the_stream_carries_occupancy_and_alerts(
    app: Flask, client: FlaskClient, lobby: str, login: Callable
) -> None:
    login(Role.GUARD)
    start = newest(app)
    client.post("/api/v1/events", json={"events": [crossing("in"), crossing("in")]}, headers=bearer(lobby))
    client.post(
        "/api/v1/events",
        json={"events": [screening("deny", reason="fever", body_c=38.2)]},
        headers=bearer(lobby),
    )
    response = client.get(f"/live/stream?after={start}")
    assert response.mimetype == "text/event-stream"
    got = messages(response.get_data(as_text=True))
    assert [kind for _, kind, _ in got] == ["occupancy", "alert"]
    assert got[0][2] == {
        "site": "kantor-pusat",
        "room": "lobby",
        "occupancy": 2,
        "limit": 2,
        "capacity": 4,
        "state": "full",
    }
    assert got[1][2]["kind"] == "fever"
    assert got[1][2]["room"] == "lobby"


def test_a_duplicate_batch_sends_nothing_live(
    app: Flask, client: FlaskClient, lobby: str, login: Callable
) -> None:
    login(Role.GUARD)
    start = newest(app)
    batch = {"events": [crossing("in")]}
    client.post("/api/v1/events", json=batch, headers=bearer(lobby))
    client.post("/api/v1/events", json=batch, headers=bearer(lobby))
    assert len(messages(client.get(f"/live/stream?after={start}").get_data(as_text=True))) == 1


def test_a_reconnect_resumes_after_the_last_event_id(
    app: Flask, client: FlaskClient, lobby: str, login: Callable
) -> None:
    login(Role.GUARD)
    start = newest(app)
    for _ in range(3):
        client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(lobby))
    first = messages(client.get(f"/live/stream?after={start}").get_data(as_text=True))
    # the third entry goes over the limit of 2: an alert, then the count
    assert [(kind, data.get("occupancy")) for _, kind, data in first] == [
        ("occupancy", 1),
        ("occupancy", 2),
        ("alert", None),
        ("occupancy", 3),
    ]
    resumed = client.get("/live/stream", headers={"Last-Event-ID": str(first[1][0])})
    assert [kind for _, kind, _ in messages(resumed.get_data(as_text=True))] == ["alert", "occupancy"]


def test_without_a_position_the_stream_starts_at_the_newest(
    client: FlaskClient, lobby: str, login: Callable
) -> None:
    login(Role.GUARD)
    client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(lobby))
    assert messages(client.get("/live/stream").get_data(as_text=True)) == []
    assert messages(client.get("/live/stream?after=nonsense").get_data(as_text=True)) == []


def test_another_process_sees_the_change(
    app: Flask, client: FlaskClient, database_url: str, tmp_path: Path, lobby: str, login: Callable
) -> None:
    login(Role.GUARD)
    start = newest(app)
    other = create_app(app_settings(database_url, tmp_path))  # a second server process on the same database
    try:
        other_station = other.test_client()
        other_station.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(lobby))
    finally:
        get_engine(other).dispose()
    got = messages(client.get(f"/live/stream?after={start}").get_data(as_text=True))
    assert got[0][2]["occupancy"] == 1


def test_the_reader_waits_at_a_gap_then_skips_it(app: Flask) -> None:
    base = newest(app)
    with new_session(app) as session:
        for row_id in (base + 1, base + 2, base + 4):  # 3 is in flight (or rolled back)
            session.add(LiveEvent(id=row_id, kind="occupancy", payload="{}"))
        session.commit()
    waiting = OutboxReader(get_engine(app), after_id=base, gap_grace_s=3600)
    assert [m.id - base for m in waiting.read()] == [1, 2]
    assert waiting.read() == []  # still waiting for 3
    with new_session(app) as session:
        session.add(LiveEvent(id=base + 3, kind="occupancy", payload="{}"))
        session.commit()
    assert [m.id - base for m in waiting.read()] == [3, 4]  # 3 committed late and is not lost
    impatient = OutboxReader(get_engine(app), after_id=base + 4, gap_grace_s=0)
    with new_session(app) as session:
        session.add(LiveEvent(id=base + 6, kind="alert", payload='{"kind": "fever"}'))
        session.commit()
    assert [m.id - base for m in impatient.read()] == [6]  # 5 never came: skipped once the grace is over


def test_publish_serialises_json(app: Flask) -> None:
    base = newest(app)
    with new_session(app) as session:
        publish(session, "alert", {"room": "<script>", "detail": "38.0 °C"})
        session.commit()
    message = OutboxReader(get_engine(app), after_id=base).read()[0]
    assert message.data == {"room": "<script>", "detail": "38.0 °C"}
    assert message.to_sse().startswith(f"id: {message.id}\nevent: alert\ndata: {{")


def test_the_reader_skips_a_gap_before_old_rows(app: Flask) -> None:
    from datetime import timedelta

    from dashboard.db import utc_now

    base = newest(app) + 1
    with new_session(app) as session:  # rows base+1 to base+9 were purged long ago
        old = utc_now() - timedelta(minutes=5)
        session.add_all(
            [
                LiveEvent(id=base, kind="occupancy", payload="{}", at=old),
                LiveEvent(id=base + 10, kind="occupancy", payload="{}", at=old),
            ]
        )
        session.commit()
    assert [m.id for m in OutboxReader(get_engine(app), after_id=base, gap_grace_s=3600).read()] == []
    assert [m.id - base for m in OutboxReader(get_engine(app), after_id=base, gap_grace_s=60).read()] == [10]


def test_sqlite_polls_and_postgresql_listens(app: Flask, database_url: str) -> None:
    notifier = app.extensions["gerbang_notifier"]
    expected = ListenNotifier if database_url.startswith("postgresql") else PollingNotifier
    assert type(notifier) is expected


def test_a_commit_in_another_process_wakes_a_listening_stream_at_once(
    app: Flask, database_url: str, tmp_path: Path, lobby: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite polls")
    # Without a notification this stream would sleep for an hour: only NOTIFY can wake it.
    notifier = ListenNotifier(libpq_url(database_url), max_wait_s=3600)
    notifier.start()
    assert notifier.connected.wait(10)
    reader = OutboxReader(get_engine(app), after_id=newest(app))
    got: list[str] = []
    arrived = threading.Event()

    def watch() -> None:
        for chunk in stream(reader, notifier, duration_s=3600):
            if chunk.startswith("id:"):
                got.append(chunk)
                arrived.set()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(0.2)  # let the stream read the empty outbox and go to sleep on the notifier
    other = create_app(app_settings(database_url, tmp_path))  # another server process
    try:
        other.test_client().post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(lobby))
    finally:
        get_engine(other).dispose()
        close = getattr(other.extensions["gerbang_notifier"], "close", None)
        if close:
            close()
    try:
        assert arrived.wait(20), "the stream was not woken by NOTIFY"
        assert '"occupancy":1' in got[0]
    finally:
        notifier.close()
        watcher.join(5)


def test_the_listener_reconnects_after_its_connection_is_killed(app: Flask, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    notifier = ListenNotifier(libpq_url(database_url), max_wait_s=3600, reconnect_s=0.1)
    notifier.start()
    try:
        assert notifier.connected.wait(10)
        first_pid = notifier.backend_pid
        with get_engine(app).begin() as conn:  # what a PostgreSQL restart does to the listener
            killed = conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid}).scalar_one()
        assert killed is True
        deadline = time.monotonic() + 20
        while notifier.backend_pid == first_pid and time.monotonic() < deadline:
            time.sleep(0.01)
        assert notifier.backend_pid != first_pid, "the listener did not reconnect"
        assert notifier.connected.wait(20), "the listener did not come back"
    finally:
        notifier.close()


class _AlwaysAwake:
    """A notifier under a flood of commits: there is always something new."""

    def wait(self, timeout_s: float) -> None:
        return None


class _CountingReader:
    def __init__(self) -> None:
        self.reads = 0

    def read(self) -> list:
        self.reads += 1
        return []


@pytest.mark.parametrize(
    ("min_read_interval_s", "most_reads"),
    [
        # throttled: a read gathers what came in the last 0.1 s (0.5 s of stream, so about 5 reads)
        (0.1, 7),
        # unthrottled (the function's default): every wake-up reads, hundreds of times
        (0.0, None),
    ],
)
def test_a_flood_of_commits_is_read_at_most_every_interval(
    min_read_interval_s: float, most_reads: int | None
) -> None:
    reader = _CountingReader()
    chunks = list(
        stream(reader, _AlwaysAwake(), duration_s=0.5, min_read_interval_s=min_read_interval_s)  # type: ignore[arg-type]
    )
    assert chunks[0].startswith("retry:")
    if most_reads is None:
        assert reader.reads > 100
    else:
        assert 3 <= reader.reads <= most_reads

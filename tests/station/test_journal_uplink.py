"""The journal (SQLite outbox) and the uplink that ships it."""

import json
import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from station.events import CrossingEvent, Direction
from station.journal import Journal, JournalError
from station.uplink import (
    BatchRejectedError,
    BatchTooLargeError,
    HttpSender,
    Receipt,
    ServerError,
    Uplink,
    UplinkError,
)

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def crossing(i, direction=Direction.IN):
    return CrossingEvent(direction=direction, at=T0 + timedelta(seconds=i))


class FakeDashboard:
    """A Sender that stores what it receives and can be told to fail."""

    def __init__(self):
        self.received = []
        self.down = False
        self.refuse = set()
        self.chokes_on = set()  # ids of events it answers a 500 for
        self.failing = False  # a 500 for everything

    def send(self, events):
        if self.down:
            raise UplinkError("connection refused")
        if self.failing or any(event["id"] in self.chokes_on for event in events):
            raise ServerError("http://dashboard/api/v1/events answered 500: Internal Server Error")
        for event in events:
            if event["id"] in self.refuse:
                raise BatchRejectedError(f"events[0] ({event['id']}).direction: bad")
        fresh = [e for e in events if e["id"] not in {r["id"] for r in self.received}]
        self.received += fresh
        return Receipt(len(fresh), len(events) - len(fresh))


def test_journal_survives_reopening_and_keeps_order(tmp_path):
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    events = [crossing(i) for i in range(5)]
    seqs = [journal.append(e) for e in events]
    journal.close()
    reopened = Journal(path)
    assert [entry.seq for entry in reopened.pending()] == seqs
    assert [entry.body["id"] for entry in reopened.pending()] == [e.id for e in events]


def test_appending_the_same_event_twice_keeps_one(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    event = crossing(1)
    assert journal.append(event) == journal.append(event)
    assert journal.pending_count() == 1


def test_a_journal_in_an_impossible_place_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal(tmp_path / "file" / "j.sqlite3")


def test_a_full_journal_refuses_clearly_and_keeps_what_it_had(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3", max_size_mb=0.05)
    written = []

    def fill():
        for i in range(10_000):
            event = crossing(i)
            journal.append(event)
            written.append(event.id)

    with pytest.raises(JournalError, match="full"):
        fill()
    assert written  # it took events until the disk was full
    assert [e["id"] for e in journal.events()] == written


def test_purge_deletes_only_shipped_old_events(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    old_sent, old_pending, new_sent = crossing(0), crossing(1), crossing(40 * 86400)
    for event in (old_sent, old_pending, new_sent):
        journal.append(event)
    journal.mark_sent([journal.seq_of(old_sent.id), journal.seq_of(new_sent.id)])
    assert journal.purge(timedelta(days=30), now=T0 + timedelta(days=41)) == 1
    assert [e["id"] for e in journal.events()] == [old_pending.id, new_sent.id]


def test_uplink_ships_in_order_and_each_event_once_after_an_outage(tmp_path):
    journal, dashboard = Journal(tmp_path / "j.sqlite3"), FakeDashboard()
    uplink = Uplink(journal, dashboard, batch_size=3)
    events = [crossing(i) for i in range(8)]
    for event in events[:4]:
        journal.append(event)
    dashboard.down = True
    with pytest.raises(UplinkError):
        uplink.ship_once()
    for event in events[4:]:
        journal.append(event)
    dashboard.down = False
    while uplink.ship_once():
        pass
    assert [e["id"] for e in dashboard.received] == [e.id for e in events]
    assert journal.pending_count() == 0


def test_a_refused_event_is_set_aside_and_does_not_block_the_rest(tmp_path):
    journal, dashboard = Journal(tmp_path / "j.sqlite3"), FakeDashboard()
    events = [crossing(i) for i in range(4)]
    dashboard.refuse = {events[1].id}
    for event in events:
        journal.append(event)
    uplink = Uplink(journal, dashboard, batch_size=10)
    assert uplink.ship_once() == 4
    assert [e["id"] for e in dashboard.received] == [events[0].id, events[2].id, events[3].id]
    assert journal.pending_count() == 0


def test_an_event_the_dashboard_keeps_failing_on_is_set_aside_and_the_rest_flow(tmp_path):
    journal, dashboard = Journal(tmp_path / "j.sqlite3"), FakeDashboard()
    events = [crossing(i) for i in range(5)]
    dashboard.chokes_on = {events[2].id}  # say a reason with a lone surrogate, on an old dashboard
    for event in events:
        journal.append(event)
    set_aside = []
    uplink = Uplink(journal, dashboard, batch_size=10, on_set_aside=lambda i, r: set_aside.append((i, r)))
    for _ in range(3):  # the same batch fails three times: perhaps the dashboard's own trouble
        with pytest.raises(ServerError):
            uplink.ship_once()
    assert dashboard.received == []
    assert uplink.ship_once() == 5  # then one by one: the others go through, in order
    assert [e["id"] for e in dashboard.received] == [e.id for i, e in enumerate(events) if i != 2]
    assert [i for i, _ in set_aside] == [events[2].id]
    (kept,) = journal.set_aside()
    assert (kept.event_id, kept.kind) == (events[2].id, "crossing")
    assert "answered 500" in kept.reason
    assert journal.pending_count() == 0
    # fixed on the dashboard's side: sent again, once
    dashboard.chokes_on = set()
    assert journal.resend([events[2].id]) == 1
    assert uplink.ship_once() == 1
    assert dashboard.received[-1]["id"] == events[2].id
    assert journal.set_aside() == []


def test_a_dashboard_failing_on_everything_is_down_and_nothing_is_set_aside(tmp_path):
    journal, dashboard = Journal(tmp_path / "j.sqlite3"), FakeDashboard()
    for i in range(3):
        journal.append(crossing(i))
    dashboard.failing = True
    uplink = Uplink(journal, dashboard, batch_size=10)
    for _ in range(6):  # whole batches, then one by one: every event fails alike
        with pytest.raises(ServerError):
            uplink.ship_once()
    assert journal.set_aside() == []
    assert journal.pending_count() == 3
    dashboard.failing = False
    assert uplink.ship_once() == 3


def test_resend_all_puts_every_set_aside_event_back(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    seqs = [journal.append(crossing(i)) for i in range(3)]
    journal.mark_rejected(seqs[0], "bad")
    journal.mark_rejected(seqs[2], "bad too")
    assert [s.seq for s in journal.set_aside()] == [seqs[0], seqs[2]]
    assert journal.pending_count() == 1
    assert journal.resend() == 2
    assert journal.pending_count() == 3
    assert journal.resend(["no-such-id"]) == 0


def test_uplink_thread_catches_up_after_the_dashboard_returns(tmp_path):
    journal, dashboard = Journal(tmp_path / "j.sqlite3"), FakeDashboard()
    dashboard.down = True
    uplink = Uplink(journal, dashboard, backoff_initial_s=0.05, backoff_max_s=0.1, idle_s=0.02)
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
    thread.start()
    events = [crossing(i) for i in range(120)]
    for event in events:
        journal.append(event)
    stop.wait(0.3)
    assert uplink.online is False
    dashboard.down = False
    for _ in range(100):
        if journal.pending_count() == 0:
            break
        stop.wait(0.05)
    stop.set()
    thread.join(timeout=5)
    assert [e["id"] for e in dashboard.received] == [e.id for e in events]
    assert uplink.online is True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive, as waitress does
    answers: ClassVar[list] = []
    seen: ClassVar[list] = []
    peers: ClassVar[list] = []  # the client's (address, port) of each request
    paths: ClassVar[list] = []  # the request target of each request
    hang_up: ClassVar[bool] = False  # close each connection after the answer, without saying so

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.headers["Authorization"], body))
        type(self).peers.append(self.client_address)
        type(self).paths.append(self.path)
        status, answer = type(self).answers.pop(0)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = type(self).hang_up

    def log_message(self, *args):
        pass


@pytest.fixture
def http_dashboard():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    _Handler.peers = []
    _Handler.paths = []
    _Handler.hang_up = False
    yield server, _Handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("status", "answer", "raised"),
    [
        # accepted
        (200, {"accepted": 1, "duplicates": 0}, None),
        # a refused batch: not worth retrying as it is
        (400, {"error": "events[0] (x).direction: expected one of in, out"}, BatchRejectedError),
        # a server in trouble: retry later
        (503, {"error": "database unavailable"}, UplinkError),
        # a server error: retry, and narrow it down if the same batch keeps failing
        (500, {"error": "Internal Server Error"}, ServerError),
        # a batch too large for the dashboard: split it
        (413, {"error": "Request Entity Too Large"}, BatchTooLargeError),
        # a revoked token: retry later (a person must fix it), never drop events
        (401, {"error": "unknown station token"}, UplinkError),
    ],
)
def test_http_sender(http_dashboard, status, answer, raised):
    server, handler = http_dashboard
    handler.answers = [(status, answer)]
    sender = HttpSender(f"http://127.0.0.1:{server.server_port}", "secret-token")
    event = crossing(1).to_json()
    if raised is None:
        assert sender.send([event]) == Receipt(1, 0)
    else:
        with pytest.raises(raised, match=re.escape(answer["error"])):
            sender.send([event])
    sender.close()
    assert handler.seen == [("Bearer secret-token", {"events": [event]})]


def test_http_sender_keeps_the_connection_alive(http_dashboard):
    server, handler = http_dashboard
    handler.answers = [(200, {"accepted": 1, "duplicates": 0}) for _ in range(3)]
    sender = HttpSender(f"http://127.0.0.1:{server.server_port}", "t")
    for seq in range(3):
        assert sender.send([crossing(seq).to_json()]) == Receipt(1, 0)
    sender.close()
    assert len(handler.peers) == 3
    assert len(set(handler.peers)) == 1  # one TCP connection carried all three batches


def test_http_sender_replaces_a_connection_the_server_closed(http_dashboard):
    server, handler = http_dashboard
    handler.hang_up = True  # as a server does with a connection idle for too long
    handler.answers = [(200, {"accepted": 1, "duplicates": 0}) for _ in range(2)]
    sender = HttpSender(f"http://127.0.0.1:{server.server_port}", "t")
    events = [crossing(1).to_json(), crossing(2).to_json()]
    assert sender.send([events[0]]) == Receipt(1, 0)
    time.sleep(0.1)  # the server has hung up by now
    assert sender.send([events[1]]) == Receipt(1, 0)
    sender.close()
    assert [body["events"][0]["id"] for _, body in handler.seen] == [e["id"] for e in events]
    assert len(set(handler.peers)) == 2  # the second batch went on a new connection


@pytest.mark.parametrize(
    "port",
    [
        # an address with its port
        0,
        # none: port 80, not the address's last group (http://[::1] once meant host "::", port 1)
        80,
    ],
)
def test_http_sender_reaches_an_ipv6_address(http_dashboard, port):
    _server, handler = http_dashboard

    class Server6(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    try:
        server = Server6(("::1", port), handler)
    except OSError as err:  # port 80 needs root and a free port
        pytest.skip(f"cannot listen on [::1]:{port}: {err}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handler.answers = [(200, {"accepted": 1, "duplicates": 0})]
    address = "http://[::1]" if port == 80 else f"http://[::1]:{server.server_port}"
    sender = HttpSender(address, "t", timeout_s=3)
    try:
        assert sender.send([crossing(1).to_json()]) == Receipt(1, 0)
    finally:
        sender.close()
        server.shutdown()
        server.server_close()
    assert handler.paths == ["/api/v1/events"]


def test_http_sender_goes_through_the_proxy_the_environment_names(http_dashboard, monkeypatch):
    proxy, handler = http_dashboard  # the test server plays the proxy
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.server_port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    handler.answers = [(200, {"accepted": 1, "duplicates": 0})]
    sender = HttpSender("http://dashboard.example:5000", "t")
    try:
        assert sender.send([crossing(1).to_json()]) == Receipt(1, 0)
    finally:
        sender.close()
    assert handler.paths == ["http://dashboard.example:5000/api/v1/events"]  # a proxy gets the whole address


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        # a proxy's HTML error page: its status text, not the page
        (502, b"<html>bad gateway</html>", "answered 502: Bad Gateway"),
        # 200 without a receipt: something else answers on that address
        (200, b"hello", "answered 200 with no receipt"),
    ],
)
def test_http_sender_odd_answers(status, body, message):
    class Odd(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Odd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sender = HttpSender(f"http://127.0.0.1:{server.server_port}", "t")
    try:
        with pytest.raises(UplinkError, match=message):
            sender.send([crossing(1).to_json()])
    finally:
        sender.close()
        server.shutdown()
        server.server_close()


def test_http_sender_unreachable():
    with pytest.raises(UplinkError, match="unreachable"):
        HttpSender("http://127.0.0.1:9", "t", timeout_s=2).send([crossing(1).to_json()])


class SmallDashboard(FakeDashboard):
    """Answers 413 to a request of more than ``max_events`` events or with an event over ``max_bytes``."""

    def __init__(self, max_events, max_bytes=10_000):
        super().__init__()
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.sizes = []

    def send(self, events):
        self.sizes.append(len(events))
        if len(events) > self.max_events or any(len(json.dumps(e)) > self.max_bytes for e in events):
            raise BatchTooLargeError("http://dashboard/api/v1/events answered 413: request too large")
        return super().send(events)


@pytest.mark.parametrize(
    ("max_events", "first_sizes"),
    [
        # 50 too many, 25 fit: halved once, then the batches grow back to 50
        (30, [50, 25, 50, 25, 50, 25]),
        # only 5 fit at once: halved three times
        (6, [50, 25, 12, 6]),
    ],
)
def test_a_batch_too_large_for_the_dashboard_is_split_until_it_fits(tmp_path, max_events, first_sizes):
    journal = Journal(tmp_path / "j.sqlite3")
    events = [crossing(i) for i in range(120)]
    for event in events:
        journal.append(event)
    dashboard = SmallDashboard(max_events)
    uplink = Uplink(journal, dashboard, batch_size=50)
    for _ in range(200):
        if not uplink.ship_once():
            break
    assert [e["id"] for e in dashboard.received] == [e.id for e in events]  # all, in order, once
    assert dashboard.sizes[: len(first_sizes)] == first_sizes
    assert journal.pending_count() == 0
    assert journal.set_aside() == []


def test_one_event_too_large_on_its_own_is_set_aside_and_the_rest_go_on(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    big = crossing(1)
    events = [crossing(0), big, crossing(2)]
    for event in events:
        journal.append(event)
    dashboard = SmallDashboard(max_events=50)
    original = dashboard.send

    def send(batch):
        if any(e["id"] == big.id for e in batch):
            dashboard.sizes.append(len(batch))
            raise BatchTooLargeError("http://dashboard/api/v1/events answered 413: request too large")
        return original(batch)

    dashboard.send = send
    seen = []
    uplink = Uplink(journal, dashboard, batch_size=50, on_set_aside=lambda i, r: seen.append((i, r)))
    for _ in range(20):
        if not uplink.ship_once():
            break
    assert [e["id"] for e in dashboard.received] == [events[0].id, events[2].id]
    assert [s.event_id for s in journal.set_aside()] == [big.id]
    assert "413" in journal.set_aside()[0].reason
    assert seen[0][0] == big.id

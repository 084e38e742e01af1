"""Integrations: the forwarder, MQTT topics with Home Assistant discovery, HMAC-signed webhooks."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from dashboard_wire import bearer, crossing, screening
from flask import Flask
from flask.testing import FlaskClient

from dashboard.db import get_engine, new_session
from dashboard.forward import Forwarder, PositionFile, starting_point
from dashboard.live import Message, OutboxReader, PollingNotifier, last_id
from dashboard.mqtt import MqttSink, discovery
from dashboard.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSink, sign, verify

SECRET = b"a shared secret of some length"


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict, bool]] = []

    def publish(self, topic: str, payload: str, retain: bool) -> None:
        self.published.append((topic, json.loads(payload), retain))


class FakePoster:
    def __init__(self, statuses: list[int | OSError]) -> None:
        self.statuses = statuses
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.calls.append((url, body, headers))
        status = self.statuses.pop(0)
        if isinstance(status, OSError):
            raise status
        return status


class Collecting:
    def __init__(self, fail: bool = False) -> None:
        self.messages: list[Message] = []
        self.fail = fail

    def deliver(self, message: Message) -> None:
        if self.fail:
            raise OSError("broker gone")
        self.messages.append(message)


OCCUPANCY = Message(
    7,
    "occupancy",
    {"site": "kantor", "room": "aula-1", "occupancy": 3, "limit": 5, "capacity": 10, "state": "open"},
)
ALERT = Message(
    8,
    "alert",
    {"id": 1, "kind": "fever", "site": "kantor", "room": "aula-1", "station": "gate-1", "detail": "38.2 °C"},
)


def test_mqtt_announces_a_room_once_then_publishes_its_state_retained() -> None:
    publisher = FakePublisher()
    sink = MqttSink(publisher)
    sink.deliver(OCCUPANCY)
    sink.deliver(OCCUPANCY)
    topics = [(topic, retain) for topic, _, retain in publisher.published]
    assert topics == [
        ("homeassistant/sensor/gerbang_kantor_aula_1/occupancy/config", True),
        ("homeassistant/binary_sensor/gerbang_kantor_aula_1/full/config", True),
        ("gerbang/sites/kantor/rooms/aula-1/occupancy", True),
        ("gerbang/sites/kantor/rooms/aula-1/occupancy", True),
    ]
    assert publisher.published[2][1] == OCCUPANCY.data


def test_mqtt_keeps_two_sites_rooms_of_the_same_name_apart() -> None:
    publisher = FakePublisher()
    sink = MqttSink(publisher, discovery_prefix=None)
    for site, count in (("a", 3), ("b", 9)):
        data = {
            "site": site,
            "room": "hall",
            "occupancy": count,
            "limit": 10,
            "capacity": 20,
            "state": "open",
        }
        sink.deliver(Message(count, "occupancy", data))
    assert [(topic, body["occupancy"]) for topic, body, _ in publisher.published] == [
        ("gerbang/sites/a/rooms/hall/occupancy", 3),
        ("gerbang/sites/b/rooms/hall/occupancy", 9),
    ]
    (_, a), (_, b) = discovery(("a", "hall"), "x")[0], discovery(("b", "hall"), "y")[0]
    assert a["unique_id"] != b["unique_id"]
    # a message written before rooms were named per site (no "site") keeps the topic of then
    sink.deliver(Message(20, "occupancy", {"room": "hall", "occupancy": 1}))
    assert publisher.published[-1][0] == "gerbang/rooms/hall/occupancy"


def test_mqtt_alerts_are_not_retained() -> None:
    publisher = FakePublisher()
    MqttSink(publisher, prefix="kota", discovery_prefix=None).deliver(ALERT)
    assert publisher.published == [("kota/alerts", ALERT.data, False)]


def test_discovery_documents_point_at_the_state_topic() -> None:
    state = "gerbang/sites/kantor-pusat/rooms/lobby/occupancy"
    (sensor_topic, sensor), (binary_topic, binary) = discovery(("kantor-pusat", "lobby"), state)
    assert sensor_topic == "homeassistant/sensor/gerbang_kantor_pusat_lobby/occupancy/config"
    assert binary_topic == "homeassistant/binary_sensor/gerbang_kantor_pusat_lobby/full/config"
    assert sensor["state_topic"] == binary["state_topic"] == state
    assert sensor["value_template"] == "{{ value_json.occupancy }}"
    assert sensor["unique_id"] != binary["unique_id"]
    assert sensor["device"] == binary["device"]
    assert binary["device_class"] == "occupancy"


def test_discovery_makes_the_rooms_unavailable_when_the_forwarder_is_offline() -> None:
    publisher = FakePublisher()
    MqttSink(publisher, prefix="kota").deliver(OCCUPANCY)
    documents = [document for topic, document, _ in publisher.published if topic.endswith("/config")]
    assert len(documents) == 2
    for document in documents:
        assert document["availability_topic"] == "kota/status"
        assert (document["payload_available"], document["payload_not_available"]) == ("online", "offline")


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        # the exact bytes, fresh: valid
        ({}, True),
        # a byte of the body changed
        ({"body": b'{"kind":"fevers"}'}, False),
        # another secret
        ({"secret": b"another secret of some length"}, False),
        # replayed ten minutes later
        ({"now_s": 1_700_000_600.0}, False),
        # a timestamp that is not a number
        ({"timestamp": "yesterday"}, False),
    ],
)
def test_a_signature_verifies_only_unchanged_fresh_bytes(change: dict, valid: bool) -> None:
    timestamp, body = "1700000000", b'{"kind":"fever"}'
    signature = sign(SECRET, timestamp, body)
    args = {"secret": SECRET, "timestamp": timestamp, "body": body, "now_s": 1_700_000_010.0} | change
    assert verify(args["secret"], args["timestamp"], args["body"], signature, args["now_s"]) is valid


def test_a_webhook_is_signed_and_retried_until_it_gets_through() -> None:
    poster = FakePoster([OSError("refused"), 502, 204])
    waits: list[float] = []
    sink = WebhookSink(
        "http://hooks.example/gerbang", SECRET, poster, clock=lambda: 1_700_000_000.0, sleep=waits.append
    )
    sink.deliver(ALERT)
    assert waits == [1.0, 2.0]
    assert len(poster.calls) == 3
    url, body, headers = poster.calls[-1]
    assert url == "http://hooks.example/gerbang"
    assert json.loads(body) == {"event": "alert", **ALERT.data}
    assert verify(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], 1_700_000_000.0)


def test_a_webhook_gives_up_after_its_tries_and_sends_only_alerts() -> None:
    poster = FakePoster([500, 500, 500])
    sink = WebhookSink("http://hooks.example/", SECRET, poster, sleep=lambda _s: None)
    sink.deliver(OCCUPANCY)
    assert poster.calls == []
    with pytest.raises(OSError, match="failed after 3 tries: answered 500"):
        sink.deliver(ALERT)


def test_a_short_webhook_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        WebhookSink("http://hooks.example/", b"short")


def test_the_forwarder_hands_ingested_messages_to_every_sink(
    app: Flask, client: FlaskClient, make_room: Callable, make_station: Callable
) -> None:
    make_room("lobby", capacity_people=4)
    token = make_station("gate-1", "lobby")
    with new_session(app) as session:
        start = last_id(session)
    client.post(
        "/api/v1/events",
        json={"events": [crossing("in"), screening("deny", reason="fever", body_c=38.4)]},
        headers=bearer(token),
    )
    good, broken = Collecting(), Collecting(fail=True)
    forwarder = Forwarder(OutboxReader(get_engine(app), start), PollingNotifier(0.01), [broken, good])
    assert forwarder.run_once() == 2
    # in outbox order: the batch's alert, then the room's new count
    assert [(m.kind, m.data.get("occupancy"), m.data.get("kind")) for m in good.messages] == [
        ("alert", None, "fever"),
        ("occupancy", 1, None),
    ]
    assert forwarder.failures == 2  # the broken sink failed twice and stopped nothing
    assert forwarder.run_once() == 0


def test_a_restarted_forwarder_resumes_after_its_saved_position(
    app: Flask, client: FlaskClient, make_room: Callable, make_station: Callable, tmp_path
) -> None:
    make_room("lobby", capacity_people=10)
    token = make_station("gate-1", "lobby")
    with new_session(app) as session:
        start = last_id(session)
    position = PositionFile(tmp_path / "forward.position")
    position.save(start)
    client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(token))
    first = Collecting()
    forwarder = Forwarder(
        OutboxReader(get_engine(app), position.load()), PollingNotifier(0.01), [first], position
    )
    assert forwarder.run_once() == 1
    # stopped; meanwhile a second person comes in; then a new forwarder starts from the file
    client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(token))
    second = Collecting()
    again = Forwarder(
        OutboxReader(get_engine(app), position.load()), PollingNotifier(0.01), [second], position
    )
    assert again.run_once() == 1
    assert [m.data["occupancy"] for m in first.messages + second.messages] == [1, 2]  # none lost, none twice


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # no file yet: start at the newest message
        (None, None),
        # a saved id
        ("41\n", 41),
        # something else: a clear error naming the file
        ("hello", ValueError),
    ],
)
def test_the_position_file(tmp_path, content: str | None, expected) -> None:
    path = tmp_path / "forward.position"
    if content is not None:
        path.write_text(content)
    if expected is ValueError:
        with pytest.raises(ValueError, match=r"forward\.position should hold the id"):
            PositionFile(path).load()
    else:
        assert PositionFile(path).load() == expected


@pytest.mark.parametrize(
    ("saved", "expected_start", "saved_after"),
    [
        # first start with a position file: the newest message, noted at once (a restart before any
        # message is forwarded resumes there, so nothing raised meanwhile is missed)
        (None, 7, 7),
        # a restart: after the saved position, whatever the newest is now
        (3, 3, 3),
    ],
)
def test_the_forwarder_starts_after_its_position(tmp_path, saved, expected_start, saved_after) -> None:
    position = PositionFile(tmp_path / "forward.position")
    if saved is not None:
        position.save(saved)
    assert starting_point(position, lambda: 7) == expected_start
    assert position.load() == saved_after


def test_without_a_position_file_the_forwarder_starts_at_the_newest() -> None:
    assert starting_point(None, lambda: 12) == 12

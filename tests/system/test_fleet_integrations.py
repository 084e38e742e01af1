"""MQTT against the real Mosquitto on 127.0.0.1:1883 and a signed webhook to a local receiver.

A station's events go into a dashboard (in-process, SQLite); ``Forwarder`` then publishes the
room's count with its Home Assistant discovery and the alert over paho-mqtt, and POSTs the alert
to an HTTP receiver that checks the HMAC signature. Skipped with the reason when no broker answers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fleet_support import wait_until

from dashboard import create_app, manage
from dashboard.db import get_engine, new_session
from dashboard.forward import Forwarder
from dashboard.live import OutboxReader, PollingNotifier, last_id
from dashboard.migrate import upgrade
from dashboard.mqtt import MqttSink, PahoPublisher
from dashboard.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSink, verify

BROKER = ("127.0.0.1", 1883)
SECRET = b"integration test secret"


def broker_problem() -> str | None:
    try:
        with socket.create_connection(BROKER, timeout=2):
            return None
    except OSError as err:
        return f"no MQTT broker at {BROKER[0]}:{BROKER[1]}: {err}"


@pytest.fixture
def dashboard_app(tmp_path: Path) -> Iterator[tuple]:
    url = f"sqlite:///{tmp_path / 'dashboard.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "integrations", "TESTING": True})
    room = f"aula-{uuid.uuid4().hex[:6]}"  # retained topics outlive the test: a room of its own
    with new_session(app) as session:
        manage.add_room(session, "kantor", room, 4, 0.5)
        token = manage.add_station(session, "gate-1", room)[1]
    yield app, room, token
    get_engine(app).dispose()


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict, bool]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        valid = verify(
            SECRET, self.headers[TIMESTAMP_HEADER], body, self.headers[SIGNATURE_HEADER], time.time()
        )
        Receiver.received.append((json.loads(body), valid))
        self.send_response(204 if valid else 401)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


def post(app, token: str, *events: dict) -> None:
    response = app.test_client().post(
        "/api/v1/events", json={"events": list(events)}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text


def event(kind: str, **fields: object) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, "at": datetime.now(UTC).isoformat(), **fields}


def test_occupancy_and_alerts_reach_mqtt_and_a_signed_webhook(dashboard_app: tuple) -> None:
    problem = broker_problem()
    if problem:
        pytest.skip(problem)
    import paho.mqtt.client as paho

    app, room, token = dashboard_app
    got: dict[str, tuple[dict, bool]] = {}
    subscriber = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")

    def on_message(_client: object, _userdata: object, msg: paho.MQTTMessage) -> None:
        if msg.payload:  # an empty retained message is a clearing, not news
            got[msg.topic] = (json.loads(msg.payload), msg.retain)

    subscriber.on_message = on_message
    subscriber.connect(*BROKER)
    subscriber.loop_start()
    node = f"gerbang_kantor_{room}".replace("-", "_")
    subscribed = subscriber.subscribe([(f"test-{room}/#", 1), (f"homeassistant/+/{node}/#", 1)])
    assert subscribed[0] == paho.MQTT_ERR_SUCCESS
    time.sleep(0.3)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    publisher = PahoPublisher(*BROKER, client_id=f"gerbang-test-{uuid.uuid4().hex[:8]}")
    try:
        with new_session(app) as session:
            start = last_id(session)
        post(
            app,
            token,
            event("crossing", direction="in"),
            event("screening", decision="deny", reason="fever", body_c=38.6),
        )
        sinks = [
            MqttSink(publisher, prefix=f"test-{room}"),
            WebhookSink(f"http://127.0.0.1:{server.server_port}/hook", SECRET),
        ]
        forwarder = Forwarder(OutboxReader(get_engine(app), start), PollingNotifier(0.05), sinks)
        assert forwarder.run_once() == 2
        assert forwarder.failures == 0
        state_topic = f"test-{room}/sites/kantor/rooms/{room}/occupancy"
        assert wait_until(lambda: {state_topic, f"test-{room}/alerts"} <= set(got), 10), got
        assert got[state_topic][0] == {
            "site": "kantor",
            "room": room,
            "occupancy": 1,
            "limit": 2,
            "capacity": 4,
            "state": "open",
        }
        assert got[f"test-{room}/alerts"][0]["kind"] == "fever"
        config = got[f"homeassistant/sensor/{node}/occupancy/config"][0]
        assert config["state_topic"] == state_topic
        assert f"homeassistant/binary_sensor/{node}/full/config" in got
        assert [(body["kind"], valid) for body, valid in Receiver.received] == [("fever", True)]
    finally:
        subscriber.disconnect()
        subscriber.loop_stop()
        for topic in (
            f"test-{room}/sites/kantor/rooms/{room}/occupancy",
            f"homeassistant/sensor/{node}/occupancy/config",
            f"homeassistant/binary_sensor/{node}/full/config",
        ):
            publisher.publish(topic, "", retain=True)  # an empty retained message clears it
        publisher.close()
        server.shutdown()
        server.server_close()

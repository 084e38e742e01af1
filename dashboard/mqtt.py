"""MQTT: each room's occupancy (retained) and alerts, with Home Assistant discovery.

Topics (``prefix`` defaults to ``gerbang``):

* ``gerbang/rooms/ROOM/occupancy`` - retained JSON ``{"room", "occupancy", "limit", "capacity",
  "state"}``, as API v1 answers it;
* ``gerbang/alerts`` - JSON of each alert (``kind``, ``room``, ``station``, ``at``, ``detail``).

The first time a room is seen, its Home Assistant discovery documents are published (retained)
under ``homeassistant/``: a sensor for the count and a binary sensor that is on while the room is
full, grouped as one device per room. Publishing goes through the ``Publisher`` seam;
``PahoPublisher`` is paho-mqtt 2.x at QoS 1.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from dashboard.live import Message

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """Publishes one MQTT message."""

    def publish(self, topic: str, payload: str, retain: bool) -> None:
        """Publish ``payload`` on ``topic``; raise when the broker did not take it."""


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


class MqttSink:
    """A forwarding sink (see ``forward.py``) that publishes to MQTT.

    Args:
        publisher: Where messages are published.
        prefix: The first level of Gerbang's topics.
        discovery_prefix: Home Assistant's discovery prefix; None to publish no discovery.
    """

    def __init__(
        self, publisher: Publisher, prefix: str = "gerbang", discovery_prefix: str | None = "homeassistant"
    ) -> None:
        self.publisher = publisher
        self.prefix = prefix.rstrip("/")
        self.discovery_prefix = discovery_prefix.rstrip("/") if discovery_prefix else None
        self._announced: set[str] = set()

    def state_topic(self, room: str) -> str:
        """The retained topic of a room's occupancy."""
        return f"{self.prefix}/rooms/{room}/occupancy"

    def deliver(self, message: Message) -> None:
        """Publish an occupancy (retained, after the room's discovery) or an alert."""
        data = message.data
        if message.kind == "occupancy":
            room = str(data["room"])
            self.announce(room)
            self.publisher.publish(self.state_topic(room), _json(data), retain=True)
        elif message.kind == "alert":
            self.publisher.publish(f"{self.prefix}/alerts", _json(data), retain=False)

    def announce(self, room: str) -> None:
        """Publish a room's Home Assistant discovery documents, once per run."""
        if self.discovery_prefix is None or room in self._announced:
            return
        for topic, document in discovery(room, self.state_topic(room), self.discovery_prefix):
            self.publisher.publish(topic, _json(document), retain=True)
        self._announced.add(room)


def discovery(room: str, state_topic: str, discovery_prefix: str = "homeassistant") -> list[tuple[str, dict]]:
    """Return a room's Home Assistant discovery documents as (topic, document) pairs."""
    node = f"gerbang_{room.replace('-', '_')}"
    device = {"identifiers": [node], "name": f"Gerbang {room}", "manufacturer": "Gerbang", "model": "room"}
    return [
        (
            f"{discovery_prefix}/sensor/{node}/occupancy/config",
            {
                "name": "Occupancy",
                "unique_id": f"{node}_occupancy",
                "state_topic": state_topic,
                "value_template": "{{ value_json.occupancy }}",
                "json_attributes_topic": state_topic,
                "unit_of_measurement": "people",
                "state_class": "measurement",
                "icon": "mdi:account-group",
                "device": device,
            },
        ),
        (
            f"{discovery_prefix}/binary_sensor/{node}/full/config",
            {
                "name": "Full",
                "unique_id": f"{node}_full",
                "state_topic": state_topic,
                "value_template": "{{ 'ON' if value_json.state == 'full' else 'OFF' }}",
                "device_class": "occupancy",
                "device": device,
            },
        ),
    ]


class PahoPublisher:
    """Publishes with paho-mqtt 2.x at QoS 1, waiting for the broker's acknowledgement.

    Args:
        host: The broker's address.
        port: Its port.
        client_id: This client's id.
        timeout_s: Longest wait for a connection or an acknowledgement.
        username: Optional user name (the password comes from ``password``).
        password: Optional password.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "gerbang-dashboard",
        timeout_s: float = 10.0,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        import paho.mqtt.client as paho

        self.timeout_s = timeout_s
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
        if username:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def publish(self, topic: str, payload: str, retain: bool) -> None:
        """See ``Publisher.publish``."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(self.timeout_s)
        if not info.is_published():
            raise TimeoutError(f"the MQTT broker did not acknowledge {topic} within {self.timeout_s} s")

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()

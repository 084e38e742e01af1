"""MQTT: each room's occupancy (retained) and alerts, with Home Assistant discovery.

Topics (``prefix`` defaults to ``gerbang``):

* ``gerbang/sites/SITE/rooms/ROOM/occupancy`` - retained JSON ``{"site", "room", "occupancy",
  "limit", "capacity", "state"}``, as API v1 answers it (two sites may each have a room ``ROOM``);
* ``gerbang/alerts`` - JSON of each alert (``kind``, ``site``, ``room``, ``station``, ``at``,
  ``detail``).

* ``gerbang/status`` - retained ``online`` while the forwarder is connected, ``offline`` when it
  stops or its connection is lost (its Last Will, sent by the broker).

The first time a room is seen, its Home Assistant discovery documents are published (retained)
under ``homeassistant/``: a sensor for the count and a binary sensor that is on while the room is
full, grouped as one device per room (``gerbang_SITE_ROOM``), both unavailable while
``gerbang/status`` is ``offline``.
Publishing goes through the ``Publisher`` seam; ``PahoPublisher`` is paho-mqtt 2.x at QoS 1, over
TLS when given ``TlsSettings``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dashboard.live import Message

log = logging.getLogger(__name__)
ONLINE = "online"
OFFLINE = "offline"


def availability_topic(prefix: str = "gerbang") -> str:
    """The retained topic saying whether the forwarder is connected (``online``/``offline``)."""
    return f"{prefix.rstrip('/')}/status"


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
        self._announced: set[tuple[str, str]] = set()

    def state_topic(self, site: str, room: str) -> str:
        """The retained topic of a room's occupancy (a message of before sites: ``PREFIX/rooms/ROOM``)."""
        if not site:
            return f"{self.prefix}/rooms/{room}/occupancy"
        return f"{self.prefix}/sites/{site}/rooms/{room}/occupancy"

    def deliver(self, message: Message) -> None:
        """Publish an occupancy (retained, after the room's discovery) or an alert."""
        data = message.data
        if message.kind == "occupancy":
            site, room = str(data.get("site") or ""), str(data["room"])
            self.announce(site, room)
            self.publisher.publish(self.state_topic(site, room), _json(data), retain=True)
        elif message.kind == "alert":
            self.publisher.publish(f"{self.prefix}/alerts", _json(data), retain=False)

    def announce(self, site: str, room: str) -> None:
        """Publish a room's Home Assistant discovery documents, once per run."""
        if self.discovery_prefix is None or (site, room) in self._announced:
            return
        documents = discovery(
            (site, room), self.state_topic(site, room), self.discovery_prefix, availability_topic(self.prefix)
        )
        for topic, document in documents:
            self.publisher.publish(topic, _json(document), retain=True)
        self._announced.add((site, room))


def discovery(
    name: tuple[str, str],
    state_topic: str,
    discovery_prefix: str = "homeassistant",
    status_topic: str | None = None,
) -> list[tuple[str, dict]]:
    """Return a room's Home Assistant discovery documents as (topic, document) pairs.

    Args:
        name: The room's (site slug, room slug).
        state_topic: Its retained occupancy topic.
        discovery_prefix: Home Assistant's discovery prefix.
        status_topic: The forwarder's availability topic; None for documents without availability.
    """
    site, room = name
    node = (f"gerbang_{site}_{room}" if site else f"gerbang_{room}").replace("-", "_")
    device = {
        "identifiers": [node],
        "name": f"Gerbang {site}/{room}",
        "manufacturer": "Gerbang",
        "model": "room",
    }
    available = (
        {"availability_topic": status_topic, "payload_available": ONLINE, "payload_not_available": OFFLINE}
        if status_topic
        else {}
    )
    documents = [
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
    return [(topic, {**document, **available}) for topic, document in documents]


@dataclass(frozen=True)
class TlsSettings:
    """TLS to the broker: the CA that signed its certificate, and this client's own, if it needs one.

    Attributes:
        ca_path: The CA certificate (PEM); None: the system's trusted CAs.
        cert_path: This client's certificate (PEM), for brokers that require one.
        key_path: Its private key (PEM).
    """

    ca_path: Path | None = None
    cert_path: Path | None = None
    key_path: Path | None = None


class PahoPublisher:
    """Publishes with paho-mqtt 2.x at QoS 1, waiting for the broker's acknowledgement.

    Args:
        host: The broker's address.
        port: Its port.
        client_id: This client's id.
        timeout_s: Longest wait for a connection or an acknowledgement.
        username: Optional user name (the password comes from ``password``).
        password: Optional password.
        status_topic: Where to say ``online`` (retained) on each connection; the broker says
            ``offline`` there when the connection is lost (a Last Will), and ``close`` does too.
            None: no availability.
        tls: Connect over TLS with these settings; None: plain TCP.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "gerbang-dashboard",
        timeout_s: float = 10.0,
        username: str | None = None,
        password: str | None = None,
        status_topic: str | None = None,
        tls: TlsSettings | None = None,
    ) -> None:
        import paho.mqtt.client as paho

        self.timeout_s = timeout_s
        self.status_topic = status_topic
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
        if username:
            self.client.username_pw_set(username, password)
        if tls is not None:
            self.client.tls_set(
                ca_certs=str(tls.ca_path) if tls.ca_path else None,
                certfile=str(tls.cert_path) if tls.cert_path else None,
                keyfile=str(tls.key_path) if tls.key_path else None,
            )
        if status_topic:
            self.client.will_set(status_topic, OFFLINE, qos=1, retain=True)
            self.client.on_connect = self._connected
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def publish(self, topic: str, payload: str, retain: bool) -> None:
        """See ``Publisher.publish``."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(self.timeout_s)
        if not info.is_published():
            raise TimeoutError(f"the MQTT broker did not acknowledge {topic} within {self.timeout_s} s")

    def _connected(self, client: Any, _userdata: object, _flags: object, reason: Any, _props: object) -> None:
        if not reason.is_failure and self.status_topic:
            client.publish(self.status_topic, ONLINE, qos=1, retain=True)

    def close(self) -> None:
        """Say ``offline`` (when there is a status topic), then disconnect."""
        if self.status_topic:
            try:
                self.publish(self.status_topic, OFFLINE, retain=True)
            except (OSError, TimeoutError, RuntimeError) as err:  # the broker is gone: its Will says it
                log.warning("could not say offline on %s: %s", self.status_topic, err)
        self.client.disconnect()
        self.client.loop_stop()

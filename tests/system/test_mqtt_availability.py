"""The forwarder's MQTT availability (a Last Will) and TLS, against real Mosquitto brokers.

Availability runs on the broker at 127.0.0.1:1883; TLS on a Mosquitto of the test's own with a
certificate made by openssl. Each is skipped with the reason when its broker or tool is missing.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from dashboard.mqtt import PahoPublisher, TlsSettings

BROKER = ("127.0.0.1", 1883)


def broker_problem() -> str | None:
    try:
        with socket.create_connection(BROKER, timeout=2):
            return None
    except OSError as err:
        return f"no MQTT broker at {BROKER[0]}:{BROKER[1]}: {err}"


class Listener:
    """A paho subscriber collecting the payloads of one topic."""

    def __init__(self, topic: str, port: int = BROKER[1], tls: TlsSettings | None = None) -> None:
        self.payloads: list[str] = []
        self.changed = threading.Condition()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"listener-{uuid.uuid4().hex[:8]}"
        )
        if tls is not None:
            self.client.tls_set(ca_certs=str(tls.ca_path))
        self.client.on_message = self._message
        self.client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()

    def _message(self, _client: object, _userdata: object, message: paho.MQTTMessage) -> None:
        with self.changed:
            self.payloads.append(message.payload.decode())
            self.changed.notify_all()

    def wait_for(self, payload: str, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while payload not in self.payloads:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.skipif(broker_problem() is not None, reason=broker_problem() or "")
def test_the_status_is_online_while_connected_and_offline_by_the_will_when_cut_off() -> None:
    topic = f"gerbang-test-{uuid.uuid4().hex[:8]}/status"
    listener = Listener(topic)
    # A forwarder in its own process, killed without a word: only the broker's Last Will can say so.
    script = textwrap.dedent(
        f"""
        import time
        from dashboard.mqtt import PahoPublisher
        client_id = "will-{uuid.uuid4().hex[:8]}"
        PahoPublisher("127.0.0.1", {BROKER[1]}, client_id=client_id, status_topic={topic!r})
        print("connected", flush=True)
        time.sleep(60)
        """
    )
    forwarder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert forwarder.stdout is not None
        assert forwarder.stdout.readline().strip() == "connected"
        assert listener.wait_for("online")
        listener.payloads.clear()
        forwarder.send_signal(signal.SIGKILL)
        assert listener.wait_for("offline")
    finally:
        forwarder.kill()
        forwarder.wait()
        if forwarder.stdout is not None:
            forwarder.stdout.close()
        cleaner = PahoPublisher(*BROKER, client_id=f"clean-{uuid.uuid4().hex[:8]}")
        cleaner.publish(topic, "", retain=True)  # leave no retained status behind
        cleaner.close()
        listener.close()


@pytest.mark.skipif(broker_problem() is not None, reason=broker_problem() or "")
def test_a_clean_stop_says_offline_itself() -> None:
    topic = f"gerbang-test-{uuid.uuid4().hex[:8]}/status"
    listener = Listener(topic)
    try:
        publisher = PahoPublisher(*BROKER, client_id=f"stop-{uuid.uuid4().hex[:8]}", status_topic=topic)
        assert listener.wait_for("online")
        publisher.close()  # a normal disconnect: the broker sends no Will, so the publisher says it
        assert listener.wait_for("offline")
        cleaner = PahoPublisher(*BROKER, client_id=f"clean-{uuid.uuid4().hex[:8]}")
        cleaner.publish(topic, "", retain=True)
        cleaner.close()
    finally:
        listener.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA) and its key."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_broker(tmp_path: Path):
    """A Mosquitto of our own with one TLS listener; yields (port, its certificate)."""
    mosquitto = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if mosquitto is None or shutil.which("openssl") is None:
        pytest.skip("needs mosquitto and openssl")
    cert, key = _certificate(tmp_path, "broker")
    port = _free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\ncertfile {cert}\nkeyfile {key}\n"
        # as root, mosquitto would drop to its own user, who cannot read the test's folder
        f"persistence false\nuser {getpass.getuser()}\n"
    )
    broker = subprocess.Popen(
        [mosquitto, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or broker.poll() is not None:
                broker.kill()
                _, errors = broker.communicate()
                pytest.fail(f"mosquitto did not start: {errors!r}")
            time.sleep(0.1)
    yield port, cert
    broker.terminate()
    broker.wait(timeout=10)
    if broker.stderr is not None:
        broker.stderr.close()


def test_publishing_over_tls_reaches_a_subscriber(tls_broker) -> None:
    port, cert = tls_broker
    tls = TlsSettings(ca_path=cert)
    listener = Listener("gerbang/alerts", port=port, tls=tls)
    try:
        time.sleep(0.3)  # the subscription is made on connect
        publisher = PahoPublisher("127.0.0.1", port, client_id="tls-test", tls=tls)
        publisher.publish("gerbang/alerts", '{"kind":"fever"}', retain=False)
        publisher.close()
        assert listener.wait_for('{"kind":"fever"}')
    finally:
        listener.close()


# paho-mqtt 2.x leaves the socket of a failed TLS handshake to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_broker_whose_certificate_the_ca_did_not_sign_is_refused(tls_broker, tmp_path: Path) -> None:
    port, _ = tls_broker
    other_ca, _ = _certificate(tmp_path, "other")
    with pytest.raises(OSError, match="certificate verify failed"):  # ssl.SSLError is an OSError
        PahoPublisher("127.0.0.1", port, client_id="tls-wrong-ca", tls=TlsSettings(ca_path=other_ca))

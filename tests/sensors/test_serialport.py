"""The reconnecting serial port on pyserial URLs."""

import socket
import termios
import threading

import pytest
import serial

from sensors.serialport import PortError, PortState, SerialPort
from sensors.thermometer.protocols import get_protocol
from sensors.thermometer.reader import ThermometerReader


def test_loop_url_reads_back_what_was_written():
    with SerialPort("loop://", baud=9600, timeout_s=0.2) as port:
        assert port.write(b"\xa5\x45\xea")
        assert port.read() == b"\xa5\x45\xea"
        assert port.read() == b""  # a timeout is an empty read, not an error
        assert port.state is PortState.ONLINE


@pytest.mark.parametrize(
    ("url", "message"),
    [
        # a device that is not there
        ("/dev/ttyUSB-gerbang-missing", "cannot open /dev/ttyUSB-gerbang-missing"),
        # a URL scheme pyserial does not know
        ("nope://x", "cannot open nope://x"),
        # a USB VID:PID that matches no device
        ("hwgrep://ffff:fffe", "cannot open hwgrep://ffff:fffe"),
    ],
)
def test_open_failures_are_port_errors(url, message):
    with pytest.raises(PortError, match=message):
        SerialPort(url, baud=9600).open()


def test_socket_url_reads_a_networked_thermometer():
    frame = bytes.fromhex("5A5A45040E5609C42E")
    server = socket.create_server(("127.0.0.1", 0))
    host, port_number = server.getsockname()

    def serve():
        connection, _ = server.accept()
        with connection:
            connection.recv(3)  # the start command
            connection.sendall(b"\xff\xff" + frame * 3)
            connection.recv(16)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with SerialPort(f"socket://{host}:{port_number}", baud=9600) as port:
            reader = ThermometerReader(port, get_protocol("gy-mcu90614"))
            readings = []
            for _ in range(100):
                readings += reader.poll()
                if len(readings) == 3:
                    break
    finally:
        server.close()
    assert [(r.object_c, r.ambient_c) for r in readings] == [(36.7, 25.0)] * 3


class _VanishingSerial:
    """A port whose device is pulled out between the write and the drain, as a pty's master closing."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.in_waiting = 0

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        raise self.error

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "error",
    [
        # what pyserial's flush raises from tcdrain on Linux: termios.error is no OSError
        termios.error(5, "Input/output error"),
        # pyserial's own
        serial.SerialException("device reports readiness to read but returned no data"),
    ],
)
def test_a_device_gone_mid_write_is_offline_not_a_crash(error):
    states = []
    vanishing = _VanishingSerial(error)
    port = SerialPort("fake://", baud=9600, on_state=states.append, opener=lambda *_a, **_k: vanishing)
    port.open()
    assert port.write(b"\xa5\x45\xea") is False
    assert port.state is PortState.OFFLINE
    assert states[-1] is PortState.OFFLINE

"""The registry of thermometer wire protocols: what to decode, at which baud, what to send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sensors.thermometer import ascii, gy_mcu90614, idc50, lu90614, optris_ct
from sensors.thermometer.framing import Decoder


@dataclass(frozen=True, slots=True)
class Protocol:
    """One wire protocol.

    Attributes:
        name: The name used in configuration and on the command line.
        baud: The device's default baud rate.
        summary: One line for ``gerbang thermometer protocols``.
        make_decoder: Builds a fresh decoder.
        start: Sent after opening, and again every ``start_retry_s`` while no frames flow.
        poll: Sent every ``poll_interval_s`` by a polled device's reader (empty for streaming ones).
        poll_interval_s: Time between polls.
    """

    name: str
    baud: int
    summary: str
    make_decoder: Callable[[], Decoder]
    start: bytes = b""
    poll: bytes = b""
    poll_interval_s: float = 0.0


class UnknownProtocolError(ValueError):
    """A protocol name that is not in the registry, or ``ascii`` without its pattern."""


_PROTOCOLS = {
    protocol.name: protocol
    for protocol in (
        Protocol(
            "gy-mcu90614",
            9600,
            "GY-MCU90614/90615 binary frames, about 14 per second after a start command",
            gy_mcu90614.GyMcu90614Decoder,
            start=gy_mcu90614.CONTINUOUS,
        ),
        Protocol(
            "lu90614",
            9600,
            "LU90614 module in body mode, polled",
            lu90614.Lu90614Decoder,
            start=lu90614.BODY_MODE,
            poll=lu90614.MEASURE,
            poll_interval_s=0.25,
        ),
        Protocol(
            "optris-ct",
            115200,
            "Optris CT/CS/CSmicro (Micro-Epsilon thermoMETER CT) target temperature, polled",
            optris_ct.OptrisCtDecoder,
            poll=optris_ct.READ_TARGET,
            poll_interval_s=0.1,
        ),
        Protocol(
            "idc50",
            115200,
            "IDC50 kiosk thermopile board, a body value every 500 ms",
            idc50.Idc50Decoder,
        ),
        Protocol(
            "adafruit-mlx90614",
            9600,
            "ascii preset: Adafruit MLX90614 example sketch (C and F lines)",
            lambda: ascii.AsciiDecoder(ascii.ADAFRUIT_PATTERN),
        ),
        Protocol(
            "sparkfun-mlx90614",
            9600,
            "ascii preset: SparkFun MLX90614 example sketch (F, raw 0xB0 degree sign)",
            lambda: ascii.AsciiDecoder(ascii.SPARKFUN_PATTERN),
        ),
    )
}

ASCII = "ascii"
ASCII_SUMMARY = "text lines read with your own --pattern (named groups object/ambient/body, unit)"
ASCII_BAUD = 9600


def protocol_names() -> list[str]:
    """Return every protocol name, ``ascii`` included."""
    return [*_PROTOCOLS, ASCII]


def get_protocol(name: str, *, pattern: str | None = None, unit: str = "C") -> Protocol:
    """Return the protocol called ``name``.

    Args:
        name: A registered name, or ``ascii`` with a ``pattern``.
        pattern: The user pattern for ``ascii`` (see ``sensors.thermometer.ascii``).
        unit: The unit of ``ascii`` values when the pattern has no ``unit`` group.

    Raises:
        UnknownProtocolError: The name is unknown, or ``ascii`` lacks its pattern.
        ascii.PatternError: The pattern is not usable.
    """
    if name == ASCII:
        if not pattern:
            raise UnknownProtocolError("the ascii protocol needs a pattern (--pattern)")
        ascii.AsciiDecoder(pattern, unit)  # check it once, here, with a clear error
        return Protocol(ASCII, ASCII_BAUD, ASCII_SUMMARY, lambda: ascii.AsciiDecoder(pattern, unit))
    try:
        return _PROTOCOLS[name]
    except KeyError:
        known = ", ".join(protocol_names())
        raise UnknownProtocolError(f"unknown protocol {name!r}; known: {known}") from None


def summaries() -> list[tuple[str, int, str]]:
    """Return (name, default baud, summary) for every protocol."""
    rows = [(p.name, p.baud, p.summary) for p in _PROTOCOLS.values()]
    return [*rows, (ASCII, ASCII_BAUD, ASCII_SUMMARY)]

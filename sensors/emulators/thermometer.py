"""Thermometer emulators: each protocol's device on a pty, playing a scenario.

Each device answers the commands its manual lists (start, polls, mode changes), streams at its own
rate, prints its boot noise, and plays the scenario's people, pauses, garbage, corrupt frames,
``nan`` readings and unplugs.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sensors.emulators.pty import PtyDevice
from sensors.emulators.scenario import Boot, Scenario, Step, StepKind
from sensors.thermometer import ascii, gy_mcu90614, idc50, lu90614, optris_ct

log = logging.getLogger(__name__)

ESP32_BOOT_LOG = (
    b"ets Jun  8 2016 00:22:57\r\n\r\n"
    b"rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
    b"configsip: 0, SPIWP:0xee\r\n"
    b"clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n"
    b"mode:DIO, clock div:2\r\nload:0x3fff0030,len:1344\r\nload:0x40078000,len:13964\r\n"
    b"entry 0x400805f0\r\n"
)


@dataclass(frozen=True, slots=True)
class Sample:
    """What the sensor sees at one moment; None values are failed reads (``nan``)."""

    object_c: float | None
    ambient_c: float | None
    body_c: float | None


@dataclass(frozen=True, slots=True)
class DeviceModel:
    """How one protocol's device behaves.

    Attributes:
        encode: Bytes of one frame for a sample.
        interval_s: Time between frames of a streaming device; 0 for a device that only answers.
        streams_at_boot: Whether it streams without being asked.
        banner: What it prints after boot (sketch banners).
        commands: Host commands and what they do (a name understood by ``ThermometerEmulator``).
        text: Whether frames are text lines (corruption garbles a digit instead of a byte).
    """

    encode: Callable[[Sample, bool], bytes]
    interval_s: float
    streams_at_boot: bool = True
    banner: bytes = b""
    commands: tuple[tuple[bytes, str], ...] = ()
    text: bool = False


# A binary device whose sensor read fails sends nothing for that frame.


def _gy(sample: Sample, _body_mode: bool) -> bytes:
    if sample.object_c is None or sample.ambient_c is None:
        return b""
    return gy_mcu90614.encode(sample.object_c, sample.ambient_c)


def _lu(sample: Sample, body_mode: bool) -> bytes:
    value = sample.body_c if body_mode else sample.object_c
    return b"" if value is None else lu90614.encode(value, body=body_mode)


def _optris(sample: Sample, _body_mode: bool) -> bytes:
    return b"" if sample.object_c is None else optris_ct.encode(sample.object_c)


def _idc50(sample: Sample, _body_mode: bool) -> bytes:
    return b"" if sample.body_c is None else idc50.encode(sample.body_c)


MODELS: dict[str, DeviceModel] = {
    "gy-mcu90614": DeviceModel(
        _gy,
        1 / 14,
        streams_at_boot=False,
        commands=(
            (gy_mcu90614.CONTINUOUS, "stream"),
            (gy_mcu90614.QUERY, "answer"),
            (bytes.fromhex("A5 51 F6"), "ignore"),
            (bytes.fromhex("A5 52 F7"), "ignore"),
            (bytes.fromhex("A5 AE 53"), "ignore"),
            (bytes.fromhex("A5 AF 54"), "ignore"),
        ),
    ),
    "lu90614": DeviceModel(
        _lu,
        0.0,
        streams_at_boot=False,
        commands=(
            (lu90614.BODY_MODE, "body-mode"),
            (lu90614.OBJECT_MODE, "object-mode"),
            (lu90614.MEASURE, "answer"),
        ),
    ),
    "optris-ct": DeviceModel(
        _optris,
        0.0,
        streams_at_boot=False,
        commands=((optris_ct.READ_TARGET, "answer"),),
    ),
    "idc50": DeviceModel(_idc50, 0.5),
    "adafruit-mlx90614": DeviceModel(
        lambda sample, _: ascii.encode_adafruit(sample.object_c, sample.ambient_c),
        0.5,
        banner=ascii.ADAFRUIT_BANNER,
        text=True,
    ),
    "sparkfun-mlx90614": DeviceModel(
        lambda sample, _: ascii.encode_sparkfun(sample.object_c, sample.ambient_c),
        0.5,
        text=True,
    ),
}


def emulated_protocols() -> list[str]:
    """Return the protocols that have an emulator."""
    return list(MODELS)


class ThermometerEmulator:
    """One emulated thermometer on a pty, playing a scenario until stopped.

    Args:
        protocol: A name from ``MODELS``.
        scenario: What happens in front of the sensor.
        device: The pty to speak on; a new one when None.
        baud: The baud rate the device speaks; when the host opens the port at another rate, it
            receives garbage, as it would from a real UART.
        on_replug: Called with the new path when the device comes back after an unplug step.
    """

    def __init__(
        self,
        protocol: str,
        scenario: Scenario,
        device: PtyDevice | None = None,
        baud: int | None = None,
        on_replug: Callable[[str], None] | None = None,
    ) -> None:
        if protocol not in MODELS:
            raise ValueError(f"no emulator for {protocol!r}; emulated: {', '.join(MODELS)}")
        self.model = MODELS[protocol]
        self.scenario = scenario
        self.device = device or PtyDevice()
        self.baud = baud
        self._on_replug = on_replug
        self._random = random.Random(scenario.seed)
        self._host = bytearray()
        self._streaming = False
        self._body_mode = True
        self._corrupt_left = 0
        self._nan_left = 0
        self.frames_sent = 0

    @property
    def path(self) -> str:
        """The device path a reader should open."""
        return self.device.path

    def run(self, stop: threading.Event) -> None:
        """Play the scenario until ``stop`` is set (or its end when it does not repeat)."""
        self._boot()
        while not stop.is_set():
            for step in self.scenario.steps:
                if stop.is_set():
                    return
                self._play(step, stop)
            if not self.scenario.repeat:
                return

    def _boot(self) -> None:
        self._streaming = self.model.streams_at_boot or self.scenario.auto_output
        self._body_mode = True
        if self.scenario.boot is Boot.ESP32:
            self.device.write(ESP32_BOOT_LOG)
        elif self.scenario.boot is Boot.FF:
            self.device.write(b"\xff" * 24)
        self.device.write(self.model.banner)

    def _play(self, step: Step, stop: threading.Event) -> None:
        if step.kind is StepKind.GARBAGE:
            text = step.text.encode("latin-1").decode("unicode_escape").encode("latin-1")
            self.device.write(text or b"\xff" * step.count)
        elif step.kind is StepKind.CORRUPT:
            self._corrupt_left += step.count
        elif step.kind is StepKind.NAN:
            self._nan_left += step.count
        elif step.kind is StepKind.UNPLUG:
            self.device.unplug()
            stop.wait(step.seconds)
            self.device.plug()
            self._host.clear()
            self._boot()
            log.info("thermometer emulator replugged as %s", self.device.device)
            if self._on_replug is not None:
                self._on_replug(self.device.path)
        else:
            self._run_for(step, stop)

    def _run_for(self, step: Step, stop: threading.Event) -> None:
        started = time.monotonic()
        next_frame = started
        while not stop.is_set():
            elapsed_s = time.monotonic() - started
            if elapsed_s >= step.seconds:
                return
            silent = step.kind is StepKind.PAUSE
            for action in self._commands(self.device.read(0.01)):
                if silent:
                    continue
                if action == "stream":
                    self._streaming = True
                elif action in ("body-mode", "object-mode"):
                    self._body_mode = action == "body-mode"
                elif action == "answer":
                    self._send(step, elapsed_s)
            interval_s = self.model.interval_s
            if interval_s and self._streaming and time.monotonic() >= next_frame:
                next_frame += interval_s
                if not silent:
                    self._send(step, elapsed_s)

    def _commands(self, received: bytes) -> list[str]:
        self._host += received
        actions = []
        while self._host:
            for command, action in self.model.commands:
                if self._host.startswith(command):
                    actions.append(action)
                    del self._host[: len(command)]
                    break
            else:
                if any(command.startswith(bytes(self._host)) for command, _ in self.model.commands):
                    break
                del self._host[:1]
        return actions

    def _send(self, step: Step, elapsed_s: float) -> None:
        frame = self.model.encode(self._sample(step, elapsed_s), self._body_mode)
        if frame and self._corrupt_left:
            self._corrupt_left -= 1
            frame = self._damage(frame)
        host_baud = self.device.host_baud
        if self.baud and host_baud and host_baud != self.baud:
            frame = bytes(
                self._random.getrandbits(8) for _ in range(max(1, len(frame) * host_baud // self.baud))
            )
        self.device.write(frame)
        self.frames_sent += 1

    def _sample(self, step: Step, elapsed_s: float) -> Sample:
        scenario = self.scenario
        if self._nan_left:
            self._nan_left -= 1
            return Sample(None, None, None)
        object_c = scenario.background_c
        body_c = None
        if step.kind is StepKind.PERSON:
            edge_s = min(elapsed_s, step.seconds - elapsed_s)
            share = min(1.0, max(0.0, edge_s / scenario.step_up_s)) if scenario.step_up_s else 1.0
            object_c += (step.object_c - scenario.background_c) * share
            if share >= 1.0 and step.body_c is not None:
                body_c = step.body_c + self._noise()
        object_c += self._noise()
        if body_c is None:
            body_c = object_c + scenario.body_offset_c
        ambient_c = scenario.ambient_c + self._noise() / 2
        return Sample(round(object_c, 2), round(ambient_c, 2), round(body_c, 2))

    def _noise(self) -> float:
        return self._random.gauss(0.0, self.scenario.noise_c) if self.scenario.noise_c else 0.0

    def _damage(self, frame: bytes) -> bytes:
        damaged = bytearray(frame)
        if self.model.text:
            digits = [i for i, b in enumerate(damaged) if chr(b).isdigit()]
            if digits:
                damaged[self._random.choice(digits)] = ord("?")
            return bytes(damaged)
        if len(damaged) <= 2 or self._random.random() < 0.5:
            return bytes(damaged[: max(1, len(damaged) // 2)])
        index = self._random.randrange(2, len(damaged))
        damaged[index] ^= 0x10
        return bytes(damaged)

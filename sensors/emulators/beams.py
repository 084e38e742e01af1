"""A beam-pair door counter on a pty, speaking ``gerbang-beams/1`` (see ``sensors.beams``).

It boots with a banner, reports every beam change with its uptime in milliseconds, sends a heartbeat
every second, and plays people walking in and out, people who turn back, and line noise.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from sensors.beams import BANNER, encode_state
from sensors.crossing import Direction
from sensors.emulators.pty import PtyDevice

#: Bytes a cheap board may print before its sketch starts (a bootloader at another baud rate).
BOOT_NOISE = b"\x00\xfe\x7f\xa5ets Jun  8 2016\r\n\xc3\x28"


class BeamEmulator:
    """The device side of a beam counter.

    Args:
        device: The pty to speak on.
        inner_beam: Which beam is on the room's side (so ``walk(IN)`` breaks the other first).
        step_s: Time between two beam changes of one person (a walking pace).
        sleep: Waits between steps; tests pass a function that only advances the emulator's clock.
    """

    def __init__(
        self,
        device: PtyDevice,
        *,
        inner_beam: str = "B",
        step_s: float = 0.12,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.device = device
        self.inner_beam = inner_beam.upper()
        self.step_s = step_s
        self._sleep = sleep
        self.uptime_ms = 0
        self.state = (False, False)

    def boot(self, noise: bool = True) -> None:
        """Power up: optional boot noise, the banner, and the (clear) state."""
        self.uptime_ms = 0
        if noise:
            self.device.write(BOOT_NOISE)
        self.device.write(BANNER)
        self.state = (False, False)
        self.send()

    def send(self) -> None:
        """Send the current state (also the heartbeat)."""
        self.device.write(encode_state(*self.state, self.uptime_ms))

    def set(self, a_broken: bool, b_broken: bool) -> None:
        """Change the beams' state after one step's time, and report it."""
        self._wait(self.step_s)
        self.state = (a_broken, b_broken)
        self.send()

    def walk(self, direction: Direction) -> None:
        """One person passing through: outer beam breaks, inner breaks, outer frees, inner frees."""
        outer_first = direction is Direction.IN
        if (self.inner_beam == "A") == outer_first:
            sequence = [(False, True), (True, True), (True, False), (False, False)]
        else:
            sequence = [(True, False), (True, True), (False, True), (False, False)]
        for state in sequence:
            self.set(*state)

    def turn_back(self, direction: Direction) -> None:
        """Someone starting to walk ``direction`` who steps back after breaking both beams."""
        outer_first = direction is Direction.IN
        first = (True, False) if (self.inner_beam == "B") == outer_first else (False, True)
        for state in (first, (True, True), first, (False, False)):
            self.set(*state)

    def garbage(self, rng: random.Random | None = None) -> None:
        """Line noise: a few random bytes and a corrupted copy of the state line."""
        rng = rng or random.Random()
        noise = bytes(rng.randrange(256) for _ in range(rng.randint(3, 12)))
        line = bytearray(encode_state(*self.state, self.uptime_ms))
        line[3] ^= 0x01  # a flipped bit: the checksum no longer matches
        self.device.write(noise + bytes(line))

    def run(self, stop: threading.Event, *, people_per_min: float = 12.0, seed: int | None = None) -> None:
        """Boot, then play random people (mostly passing, some turning back) until ``stop`` is set."""
        rng = random.Random(seed)
        self.boot()
        next_person = time.monotonic() + rng.expovariate(people_per_min / 60.0)
        next_beat = time.monotonic() + 1.0
        while not stop.wait(0.05):
            now = time.monotonic()
            if now >= next_beat:
                self.uptime_ms = (self.uptime_ms + 1000) % 2**32
                self.send()
                next_beat = now + 1.0
            if now >= next_person:
                direction = rng.choice(list(Direction))
                roll = rng.random()
                if roll < 0.1:
                    self.turn_back(direction)
                elif roll < 0.15:
                    self.garbage(rng)
                else:
                    self.walk(direction)
                next_person = time.monotonic() + rng.expovariate(people_per_min / 60.0)

    def _wait(self, seconds: float) -> None:
        self.uptime_ms = (self.uptime_ms + round(seconds * 1000)) % 2**32
        self._sleep(seconds)

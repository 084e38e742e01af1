"""Station faults: the thermometer unplugged mid-measurement, the journal's disk full."""

import contextlib
import os
import subprocess
import time
from datetime import UTC, datetime

import numpy as np
import pytest

from sensors.camera import Frame
from sensors.crossing import Direction
from sensors.emulators.beams import BeamEmulator
from sensors.emulators.pty import PtyDevice
from sensors.thermometer.gy_mcu90614 import encode
from station.config import parse
from station.core import FaceObservation
from station.events import Mask
from station.runner import Parts, Runner


class Camera:
    """A masked visitor in position whenever ``present`` is set."""

    live = True

    def __init__(self):
        self.present = False

    def read(self, timeout_s=1.0):
        time.sleep(0.02)
        return Frame(0, datetime.now(UTC), np.zeros((8, 8, 3), np.uint8))

    def observe(self, image, at):
        return FaceObservation(at, self.present, self.present, Mask.WITH_MASK if self.present else None)

    def close(self):
        pass


def wait_for(runner, predicate, what, timeout_s=10.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate(runner.station.state):
            return
        time.sleep(0.02)
    raise AssertionError(f"waited for {what}; the kiosk shows {runner.station.state}")


def test_thermometer_unplugged_mid_measurement_restarts_cleanly(tmp_path):
    device = PtyDevice(tmp_path / "ttyUSB-thermometer")
    camera = Camera()
    config = parse(
        {
            "station": {"journal": str(tmp_path / "journal.sqlite3")},
            "thermometer": {"url": device.path},
            "kiosk": {"port": 0},
        }
    )
    runner = Runner(config, Parts(frames=camera, observe=camera.observe))
    runner.start()
    try:
        wait_for(runner, lambda s: s.devices.get("thermometer") == "online", "the thermometer")
        camera.present = True
        wait_for(runner, lambda s: s.state == "measuring", "measuring")
        for _ in range(4):  # half a plateau of a feverish visitor...
            device.write(encode(35.5, 25.0))
            time.sleep(0.05)
        device.unplug()  # ...and the cable is pulled
        wait_for(runner, lambda s: s.message == "sensor_offline", "the kiosk saying so")
        assert runner.station.state.decision is None
        device.plug()  # back, under a new name behind the same link
        wait_for(runner, lambda s: s.devices.get("thermometer") == "online", "the thermometer back")
        camera.present = True
        for _ in range(10):  # a whole new measurement: nothing of the old one is mixed in
            device.write(encode(34.4, 25.0))
            time.sleep(0.05)
        wait_for(runner, lambda s: s.decision == "allow", "a decision")
        assert runner.station.state.body_c == 36.9
        statuses = [(e["device"], e["state"]) for e in runner.journal.events() if e["type"] == "status"]
    finally:
        runner.close()
        device.close()
    assert statuses == [("thermometer", "online"), ("thermometer", "offline"), ("thermometer", "online")]


@contextlib.contextmanager
def small_disk(folder, size_kb):
    folder.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({result.stderr.decode().strip()}): needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_journal_disk_full_keeps_counting_and_recovers(tmp_path):
    with small_disk(tmp_path / "disk", 256) as disk:
        beams_device = PtyDevice()
        beams = BeamEmulator(beams_device, step_s=0.005)
        config = parse(
            {
                "station": {"journal": str(disk / "journal.sqlite3")},
                "counting": {"source": "beams", "beams_url": beams_device.path},
                "kiosk": {"port": 0},
            }
        )
        runner = Runner(config, Parts())
        runner.start()
        try:
            wait_for(runner, lambda s: s.devices.get("beams") == "online", "the beam counter")
            time.sleep(0.2)  # pyserial flushes the input right after opening
            beams.boot(noise=False)
            filler = disk / "filler"
            with contextlib.suppress(OSError), filler.open("wb") as out:  # someone's logs eat the disk
                while True:
                    out.write(b"\0" * 4096)
                    out.flush()
                    os.fsync(out.fileno())
            walked = 0
            while runner.station.state.journal_ok and walked < 400:
                beams.walk(Direction.IN)
                walked += 1
                wait_for(runner, lambda s, n=walked: s.occupancy_people == n, f"occupancy {walked}")
            assert runner.station.state.journal_ok is False  # the kiosk says so
            for _ in range(3):  # and the station keeps counting
                beams.walk(Direction.IN)
                walked += 1
            wait_for(runner, lambda s: s.occupancy_people == walked, "counting on a full disk")
            filler.unlink()  # space again
            wait_for(runner, lambda s: s.journal_ok, "the journal recovering")
            crossings = [e for e in runner.journal.events() if e["type"] == "crossing"]
        finally:
            runner.close()
            beams_device.close()
    assert len(crossings) == walked  # nothing it had was lost
    assert len({e["id"] for e in crossings}) == walked

"""The whole station on emulated devices: thermometer and beams on ptys, a scripted camera, the kiosk."""

import json
import threading
import time
import urllib.request
from datetime import UTC, datetime

import numpy as np
import pytest

from sensors.camera import Frame
from sensors.crossing import Direction as BeamDirection
from sensors.emulators.beams import BeamEmulator
from sensors.emulators.pty import PtyDevice
from sensors.emulators.scenario import Scenario, Step, StepKind
from sensors.emulators.thermometer import ThermometerEmulator
from station.config import parse
from station.core import FaceObservation
from station.events import Mask
from station.runner import Parts, Runner
from station.uplink import Receipt


class ScriptedCamera:
    """Blank frames at 20 per second; the observer says a masked face is in position."""

    live = True

    def read(self, timeout_s=1.0):
        time.sleep(0.05)
        return Frame(0, datetime.now(UTC), np.zeros((120, 160, 3), np.uint8))

    def close(self):
        pass


class Dashboard:
    def __init__(self):
        self.events = []

    def send(self, events):
        self.events += events
        return Receipt(len(events), 0)


def wait_for(predicate, timeout_s=10.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def devices(tmp_path):
    scenario = Scenario(
        noise_c=0.0, step_up_s=0.0, steps=(Step(StepKind.PERSON, seconds=600, object_c=34.4),)
    )
    thermometer = ThermometerEmulator("gy-mcu90614", scenario, PtyDevice())
    beams = BeamEmulator(PtyDevice())
    stop = threading.Event()
    thread = threading.Thread(target=thermometer.run, args=(stop,), daemon=True)
    thread.start()
    yield thermometer, beams
    stop.set()
    thread.join(timeout=3)
    thermometer.device.close()
    beams.device.close()


def test_station_admits_counts_and_ships(tmp_path, devices):
    thermometer, beams = devices
    config = parse(
        {
            "station": {"journal": str(tmp_path / "journal.sqlite3"), "capacity_people": 10},
            "dashboard": {"url": "http://127.0.0.1:9", "occupancy_poll_s": 600},
            "thermometer": {"url": thermometer.path, "protocol": "gy-mcu90614"},
            "counting": {"source": "beams", "beams_url": beams.device.path, "door": "east"},
            "kiosk": {"port": 0},
        }
    )
    dashboard = Dashboard()
    parts = Parts(
        frames=ScriptedCamera(),
        observe=lambda image, at: FaceObservation(at, True, True, Mask.WITH_MASK),
        sender=dashboard,
    )
    runner = Runner(config, parts)
    runner.start()
    try:
        assert wait_for(lambda: runner.station.state.decision == "allow")
        assert wait_for(lambda: runner.station.state.devices.get("beams") == "online")
        beams.boot(noise=True)
        beams.walk(BeamDirection.IN)
        beams.walk(BeamDirection.IN)
        beams.walk(BeamDirection.OUT)
        assert wait_for(lambda: runner.station.state.occupancy_people == 1)
        with urllib.request.urlopen(runner.kiosk_url + "state", timeout=5) as response:
            kiosk = json.load(response)
        assert (kiosk["decision"], kiosk["body_c"], kiosk["mask"]) == ("allow", 36.9, "with_mask")
        assert wait_for(lambda: len(dashboard.events) >= 6)
    finally:
        runner.close()
    kinds = [
        (e["type"], e.get("decision") or e.get("direction"))
        for e in dashboard.events
        if e["type"] != "status"
    ]
    assert kinds[:4] == [("screening", "allow"), ("crossing", "in"), ("crossing", "in"), ("crossing", "out")]
    assert {e["door"] for e in dashboard.events if e["type"] == "crossing"} == {"east"}


def test_an_unplugged_thermometer_shows_on_the_kiosk(tmp_path, devices):
    thermometer, _ = devices
    config = parse(
        {
            "station": {"journal": str(tmp_path / "journal.sqlite3")},
            "thermometer": {"url": thermometer.path},
            "kiosk": {"port": 0},
        }
    )
    runner = Runner(config, Parts())
    runner.start()
    try:
        assert wait_for(lambda: runner.station.state.devices.get("thermometer") == "online")
        thermometer.device.unplug()
        assert wait_for(lambda: runner.station.state.devices.get("thermometer") == "offline")
        statuses = [(e["device"], e["state"]) for e in runner.journal.events() if e["type"] == "status"]
    finally:
        runner.close()
    assert statuses == [("thermometer", "online"), ("thermometer", "offline")]


class RenderedDoor:
    """The visitor camera replaying a rendered door (a file: every frame, then the end)."""

    live = False

    def __init__(self, frames):
        self.frames = iter(frames)
        self.index = 0

    def read(self, timeout_s=1.0):
        image = next(self.frames, None)
        if image is None:
            return None
        self.index += 1
        return Frame(self.index, datetime.now(UTC), image)

    def close(self):
        pass


@pytest.mark.slow
def test_one_camera_serves_the_visitor_and_the_door(tmp_path):
    # counting.camera left empty: the visitor camera's frames are handed to the door counter too
    from door_scenes import Scene, Walker, walk

    scene = Scene(
        (
            Walker(walk((250, 470), (250, -40), start_s=0.5)),
            Walker(walk((520, -40), (520, 470), start_s=2.0), colour=(160, 60, 40)),
        ),
        6.0,
    )
    config = parse(
        {
            "station": {"journal": str(tmp_path / "journal.sqlite3")},
            "camera": {"source": "0"},
            "counting": {
                "source": "camera",
                "lines": [{"line": [64, 216, 704, 216], "in_point": [384, 60], "door": "lobi"}],
            },
            "kiosk": {"port": 0},
        }
    )
    parts = Parts(
        frames=RenderedDoor(list(scene.frames())),
        observe=lambda image, at: FaceObservation(at, False),
        sender=Dashboard(),
    )
    runner = Runner(config, parts)
    runner.start()
    try:
        assert wait_for(lambda: runner.station.state.devices.get("door_camera") == "ended", timeout_s=60)
        assert runner.station.state.doors == {"lobi": {"in": 1, "out": 1}}
        assert runner.station.state.devices.get("camera") == "ended"
        assert runner.door_view is not None
        assert runner.door_view.jpeg() is not None
    finally:
        runner.close()


class RoomOnTheDashboard:
    """The dashboard's room figures, or unreachable."""

    def __init__(self, limit_people):
        self.limit_people = limit_people
        self.reachable = True

    def fetch(self):
        from station.uplink import RoomFigures, UplinkError

        if not self.reachable:
            raise UplinkError("unreachable")
        return RoomFigures(0, self.limit_people, self.limit_people * 2)


def test_the_dashboards_limit_is_kept_through_a_restart_without_the_network(tmp_path):
    config = parse(
        {
            "station": {"capacity_people": 40, "journal": str(tmp_path / "journal.sqlite3")},
            "dashboard": {"occupancy_poll_s": 0.2},
            "kiosk": {"port": 0},
        }
    )
    room = RoomOnTheDashboard(limit_people=6)
    runner = Runner(config, Parts(sender=Dashboard(), occupancy=room))
    runner.start()
    try:
        assert wait_for(lambda: runner.station.state.limit_people == 6)  # the dashboard's, not 20
        room.reachable = False
        assert wait_for(lambda: runner.station.state.limit_source == "last_known")
        assert runner.station.state.limit_people == 6
    finally:
        runner.close()
    restarted = Runner(config, Parts(sender=Dashboard(), occupancy=room))  # still no network
    restarted.start()
    try:
        time.sleep(0.5)
        state = restarted.station.state
        assert (state.limit_people, state.limit_source) == (6, "last_known")
    finally:
        restarted.close()

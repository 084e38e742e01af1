"""A scripted day of 50 visitors through the emulated devices, the station and a real dashboard.

Healthy visitors, a fever then fine on re-test, a fever twice, no mask, a mask below the nose, the
room full then queued and called, a guard's override: it must end with exactly the expected
decisions, occupancy, queue calls and dashboard records.
"""

import json
import time
import urllib.request
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select

from dashboard.db import new_session
from dashboard.models import Crossing, QueueTicket, Screening
from sensors.camera import Frame
from sensors.crossing import Direction
from sensors.emulators.beams import BeamEmulator
from sensors.emulators.pty import PtyDevice
from sensors.thermometer.gy_mcu90614 import encode
from station.config import parse
from station.core import FaceObservation
from station.events import Mask
from station.runner import Parts, Runner

PIN = "2468"
PINS = f"pak-budi={PIN}"  # one guard, named by the PIN
HEALTHY_C, FEVER_C = 34.4, 35.2  # skin; body = skin + 2.5 -> 36.9 and 37.7


class Camera:
    """The visitor camera: the test says who stands in front and what they wear."""

    live = True

    def __init__(self):
        self.mask: Mask | None = None

    def read(self, timeout_s=1.0):
        time.sleep(0.02)
        return Frame(0, datetime.now(UTC), np.zeros((8, 8, 3), np.uint8))

    def observe(self, image, at):
        present = self.mask is not None
        return FaceObservation(at, present, present, self.mask)

    def close(self):
        pass


@pytest.fixture
def dashboard(dashboard_for):
    return dashboard_for(10, "loket-1")  # limit 5


class Day:
    """Drives the devices and the guard, and waits for the station to follow."""

    def __init__(self, runner, camera, thermometer, beams):
        self.runner, self.camera, self.thermometer, self.beams = runner, camera, thermometer, beams

    @property
    def state(self):
        return self.runner.station.state

    def wait(self, predicate, what, timeout_s=10.0):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if predicate(self.state):
                return self.state
            time.sleep(0.02)
        raise AssertionError(f"waited for {what}; the kiosk shows {self.state}")

    def visitor(self, skin_c, mask):
        """One visitor steps up, is measured and looked at; returns the kiosk's decision state."""
        self.camera.mask = mask
        self.wait(lambda s: s.state == "measuring", "measuring")
        for _ in range(8):
            self.thermometer.write(encode(skin_c, 25.0))
            time.sleep(0.03)
        return self.wait(lambda s: s.decision is not None, "a decision")

    def leaves(self):
        self.camera.mask = None
        self.wait(lambda s: s.state == "idle", "idle")

    def walk(self, direction, expected_occupancy):
        self.beams.walk(direction)
        self.wait(lambda s: s.occupancy_people == expected_occupancy, f"occupancy {expected_occupancy}")

    def guard(self, **action):
        request = urllib.request.Request(
            self.runner.kiosk_url + "api/action",
            data=json.dumps({"pin": PIN, **action}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200


def test_a_day_of_fifty_visitors(tmp_path, dashboard, monkeypatch):
    app, url, token = dashboard
    monkeypatch.setenv("GERBANG_STATION_TOKEN", token)
    monkeypatch.setenv("GERBANG_KIOSK_PIN", PINS)
    thermometer, beams_device = PtyDevice(), PtyDevice()
    beams = BeamEmulator(beams_device, step_s=0.02)
    camera = Camera()
    config = parse(
        {
            "station": {"room": "loket", "capacity_people": 10, "journal": str(tmp_path / "journal.sqlite3")},
            "dashboard": {"url": url, "occupancy_poll_s": 0.5},
            "thermometer": {"url": thermometer.path},
            "counting": {"source": "beams", "beams_url": beams_device.path},
            "screening": {"retest_delay_s": 1.0, "face_lost_s": 0.3, "mask_votes": 3},
            "kiosk": {"port": 0},
        }
    )
    runner = Runner(config, Parts(frames=camera, observe=camera.observe))
    runner.start()
    day = Day(runner, camera, thermometer, beams)
    expected = []  # (decision, reason, retest) of every screening, in order
    try:
        day.wait(lambda s: s.devices.get("beams") == "online", "the beam counter")
        time.sleep(0.2)  # pyserial flushes the input right after opening
        beams.boot(noise=True)
        occupancy = 0
        # 1-5: healthy, masked, admitted; each walks in: the room reaches its limit of 5
        for _ in range(5):
            assert day.visitor(HEALTHY_C, Mask.WITH_MASK).light == "green"
            expected.append(("allow", "ok", False))
            day.leaves()
            occupancy += 1
            day.walk(Direction.IN, occupancy)
        assert day.state.room_state == "full"
        # 6-7: cleared while the room is full: queue tickets 1 and 2, amber
        for ticket in (1, 2):
            state = day.visitor(HEALTHY_C, Mask.WITH_MASK)
            assert (state.light, state.queue_ticket, state.decision) == ("amber", ticket, "allow")
            expected.append(("allow", "ok", False))
            day.leaves()
        assert day.state.queue_waiting == [1, 2]
        # someone leaves: ticket 1 is called and walks in; again for ticket 2
        for ticket in (1, 2):
            day.walk(Direction.OUT, occupancy - 1)
            day.wait(lambda s, t=ticket: s.queue_called == t, f"ticket {ticket} called")
            day.walk(Direction.IN, occupancy)
        # three leave
        for _ in range(3):
            occupancy -= 1
            day.walk(Direction.OUT, occupancy)
        # 8: a fever: re-test ticket 1; 9: a fever: re-test ticket 2
        for ticket in (1, 2):
            state = day.visitor(FEVER_C, Mask.WITH_MASK)
            assert (state.decision, state.message, state.light) == ("retest", "fever_retest", "red")
            assert state.retest_ticket == ticket
            expected.append(("retest", "fever", False))
            day.leaves()
        # 10: no mask; 11: a mask below the nose: both denied, each with its own message
        for mask, message in ((Mask.WITHOUT_MASK, "no_mask"), (Mask.INCORRECT, "mask_below_nose")):
            state = day.visitor(HEALTHY_C, mask)
            assert (state.decision, state.message) == ("deny", message)
            expected.append(("deny", message, False))
            day.leaves()
        # 12: no mask, but the guard hands out a mask and admits with a reason
        day.visitor(HEALTHY_C, Mask.WITHOUT_MASK)
        expected.append(("deny", "no_mask", False))
        day.guard(action="admit", reason="mask handed out at the door")
        day.wait(lambda s: s.light == "green", "the override")
        expected.append(("allow", "override", False))
        day.leaves()
        occupancy += 1
        day.walk(Direction.IN, occupancy)
        # after the rest, re-test 1 is fine (admitted, walks in); re-test 2 still has a fever: refused
        time.sleep(1.0)
        day.guard(action="retest", ticket=1)
        assert day.visitor(HEALTHY_C, Mask.WITH_MASK).decision == "allow"
        expected.append(("allow", "ok", True))
        day.leaves()
        occupancy += 1
        day.walk(Direction.IN, occupancy)
        day.guard(action="retest", ticket=2)
        state = day.visitor(FEVER_C, Mask.WITH_MASK)
        assert (state.decision, state.message) == ("deny", "fever_denied")
        expected.append(("deny", "fever_retest", True))
        day.leaves()
        # 13-50: the rest of the day; the admitted are served and leave again
        for index in range(13, 51):
            mask = Mask.WITHOUT_MASK if index % 9 == 0 else Mask.WITH_MASK
            state = day.visitor(HEALTHY_C, mask)
            day.leaves()
            if mask is Mask.WITH_MASK:
                assert state.decision == "allow"
                expected.append(("allow", "ok", False))
                day.walk(Direction.IN, occupancy + 1)
                day.walk(Direction.OUT, occupancy)
            else:
                expected.append(("deny", "no_mask", False))
        # the guard's correction: one slipped out unseen
        day.guard(action="correct", delta=-1, reason="left through the side door")
        occupancy -= 1
        day.wait(lambda s: s.occupancy_people == occupancy, "the correction")
        assert runner.uplink is not None
        end = time.monotonic() + 15
        while runner.journal.pending_count() and time.monotonic() < end:
            time.sleep(0.1)
        assert runner.journal.pending_count() == 0
    finally:
        runner.close()
        thermometer.close()
        beams_device.close()
    walked_in = 5 + 2 + 1 + 1 + sum(1 for i in range(13, 51) if i % 9)
    walked_out = 2 + 3 + sum(1 for i in range(13, 51) if i % 9)
    assert occupancy == walked_in - walked_out - 1 == 3
    with new_session(app) as session:
        screenings = session.execute(select(Screening).order_by(Screening.at, Screening.id)).scalars().all()
        assert [(s.decision, s.reason, s.retest) for s in screenings] == expected
        assert len(expected) == 50 + 1 + 2  # fifty visitors, the override, two re-tests
        override = next(s for s in screenings if s.reason == "override")
        assert (override.override_by, override.override_reason) == ("pak-budi", "mask handed out at the door")
        crossings = dict(
            session.execute(select(Crossing.direction, func.count()).group_by(Crossing.direction)).all()
        )
        assert crossings == {"in": walked_in, "out": walked_out}
        tickets = session.execute(
            select(QueueTicket.ticket, QueueTicket.status).order_by(QueueTicket.ticket)
        ).all()
        assert [tuple(t) for t in tickets] == [(1, "served"), (2, "served")]  # each walked in after its call
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{url}/api/v1/rooms/loket/occupancy", headers={"Authorization": f"Bearer {token}"}
        )
    ) as response:
        assert json.load(response) == {
            "site": "kantor",
            "room": "loket",
            "occupancy": 3,
            "limit": 5,
            "capacity": 10,
            "state": "open",
        }

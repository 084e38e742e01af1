"""``gerbang station run`` counting by camera from a recorded clip, against a real dashboard.

The door camera is a video file (a rendered door: three people walk in, one walks out); the station
plays it once at its own frame rate, ships every crossing, and the dashboard ends with the room's
count right. The kiosk then says the door camera's video has ended.
"""

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import pytest
from door_scenes import FPS, HEIGHT, WIDTH, Scene, Walker, walk
from sqlalchemy import select

from dashboard.db import new_session
from dashboard.models import Crossing

GERBANG = shutil.which("gerbang", path=str(Path(sys.executable).parent)) or "gerbang"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dashboard(dashboard_for):
    return dashboard_for(20, "pintu-1")  # limit 10


def door_clip(path: Path) -> None:
    """Ten seconds at the door: in at 1 s, 3 s and 6 s (bottom to top), out at 4.5 s (top to bottom)."""
    walkers = (
        Walker(walk((250, 470), (250, -40), start_s=1.0)),
        Walker(walk((500, 470), (500, -40), start_s=3.0), colour=(160, 60, 40)),
        Walker(walk((580, -40), (580, 470), start_s=4.5), colour=(40, 150, 60)),
        Walker(walk((380, 470), (380, -40), start_s=6.0), colour=(150, 150, 40)),
    )
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for image in Scene(walkers, 10.0).frames():
        writer.write(image)
    writer.release()


def get_json(url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
        return json.load(response)


@pytest.mark.slow
def test_the_station_counts_a_recorded_door_onto_the_dashboard(tmp_path, dashboard):
    app, url, token = dashboard
    clip = tmp_path / "door.mp4"
    door_clip(clip)
    kiosk_port = free_port()
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\nname = "pintu-1"\nroom = "loket"\ncapacity_people = 20\n'
        f'journal = "{tmp_path / "journal.sqlite3"}"\n'
        f'[dashboard]\nurl = "{url}"\noccupancy_poll_s = 0.5\n'
        f'[counting]\nsource = "camera"\ncamera = "{clip}"\n'
        '[[counting.lines]]\nline = [64, 216, 704, 216]\nin_point = [384, 60]\ndoor = "pintu"\n'
        f"[kiosk]\nport = {kiosk_port}\n",
        encoding="utf-8",
    )
    environment = {"GERBANG_STATION_TOKEN": token, "PATH": str(Path(sys.executable).parent)}
    started = time.monotonic()
    with subprocess.Popen(
        [GERBANG, "station", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment,
        text=True,
    ) as station:
        try:
            kiosk = f"http://127.0.0.1:{kiosk_port}/state"
            state, room = None, None
            while time.monotonic() - started < 60:
                try:
                    state = get_json(kiosk)
                    room = get_json(f"{url}/api/v1/rooms/loket/occupancy", token)
                except OSError:
                    state = None
                ended = state and state["devices"].get("door_camera") == "ended"
                if ended and room["occupancy"] == 2:
                    break
                time.sleep(0.25)
            assert state is not None, "the kiosk never answered"
            assert state["devices"].get("door_camera") == "ended", state
            assert state["doors"] == {"pintu": {"in": 3, "out": 1}}
            # played at its own rate: ten seconds of video take about ten seconds
            assert time.monotonic() - started >= 9.0
            assert room["occupancy"] == 2
        finally:
            station.send_signal(signal.SIGTERM)
            output, _ = station.communicate(timeout=20)
    assert station.returncode == 0, output
    with new_session(app) as session:
        rows = session.scalars(select(Crossing)).all()
        assert sorted((row.direction, row.door.name) for row in rows) == [
            ("in", "pintu"),
            ("in", "pintu"),
            ("in", "pintu"),
            ("out", "pintu"),
        ]

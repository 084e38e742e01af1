"""One room, one truth: ``gerbang dashboard set-room`` reaches a running ``gerbang station run``'s kiosk."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

GERBANG = shutil.which("gerbang", path=str(Path(sys.executable).parent)) or "gerbang"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def kiosk_state(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/state", timeout=2) as response:
        return json.load(response)


def wait_for(predicate, timeout_s):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def test_set_room_changes_the_kiosks_limit_within_15_s(tmp_path, dashboard_for):
    app, url, token = dashboard_for(12, "loket-1")  # limit 6 on the dashboard
    database = app.config["DATABASE_URL"]
    port = free_port()
    config = tmp_path / "station.toml"
    config.write_text(  # the station's own file says capacity 40 (limit 20): the dashboard must win
        f'[station]\nname = "loket-1"\nroom = "loket"\ncapacity_people = 40\n'
        f'journal = "{tmp_path / "journal.sqlite3"}"\n'
        f'[dashboard]\nurl = "{url}"\noccupancy_poll_s = 1.0\n[kiosk]\nport = {port}\n',
        encoding="utf-8",
    )
    env = {**os.environ, "GERBANG_STATION_TOKEN": token}
    station = subprocess.Popen([GERBANG, "station", "run", "--config", str(config)], env=env)
    try:
        assert wait_for(lambda: kiosk_state(port)["limit_people"] == 6, 15), (
            "the dashboard's limit never came"
        )
        assert kiosk_state(port)["limit_source"] == "dashboard"
        result = subprocess.run(
            [GERBANG, "dashboard", "set-room", "loket", "--capacity", "1000", "--share", "0.3335"],
            env={**os.environ, "GERBANG_DATABASE_URL": database},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("limit 333")
        changed_at = time.monotonic()
        assert wait_for(lambda: kiosk_state(port)["limit_people"] == 333, 15)
        assert time.monotonic() - changed_at < 15
    finally:
        station.terminate()
        station.wait(timeout=20)

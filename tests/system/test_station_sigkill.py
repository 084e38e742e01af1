"""``gerbang station run`` killed with SIGKILL at random moments loses no event its kiosk had shown."""

import http.client
import json
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from sensors.crossing import Direction
from sensors.emulators.beams import BeamEmulator
from sensors.emulators.pty import PtyDevice

GERBANG = shutil.which("gerbang", path=str(Path(sys.executable).parent)) or "gerbang"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def watch_kiosk(url, shown, stop):
    """Record the journal sequence number of every state the kiosk pushed."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                for raw in response:
                    line = raw.decode().strip()
                    if line.startswith("data: "):
                        shown.append(json.loads(line[6:])["seq"])
        except (OSError, http.client.HTTPException):  # the kill can cut a chunk in half
            time.sleep(0.05)


def test_sigkill_loses_nothing_the_kiosk_showed(tmp_path):
    device = PtyDevice(tmp_path / "ttyBeams")
    beams = BeamEmulator(device, step_s=0.01)
    stop = threading.Event()

    def people():
        beams.boot(noise=False)
        while not stop.is_set():
            beams.walk(Direction.IN)
            beams.walk(Direction.OUT)

    walker = threading.Thread(target=people, daemon=True)
    walker.start()
    port = free_port()
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\njournal = "{tmp_path / "journal.sqlite3"}"\n'
        f'[counting]\nsource = "beams"\nbeams_url = "{device.path}"\n'
        f"[kiosk]\nport = {port}\n",
        encoding="utf-8",
    )
    shown: list[int] = []
    rng = random.Random(11)
    try:
        for _ in range(4):
            with subprocess.Popen(
                [GERBANG, "station", "run", "--config", str(config)], stdout=subprocess.DEVNULL
            ) as station:
                watching = threading.Event()
                watcher = threading.Thread(
                    target=watch_kiosk, args=(f"http://127.0.0.1:{port}/events", shown, watching), daemon=True
                )
                watcher.start()
                time.sleep(2.0 + rng.random())
                station.send_signal(signal.SIGKILL)
                station.wait(timeout=10)
                watching.set()
                watcher.join(timeout=5)
    finally:
        stop.set()
        walker.join(timeout=5)
        device.close()
    assert max(shown) > 10  # people were counted and shown
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        stored = {seq for (seq,) in db.execute("SELECT seq FROM events")}
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert {seq for seq in shown if seq} <= stored

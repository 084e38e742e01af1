"""A station process killed with SIGKILL at random moments loses nothing it had shown."""

import random
import signal
import sqlite3
import subprocess
import sys
import time

from station.journal import Journal

WRITER = """
import sys
from station.events import CrossingEvent, Direction
from station.journal import Journal

journal = Journal(sys.argv[1])
while True:
    event = CrossingEvent(direction=Direction.IN)
    journal.append(event)
    print(event.id, flush=True)  # the kiosk shows an event only after the journal has it
"""


def test_sigkill_at_random_moments_loses_no_shown_event(tmp_path):
    path = tmp_path / "journal.sqlite3"
    shown = []
    rng = random.Random(7)
    for _ in range(8):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
        ) as writer:
            time.sleep(0.3 + rng.random() * 0.5)
            writer.send_signal(signal.SIGKILL)
            out, _ = writer.communicate()
        shown += [line for line in out.splitlines() if len(line) == 36]
    journal = Journal(path)
    stored = {event["id"] for event in journal.events()}
    journal.close()
    assert len(shown) > 8
    assert set(shown) <= stored
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

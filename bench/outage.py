"""The dashboard unreachable for a long while: every event must arrive exactly once afterwards.

A station's journal and uplink ship crossings to a real dashboard (waitress, SQLite); the dashboard is
stopped for ``--outage-s`` seconds (default 600: ten minutes) while the station keeps journalling one
event a second, then started again on the same port. Prints how long the catch-up took and checks the
dashboard's records: every event once, in order.

    .venv/bin/python bench/outage.py [--outage-s 600]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import waitress.server
from sqlalchemy import func, select

from dashboard import create_app
from dashboard.db import get_engine, new_session
from dashboard.manage import add_room, add_station
from dashboard.migrate import upgrade
from dashboard.models import Crossing, IngestedEvent
from station.events import CrossingEvent, Direction
from station.journal import Journal
from station.uplink import HttpSender, Uplink


def serve(app, port: int):
    server = waitress.server.create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage-s", type=float, default=600.0)
    parser.add_argument("--rate-per-s", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'dashboard.sqlite3'}"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        with new_session(app) as session:
            add_room(session, "kantor", "loket", 100000, 1.0)
            _, token = add_station(session, "loket-1", "loket")
        server = serve(app, 0)
        port = server.effective_port
        journal = Journal(Path(folder) / "journal.sqlite3")
        uplink = Uplink(journal, HttpSender(f"http://127.0.0.1:{port}", token), backoff_max_s=30.0)
        stop = threading.Event()
        threading.Thread(target=uplink.run, args=(stop,), daemon=True).start()
        sent: list[str] = []

        def produce(seconds: float) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                event = CrossingEvent(direction=Direction.IN)
                journal.append(event)
                uplink.wake()
                sent.append(event.id)
                time.sleep(1.0 / args.rate_per_s)

        produce(10)
        server.close()
        print(f"dashboard stopped after {len(sent)} events; outage of {args.outage_s:.0f} s", flush=True)
        produce(args.outage_s)
        waiting = journal.pending_count()
        server = serve(app, port)
        back = time.monotonic()
        print(f"dashboard back; {waiting} events waited in the journal", flush=True)
        while journal.pending_count():
            time.sleep(0.1)
        caught_up_s = time.monotonic() - back
        stop.set()
        server.close()
        with new_session(app) as session:
            ids = session.execute(select(IngestedEvent.event_id)).scalars().all()
            crossings = session.execute(select(func.count()).select_from(Crossing)).scalar_one()
        get_engine(app).dispose()
        lost = len(set(sent) - set(ids))
        doubled = len(ids) - len(set(ids))
        print(
            f"events {len(sent)}; dashboard has {len(set(ids))} ({crossings} crossings);"
            f" lost {lost}, doubled {doubled};"
            f" caught up {caught_up_s:.1f} s after the dashboard returned (back-off at most 30 s)"
        )


if __name__ == "__main__":
    main()

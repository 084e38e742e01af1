"""How long a site's report takes for a day, a month and a year (page and streamed CSV), on SQLite.

Fills a fresh SQLite database with ``--per-day`` crossings and screenings a day in each of three
rooms for a year, then times through the Flask test client (no network):

* baseline: the one-day report page, the page the dashboard has always had;
* 31 days and 366 days: the page (tables and per-day charts) and the CSV (read to its end).

    .venv/bin/python bench/reports.py [--per-day 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from dashboard import create_app, manage, timeutil  # noqa: E402
from dashboard.db import new_session  # noqa: E402
from dashboard.migrate import upgrade  # noqa: E402
from dashboard.models import Crossing, Door, Role, Room, Screening, Station  # noqa: E402

PASSWORD = "bench password"
ROOMS = ("lobby", "aula", "loket")


def fill(app: object, per_day: int, days: int) -> None:
    """``per_day`` crossings (in and out in turn) and screenings a day in each room, for ``days`` days."""
    with new_session(app) as session:
        for slug in ROOMS:
            manage.add_room(session, "kantor", slug, 40, 0.5)
            manage.add_station(session, f"gate-{slug}", slug)
        manage.create_user(session, "bench", PASSWORD, Role.SUPERVISOR, locale="en")
        stations = {s.room_id: s.id for s in session.execute(select(Station)).scalars()}
        doors = {}
        for room_id, station_id in stations.items():
            door = Door(station_id=station_id, name="main")
            session.add(door)
            session.flush()
            doors[room_id] = door.id
        start = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(
            days=days - 1
        )
        crossings, screenings = [], []
        for room in session.execute(select(Room)).scalars():
            for day in range(days):
                for n in range(per_day):
                    at = start + timedelta(days=day, seconds=n * 40)
                    common = {
                        "event_id": str(uuid.uuid4()),
                        "room_id": room.id,
                        "station_id": stations[room.id],
                    }
                    crossings.append(
                        {
                            **common,
                            "door_id": doors[room.id],
                            "direction": "in" if n % 2 == 0 else "out",
                            "source": "beams",
                            "at": at,
                            "counted": True,
                            "occupancy_after": n % 2,
                        }
                    )
                    screenings.append(
                        {
                            **common,
                            "event_id": str(uuid.uuid4()),
                            "at": at,
                            "decision": "allow",
                            "reason": "ok",
                            "raw_c": 34.0,
                            "body_c": 36.5 + (n % 10) / 10,
                            "mask": "with_mask" if n % 7 else "incorrect",
                            "temperature_policy": "hard",
                            "mask_policy": "hard",
                            "retest": False,
                        }
                    )
        session.execute(insert(Crossing), crossings)
        session.execute(insert(Screening), screenings)
        session.commit()


def timed(client: object, url: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        begin = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        body = response.get_data()
        assert response.status_code == 200, (url, response.status_code, body[:200])
        best = min(best, time.perf_counter() - begin)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "SESSION_COOKIE_SECURE": False,
                "WTF_CSRF_ENABLED": False,
                "PURGE_AFTER_DAYS": 400,
            }
        )
        fill(app, args.per_day, 366)
        client = app.test_client()
        client.post("/login", data={"username": "bench", "password": PASSWORD})
        with app.app_context():
            today = timeutil.today()
        rows = 2 * args.per_day * len(ROOMS)
        print(f"{len(ROOMS)} rooms, {rows} rows a day (crossings + screenings), best of {args.repeat}")
        base = timed(client, f"/reports/kantor?day={today}", args.repeat)
        print(f"  baseline  1 day   page  {base * 1000:8.1f} ms")
        for days in (31, 366):
            first = today - timedelta(days=days - 1)
            query = f"from={first}&to={today}"
            page = timed(client, f"/reports/kantor?{query}", args.repeat)
            csv = timed(client, f"/reports/kantor.csv?{query}", args.repeat)
            print(f"  {days:4d} days        page  {page * 1000:8.1f} ms  ({page / base:5.1f} x baseline)")
            print(f"  {days:4d} days        csv   {csv * 1000:8.1f} ms  ({csv / base:5.1f} x baseline)")


if __name__ == "__main__":
    main()

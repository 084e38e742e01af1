"""``gerbang simulate``: a fleet of emulated stations posting to a dashboard over real HTTP.

Each emulated station is the real shipping path of a station: its own ``Journal`` (SQLite) and an
``Uplink`` with an ``HttpSender`` and a real token. Only the doors and the visitors are invented.
The stations are registered straight in the dashboard's database (``--database``, as ``gerbang
dashboard add-room`` / ``add-station`` do), in rooms of 2 to 4 doors, one station per door; that
is why this module sits at the top floor beside ``gerbang.py``: it is the one tool besides the demo
that touches both sides.

The event mix of a door: crossings (55 %), screenings (35 %: mostly cleared, some fever, no
mask or a guard's override), queue tickets, device status and a guard's +1/-1 correction now and
then. A station sends an exit only when its own door has someone to let out, so the room's count
never has to clamp at zero and its final value is known exactly: the sum of every door's ins,
outs and corrections. With ``--database`` the run ends by checking the dashboard: every event
there once, and every room's count exact.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from station.events import (
    CorrectionEvent,
    CrossingEvent,
    Decision,
    Direction,
    Event,
    Mask,
    QueueAction,
    QueueEvent,
    ScreeningEvent,
    StatusEvent,
)
from station.journal import Journal
from station.uplink import BatchRejectedError, HttpSender, Receipt, Uplink, UplinkError

log = logging.getLogger(__name__)
DOOR_NAMES = ("utara", "selatan", "timur", "barat")
DEFAULT_DOORS_PER_ROOM = 3


class CountingSender:
    """A ``Sender`` that forwards to another and counts: accepted, duplicates, failures, latency.

    Args:
        inner: The sender that does the work (an ``HttpSender``).
        clock: Monotonic seconds (a fake in tests).
    """

    def __init__(self, inner: HttpSender, clock: Callable[[], float] = time.perf_counter) -> None:
        self.inner = inner
        self.clock = clock
        self.accepted = 0
        self.duplicates = 0
        self.failures = 0
        self.rejected = 0
        self.latencies_s: list[float] = []

    def send(self, events: list[dict]) -> Receipt:
        """Forward the batch; count what came of it."""
        started = self.clock()
        try:
            receipt = self.inner.send(events)
        except UplinkError:
            self.failures += 1
            raise
        except BatchRejectedError:
            if len(events) == 1:  # the uplink retries a refused batch one by one, then sets it aside
                self.rejected += 1
            raise
        self.latencies_s.append(self.clock() - started)
        self.accepted += receipt.accepted
        self.duplicates += receipt.duplicates
        return receipt


@dataclass
class Door:
    """One emulated station at one door, with what it sent.

    Attributes:
        name: The station's name on the dashboard.
        room: The room's slug.
        door: The door's name (the station's own).
        journal: Its journal.
        sender: Its counting sender.
        uplink: Its uplink.
        inside_people: People this door let in and not yet out (its share of the room's count).
        events: Events it journalled.
        crossings: Crossings it journalled.
    """

    name: str
    room: str
    door: str
    journal: Journal
    sender: CountingSender
    uplink: Uplink
    inside_people: int = 0
    events: int = 0
    crossings: int = 0
    ticket: int = 0


@dataclass
class Report:
    """What a run did.

    Attributes:
        stations: Stations run.
        rooms: Rooms they were in.
        generated: Events journalled.
        accepted: Events the dashboard applied (its receipts).
        duplicates: Events it recognised as sent before (a retry after a lost answer).
        failures: Requests that failed (unreachable, 5xx) and were retried.
        rejected: Events refused as invalid (400): must be 0.
        pending: Events still in the journals when the drain ended: must be 0.
        latencies_s: Time of each successful request.
        expected_occupancy: Each room's count as its doors' events add up.
        elapsed_s: Wall time of the sending phase.
        verified: The database check, when it ran (``check_database``).
    """

    stations: int
    rooms: int
    generated: int
    accepted: int
    duplicates: int
    failures: int
    rejected: int
    pending: int
    latencies_s: list[float]
    expected_occupancy: dict[str, int]
    elapsed_s: float
    verified: Verification | None = None

    @property
    def lost(self) -> int:
        """Events journalled that the dashboard never applied."""
        return self.generated - self.accepted - self.rejected

    def percentile_ms(self, share: float) -> float:
        """A latency percentile in milliseconds (nearest rank), NaN without requests."""
        if not self.latencies_s:
            return math.nan
        ordered = sorted(self.latencies_s)
        return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]

    def lines(self) -> list[str]:
        """The report as printed."""
        out = [
            f"generated {self.generated} | accepted {self.accepted} | duplicates {self.duplicates} | "
            f"failures {self.failures} | rejected {self.rejected} | pending {self.pending} | "
            f"lost {self.lost}",
            f"rate {self.generated / max(self.elapsed_s, 1e-9):,.1f} events/s over {self.elapsed_s:.1f} s; "
            f"request latency p50 {self.percentile_ms(0.5):.1f} ms  p95 {self.percentile_ms(0.95):.1f} ms  "
            f"p99 {self.percentile_ms(0.99):.1f} ms  max {self.percentile_ms(1.0):.1f} ms "
            f"(n={len(self.latencies_s)} requests)",
        ]
        if self.verified is not None:
            out.append(self.verified.line())
        return out


@dataclass(frozen=True)
class Verification:
    """The dashboard's database against what the stations sent.

    Attributes:
        events_expected: Events the stations journalled.
        events_found: Distinct event ids the dashboard holds for these stations.
        crossings_found: Crossing rows it holds for them (doubles would show here).
        crossings_expected: Crossings the stations journalled.
        rooms_exact: Rooms whose count is what the doors add up to.
        rooms: Rooms checked.
        wrong: Rooms whose count is off: slug -> (found, expected).
    """

    events_expected: int
    events_found: int
    crossings_found: int
    crossings_expected: int
    rooms_exact: int
    rooms: int
    wrong: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing doubled, every count exact."""
        return (
            self.events_found == self.events_expected
            and self.crossings_found == self.crossings_expected
            and self.rooms_exact == self.rooms
        )

    def line(self) -> str:
        """One line for the report."""
        verdict = "OK" if self.ok else "MISMATCH"
        text = (
            f"database check {verdict}: events {self.events_found}/{self.events_expected}, "
            f"crossings {self.crossings_found}/{self.crossings_expected}, "
            f"occupancy exact in {self.rooms_exact}/{self.rooms} rooms"
        )
        if self.wrong:
            sample = ", ".join(f"{k}: {f} != {e}" for k, (f, e) in sorted(self.wrong.items())[:5])
            text += f" ({sample})"
        return text


def plan_rooms(stations: int, rooms: int | None) -> list[int]:
    """Return how many doors (stations) each room gets: 2 to 4 each unless ``rooms`` says otherwise.

    Raises:
        ValueError: Fewer than one station, or rooms outside 1 to ``stations``.
    """
    if stations < 1:
        raise ValueError(f"--stations must be at least 1, got {stations}")
    if rooms is None:
        rooms = max(1, round(stations / DEFAULT_DOORS_PER_ROOM))
    if not 1 <= rooms <= stations:
        raise ValueError(f"--rooms must be 1 to the number of stations ({stations}), got {rooms}")
    base, extra = divmod(stations, rooms)
    return [base + (1 if index < extra else 0) for index in range(rooms)]


def check_rate(rate_per_s: float) -> None:
    """Raise ``ValueError`` unless ``rate_per_s`` is a positive number of events per second."""
    if not (rate_per_s > 0 and math.isfinite(rate_per_s)):
        raise ValueError(f"--rate must be more than 0 events/s, got {rate_per_s}")


@dataclass(frozen=True)
class Registered:
    """A station registered on the dashboard."""

    name: str
    room: str
    door: str
    token: str


def register(database_url: str, stations: int, rooms: int | None, prefix: str) -> list[Registered]:
    """Add the rooms and stations of a run to the dashboard's database; return them with tokens."""
    from dashboard import create_app, manage
    from dashboard.db import get_engine, new_session

    plan = plan_rooms(stations, rooms)
    app = create_app({"DATABASE_URL": database_url, "LIVE_NOTIFY": False})
    made: list[Registered] = []
    try:
        with new_session(app) as session:
            number = 0
            for room_index, doors in enumerate(plan):
                room = f"{prefix}-r{room_index}"
                manage.add_room(
                    session, prefix, room, 1000, 0.5, name=f"Ruang {room_index}", actor="simulate"
                )
                for door_index in range(doors):
                    name = f"{prefix}-s{number}"
                    token = manage.add_station(session, name, room, actor="simulate")[1]
                    door = DOOR_NAMES[door_index % len(DOOR_NAMES)] + (
                        f"-{door_index // len(DOOR_NAMES)}" if door_index >= len(DOOR_NAMES) else ""
                    )
                    made.append(Registered(name, room, door, token))
                    number += 1
    except OperationalError as err:
        raise ValueError(f"cannot reach the dashboard's database: {str(err).splitlines()[0]}") from None
    finally:
        get_engine(app).dispose()
    return made


class Visitors:
    """Invents a door's next event; the mix is in the module's docstring."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def next_event(self, door: Door) -> Event:
        """Return the door's next event and update its bookkeeping."""
        roll = self.rng.random()
        if roll < 0.55:
            goes_in = door.inside_people == 0 or self.rng.random() < 0.5
            door.inside_people += 1 if goes_in else -1
            door.crossings += 1
            return CrossingEvent(
                direction=Direction.IN if goes_in else Direction.OUT, door=door.door, source="beams"
            )
        if roll < 0.90:
            return self._screening()
        if roll < 0.94:
            door.ticket += 1
            action = self.rng.choice(list(QueueAction))
            return QueueEvent(ticket=door.ticket, action=action)
        if roll < 0.98:
            state = "online" if self.rng.random() < 0.9 else "offline"
            device = self.rng.choice(("thermometer", "camera", "beams"))
            return StatusEvent(device=device, state=state, detail=f"{device} {state}")
        delta = -1 if door.inside_people > 0 and self.rng.random() < 0.5 else 1
        door.inside_people += delta
        return CorrectionEvent(delta=delta, by="satpam-sim", reason="hitung ulang")

    def _screening(self) -> ScreeningEvent:
        roll = self.rng.random()
        normal = round(self.rng.uniform(36.0, 37.1), 1)
        if roll < 0.86:
            return ScreeningEvent(
                decision=Decision.ALLOW, raw_c=normal - 1.5, body_c=normal, mask=Mask.WITH_MASK
            )
        if roll < 0.90:
            fever = round(self.rng.uniform(37.3, 39.0), 1)
            return ScreeningEvent(
                decision=Decision.RETEST, reason="fever", raw_c=fever - 1.5, body_c=fever, mask=Mask.WITH_MASK
            )
        if roll < 0.96:
            mask = self.rng.choice((Mask.WITHOUT_MASK, Mask.INCORRECT))
            reason = "no_mask" if mask is Mask.WITHOUT_MASK else "mask_below_nose"
            return ScreeningEvent(
                decision=Decision.DENY, reason=reason, raw_c=normal - 1.5, body_c=normal, mask=mask
            )
        return ScreeningEvent(
            decision=Decision.ALLOW,
            reason="override",
            raw_c=normal - 1.5,
            body_c=normal,
            mask=Mask.WITHOUT_MASK,
            override_by="satpam-sim",
            override_reason="masker medis diberikan di pintu",
        )


class Fleet:
    """The emulated stations of a run: journals, uplinks and the clock that paces their events.

    Args:
        stations: The registered stations.
        urls: Dashboard addresses; stations are spread over them in turn.
        journal_dir: Folder for the journals (one SQLite file per station).
        rate_per_s: Events per second per station.
        seed: Seed of the visitors' randomness.
        backoff_max_s: Longest wait of an uplink between tries.
        timeout_s: Time allowed for one request.
    """

    def __init__(
        self,
        stations: Sequence[Registered],
        urls: Sequence[str],
        journal_dir: Path,
        rate_per_s: float,
        *,
        seed: int = 7,
        backoff_max_s: float = 5.0,
        timeout_s: float = 10.0,
    ) -> None:
        check_rate(rate_per_s)
        if not urls:
            raise ValueError("give at least one --url")
        self.rate_per_s = rate_per_s
        self.visitors = Visitors(random.Random(seed))
        self.stop_uplinks = threading.Event()
        self.doors: list[Door] = []
        for index, station in enumerate(stations):
            journal = Journal(journal_dir / f"{station.name}.sqlite3")
            sender = CountingSender(HttpSender(urls[index % len(urls)], station.token, timeout_s=timeout_s))
            uplink = Uplink(journal, sender, backoff_initial_s=0.2, backoff_max_s=backoff_max_s, idle_s=0.5)
            self.doors.append(Door(station.name, station.room, station.door, journal, sender, uplink))
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start every station's uplink."""
        for door in self.doors:
            thread = threading.Thread(
                target=door.uplink.run, args=(self.stop_uplinks,), name=f"uplink-{door.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def generate(self, duration_s: float, stop: threading.Event | None = None) -> float:
        """Journal events at the fleet's rate for ``duration_s`` (or until ``stop``); return seconds taken."""
        stop = stop or threading.Event()
        interval_s = 1.0 / self.rate_per_s
        started = time.monotonic()
        rng = self.visitors.rng
        due = [(started + rng.uniform(0, interval_s), index) for index in range(len(self.doors))]
        heapq.heapify(due)
        end = started + duration_s
        while due and not stop.is_set():
            at, index = due[0]
            if at >= end:
                break
            wait_s = at - time.monotonic()
            if wait_s > 0:
                stop.wait(min(wait_s, 0.5))
                continue
            heapq.heapreplace(due, (at + interval_s, index))
            door = self.doors[index]
            door.journal.append(self.visitors.next_event(door))
            door.events += 1
            door.uplink.wake()
        return time.monotonic() - started

    def drain(self, timeout_s: float) -> int:
        """Wait until every journal is shipped or ``timeout_s`` passes; return events still pending."""
        deadline = time.monotonic() + timeout_s
        pending = self.pending()
        while pending and time.monotonic() < deadline:
            for door in self.doors:
                door.uplink.wake()
            time.sleep(0.2)
            pending = self.pending()
        return pending

    def pending(self) -> int:
        """Events waiting in the journals."""
        return sum(door.journal.pending_count() for door in self.doors)

    def close(self) -> None:
        """Stop the uplinks and close the journals."""
        self.stop_uplinks.set()
        for door in self.doors:
            door.uplink.wake()
        for thread in self._threads:
            thread.join(timeout=15)
        for door in self.doors:
            door.sender.inner.close()
            door.journal.close()

    def report(self, elapsed_s: float, pending: int) -> Report:
        """Sum up the run."""
        expected: dict[str, int] = {}
        for door in self.doors:
            expected[door.room] = expected.get(door.room, 0) + door.inside_people
        return Report(
            stations=len(self.doors),
            rooms=len(expected),
            generated=sum(d.events for d in self.doors),
            accepted=sum(d.sender.accepted for d in self.doors),
            duplicates=sum(d.sender.duplicates for d in self.doors),
            failures=sum(d.sender.failures for d in self.doors),
            rejected=sum(d.sender.rejected for d in self.doors),
            pending=pending,
            latencies_s=[s for d in self.doors for s in d.sender.latencies_s],
            expected_occupancy=expected,
            elapsed_s=elapsed_s,
        )


def check_database(database_url: str, fleet: Fleet, report: Report) -> Verification:
    """Compare the dashboard's database with what the fleet sent."""
    from dashboard.db import make_engine
    from dashboard.models import Crossing, IngestedEvent, Room, Station

    names = [door.name for door in fleet.doors]
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            ids = conn.execute(select(Station.id).where(Station.name.in_(names))).scalars().all()
            events = conn.execute(
                select(func.count()).select_from(IngestedEvent).where(IngestedEvent.station_id.in_(ids))
            ).scalar_one()
            crossings = conn.execute(
                select(func.count()).select_from(Crossing).where(Crossing.station_id.in_(ids))
            ).scalar_one()
            counts = dict(
                conn.execute(
                    select(Room.slug, Room.occupancy_people).where(
                        Room.slug.in_(list(report.expected_occupancy))
                    )
                ).all()
            )
    finally:
        engine.dispose()
    wrong = {
        room: (counts.get(room, -1), expected)
        for room, expected in report.expected_occupancy.items()
        if counts.get(room) != expected
    }
    return Verification(
        events_expected=report.generated,
        events_found=events,
        crossings_found=crossings,
        crossings_expected=sum(d.crossings for d in fleet.doors),
        rooms_exact=len(report.expected_occupancy) - len(wrong),
        rooms=len(report.expected_occupancy),
        wrong=wrong,
    )


def run(
    *,
    stations: int,
    rate_per_s: float,
    duration_s: float,
    urls: Sequence[str],
    database_url: str,
    rooms: int | None = None,
    journal_dir: Path | None = None,
    drain_s: float = 120.0,
    seed: int = 7,
    backoff_max_s: float = 5.0,
    prefix: str | None = None,
    during: Callable[[Fleet], None] | None = None,
    echo: Callable[[str], None] = print,
) -> Report:
    """Register a fleet, run it, drain it and check the database.

    Args:
        stations: Emulated stations (one per door).
        rate_per_s: Events per second per station.
        duration_s: How long events are made.
        urls: Dashboard addresses, used in turn.
        database_url: The dashboard's database (registration and the final check).
        rooms: Rooms to spread the stations over (default: 2 to 4 doors each).
        journal_dir: Folder for the journals (default: a temporary folder, removed afterwards).
        drain_s: Longest wait for the journals to empty after the last event.
        seed: Seed of the visitors' randomness.
        backoff_max_s: Longest wait of an uplink between tries.
        prefix: Names of the run's rooms and stations (default: ``sim-`` and a random suffix).
        during: Called in a thread once the fleet runs (fault injection, probes).
        echo: Where progress lines go.
    """
    check_rate(rate_per_s)
    if not urls:
        raise ValueError("give at least one --url")
    prefix = prefix or f"sim-{uuid.uuid4().hex[:6]}"
    registered = register(database_url, stations, rooms, prefix)
    room_count = len({s.room for s in registered})
    echo(
        f"simulate: {stations} stations in {room_count} rooms, {rate_per_s:g} events/s each for "
        f"{duration_s:g} s, {len(urls)} dashboard address(es)"
    )
    with tempfile.TemporaryDirectory(prefix="gerbang-sim-") as tmp:
        fleet = Fleet(
            registered,
            urls,
            journal_dir or Path(tmp),
            rate_per_s,
            seed=seed,
            backoff_max_s=backoff_max_s,
        )
        fleet.start()
        side = None
        if during is not None:
            side = threading.Thread(target=during, args=(fleet,), name="simulate-during", daemon=True)
            side.start()
        try:
            elapsed_s = fleet.generate(duration_s)
            pending = fleet.drain(drain_s)
            if side is not None:
                side.join(timeout=drain_s)
        finally:
            fleet.close()
        report = fleet.report(elapsed_s, pending)
        report.verified = check_database(database_url, fleet, report)
    for line in report.lines():
        echo(line)
    return report

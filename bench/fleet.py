"""A city's fleet against a dashboard cluster: N stations, P waitress processes, one PostgreSQL.

Starts P ``gerbang dashboard run`` processes (each on its own port) on a fresh PostgreSQL schema,
then runs ``gerbang_simulate`` (real journals, real uplinks, real tokens) spread over all of them,
while a probe measures the live fan-out: once a second it posts one crossing to a room of its own
through process ``i`` and times how long until the room's new count shows on the Server-Sent
Events stream of *every* process (LISTEN/NOTIFY across processes). Figures:

* baseline: ingest request latency of one station alone on the idle cluster (same run);
* fleet: events generated / accepted / duplicates / failures / lost, ingest request p50/p95/p99;
* live: ingest -> SSE on each process, p50/p95 (goal p95 <= 1 s), and ingest p99 (goal <= 250 ms);
* the database check: every event there exactly once, every room's count exact.

    .venv/bin/python bench/fleet.py                       # 200 stations x 1 event/s x 600 s, 4 processes
    .venv/bin/python bench/fleet.py --stations 20 --duration 30 --processes 2   # a quick look
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the top-level modules (gerbang_simulate) without an install

from sqlalchemy import create_engine, text  # noqa: E402

import gerbang_simulate  # noqa: E402
from dashboard import create_app, manage  # noqa: E402
from dashboard.db import get_engine, new_session  # noqa: E402
from dashboard.migrate import upgrade  # noqa: E402
from dashboard.models import Role  # noqa: E402

GERBANG = ROOT / ".venv" / "bin" / "gerbang"
POSTGRES_URL = os.environ.get(
    "GERBANG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "bench password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def crossing() -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "crossing",
        "at": datetime.now(UTC).isoformat(),
        "direction": "in",
    }


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


class Server:
    """``gerbang dashboard run`` in a child process."""

    def __init__(self, url: str, log_path: Path, threads: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "GERBANG_INSECURE_COOKIES": "1", "GERBANG_SECRET_KEY": "bench fleet"}
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(GERBANG),
                "dashboard",
                "run",
                "--port",
                str(self.port),
                "--threads",
                str(threads),
                "--database",
                url,
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the dashboard on port {self.port} did not start; see {log_path}")

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


def post(server: Server, token: str, events: list[dict]) -> float:
    """POST a batch; return the request's latency in seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    started = time.perf_counter()
    try:
        conn.request(
            "POST",
            "/api/v1/events",
            body=json.dumps({"events": events}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"probe refused: {response.status}")
    finally:
        conn.close()
    return time.perf_counter() - started


def login(server: Server) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{server.base}/login", timeout=10).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = {"username": "bench", "password": PASSWORD, "csrf_token": csrf.group(1) if csrf else ""}
    opener.open(f"{server.base}/login", data=urllib.parse.urlencode(form).encode(), timeout=10).read()
    return opener


class Probe:
    """Posts one crossing a second to its own room and times its arrival on every process's stream."""

    def __init__(self, servers: list[Server], room: str, token: str) -> None:
        self.servers = servers
        self.room = room
        self.token = token
        self.seen: list[dict[int, float]] = [{} for _ in servers]
        self.latencies_s: list[float] = []
        self.missed = 0
        self.stop = threading.Event()
        self._listeners = [
            threading.Thread(target=self._listen, args=(i,), daemon=True) for i in range(len(servers))
        ]
        self._ready = [threading.Event() for _ in servers]

    def _listen(self, index: int) -> None:
        opener = login(self.servers[index])
        last = ""
        while not self.stop.is_set():
            try:
                after = f"?after={last}" if last else ""  # a reconnect resumes where it stopped
                with opener.open(f"{self.servers[index].base}/live/stream{after}", timeout=70) as stream:
                    self._ready[index].set()
                    for raw in stream:
                        line = raw.decode().strip()
                        if line.startswith("id: "):
                            last = line[4:]
                        if line.startswith("data: "):
                            data = json.loads(line[6:])
                            if data.get("room") == self.room and "occupancy" in data:
                                self.seen[index].setdefault(data["occupancy"], time.perf_counter())
                        if self.stop.is_set():
                            return
            except OSError:
                time.sleep(0.2)

    def run(self, duration_s: float) -> None:
        for thread in self._listeners:
            thread.start()
        for ready in self._ready:
            ready.wait(15)
        end = time.monotonic() + duration_s
        count = 0
        while time.monotonic() < end and not self.stop.is_set():
            count += 1
            sent = time.perf_counter()
            post(self.servers[count % len(self.servers)], self.token, [crossing()])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not all(count in seen for seen in self.seen):
                time.sleep(0.002)
            for seen in self.seen:
                if count in seen:
                    self.latencies_s.append(seen[count] - sent)
                else:
                    self.missed += 1
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - sent)))
        self.stop.set()


def prepare(url: str) -> tuple[str, str, str]:
    """Migrate; add the baseline's and the probe's rooms and stations, and a supervisor.

    Returns:
        The probe's room, the probe's token and the baseline station's token.
    """
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LIVE_NOTIFY": False})
    tokens = []
    with new_session(app) as session:
        for room in ("baseline", "probe"):
            manage.add_room(session, "bench", room, 100_000, 1.0)
            tokens.append(manage.add_station(session, f"{room}-0", room)[1])
        manage.create_user(session, "bench", PASSWORD, Role.SUPERVISOR, sites=["bench"])
    get_engine(app).dispose()
    return "probe", tokens[1], tokens[0]


def baseline(server: Server, token: str, requests: int) -> list[float]:
    return [post(server, token, [crossing()]) for _ in range(requests)]


def postgres_cpu_s() -> float:
    """CPU seconds used so far by every PostgreSQL process (backends, writer, WAL ...) alive now."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text.split("(", 1)[1].rsplit(")", 1)
        if name.startswith("postgres"):
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def database_figures(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        connections = conn.execute(text("SELECT count(*) FROM pg_stat_activity")).scalar_one()
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
    engine.dispose()
    return f"PostgreSQL: {connections} connections open, database {size}"


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("station.uplink").setLevel(logging.ERROR)  # 200 stations saying "reachable"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.0, help="events per second per station")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of events")
    parser.add_argument("--processes", type=int, default=4, help="waitress processes")
    parser.add_argument("--threads", type=int, default=16, help="waitress threads per process")
    parser.add_argument("--rooms", type=int, default=None)
    args = parser.parse_args()
    print(
        f"gerbang fleet bench: {args.stations} stations x {args.rate:g} events/s x {args.duration:g} s "
        f"against {args.processes} waitress processes ({args.threads} threads) on PostgreSQL, "
        f"{os.cpu_count()} CPUs, all on 127.0.0.1"
    )
    schema = f"gerbang_fleet_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    servers: list[Server] = []
    try:
        with TemporaryDirectory(prefix="gerbang-fleet-") as tmp_name:
            tmp = Path(tmp_name)
            room, token, baseline_token = prepare(url)
            for index in range(args.processes):
                servers.append(Server(url, tmp / f"server-{index}.log", args.threads))
            base = baseline(servers[0], baseline_token, 200)
            print(
                f"baseline (one station, idle cluster): ingest p50 {percentile(base, 0.5) * 1000:.1f} ms  "
                f"p99 {percentile(base, 0.99) * 1000:.1f} ms (n={len(base)})"
            )
            probe = Probe(servers, room, token)
            cpu_before = [s.cpu_s() for s in servers], os.times(), postgres_cpu_s()
            wall_started = time.monotonic()
            journals = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
            with TemporaryDirectory(prefix="gerbang-fleet-journals-", dir=journals) as journal_dir:
                report = gerbang_simulate.run(
                    stations=args.stations,
                    rate_per_s=args.rate,
                    duration_s=args.duration,
                    urls=[s.base for s in servers],
                    database_url=url,
                    rooms=args.rooms,
                    journal_dir=Path(journal_dir),
                    during=lambda _fleet: probe.run(args.duration),
                )
            probe.stop.set()
            wall_s = time.monotonic() - wall_started
            servers_cpu_s = sum(s.cpu_s() for s in servers) - sum(cpu_before[0])
            after = os.times()
            own_cpu_s = (after.user + after.system) - (cpu_before[1].user + cpu_before[1].system)
            pg_cpu_s = postgres_cpu_s() - cpu_before[2]
            cpus = os.cpu_count() or 1
            print(
                f"CPU over {wall_s:.0f} s of wall time ({cpus} CPUs = {wall_s * cpus:.0f} CPU-s): dashboards "
                f"{servers_cpu_s:.0f} CPU-s, simulator+probe {own_cpu_s:.0f}, PostgreSQL {pg_cpu_s:.0f}; "
                "per event: dashboards "
                f"{1000 * servers_cpu_s / max(report.generated, 1):.1f} ms, PostgreSQL "
                f"{1000 * pg_cpu_s / max(report.generated, 1):.1f} ms, simulator "
                f"{1000 * own_cpu_s / max(report.generated, 1):.1f} ms"
            )
            print(database_figures(url))
            live = probe.latencies_s
            p99_ms = report.percentile_ms(0.99)
            p95_live_ms = percentile(live, 0.95) * 1000
            print(
                f"live fan-out ingest->SSE on all {len(servers)} processes: p50 "
                f"{percentile(live, 0.5) * 1000:.0f} ms  p95 {p95_live_ms:.0f} ms  max "
                f"{percentile(live, 1.0) * 1000:.0f} ms (n={len(live)}, missed {probe.missed})"
            )
            verified = report.verified
            lost = report.lost + report.pending
            doubled = (verified.crossings_found - verified.crossings_expected) if verified else 0
            print(
                f"RESULT: lost {lost}, doubled {max(doubled, 0)}, ingest p99 {p99_ms:.0f} ms (goal <= 250), "
                f"live p95 {p95_live_ms:.0f} ms (goal <= 1000), database check "
                f"{'OK' if verified and verified.ok else 'FAILED'}"
            )
            for index, server in enumerate(servers):
                server.stop()
                errors = sum(
                    1 for line in (tmp / f"server-{index}.log").read_text().splitlines() if "ERROR" in line
                )
                if errors:
                    print(f"server {index}: {errors} ERROR lines in its log")
            servers.clear()
            ok = verified is not None and verified.ok and lost == 0 and probe.missed == 0
            return 0 if ok else 1
    finally:
        for server in servers:
            server.stop()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())

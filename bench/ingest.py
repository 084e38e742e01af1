"""Ingest throughput and ingest-to-SSE latency of the dashboard, on SQLite and on PostgreSQL.

Starts ``gerbang dashboard run`` (waitress) on 127.0.0.1 for each database, then measures:

* baseline: ``GET /api/v1/health`` requests per second (HTTP + one ``SELECT 1``), same server;
* ingest: events per second through ``POST /api/v1/events`` in batches of 50, from several
  stations at once (new events: each is claimed, applied and published);
* duplicates: the same batches sent again (parse + idempotency check only);
* live: time from posting one crossing to its occupancy message on an open SSE stream (p50, p95).

Every loop is bounded in count and time and talks to 127.0.0.1 only.

    .venv/bin/python bench/ingest.py [--batches 200] [--stations 4] [--samples 40]
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
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
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the top-level modules (gerbang_simulate) without an install

from sqlalchemy import create_engine, text  # noqa: E402

from dashboard import create_app, manage  # noqa: E402
from dashboard.db import get_engine, new_session  # noqa: E402
from dashboard.migrate import upgrade  # noqa: E402
from dashboard.models import Role  # noqa: E402

GERBANG = ROOT / ".venv" / "bin" / "gerbang"
POSTGRES_URL = os.environ.get(
    "GERBANG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "bench password"
BATCH = 50
DEADLINE_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def crossing(direction: str = "in") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "crossing",
        "at": datetime.now(UTC).isoformat(),
        "direction": direction,
    }


def prepare(url: str, stations: int) -> list[tuple[str, str]]:
    """Migrate, add two rooms, ``stations`` stations and a user; return (room, token) per station."""
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    made = []
    with new_session(app) as session:
        for room in ("aula", "loket"):
            manage.add_room(session, "bench", room, 100_000, 1.0)
        for n in range(stations):
            room = ("aula", "loket")[n % 2]
            made.append((room, manage.add_station(session, f"bench-{n}", room)[1]))
        manage.create_user(session, "bench", PASSWORD, Role.SUPERVISOR, sites=["bench"])
    get_engine(app).dispose()
    return made


class Server:
    """``gerbang dashboard run`` in a child process."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "GERBANG_INSECURE_COOKIES": "1", "GERBANG_SECRET_KEY": "bench"}
        self.log = (tmp / "server.log").open("w")
        self.process = subprocess.Popen(
            [str(GERBANG), "dashboard", "run", "--port", str(self.port), "--database", url],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(100):
            try:
                self.get("/api/v1/health")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the dashboard did not start; see its log")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, path: str) -> bytes:
        conn = self.connection()
        try:
            conn.request("GET", path)
            return conn.getresponse().read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def baseline(server: Server, requests: int) -> float:
    conn = server.connection()
    started = time.perf_counter()
    for _ in range(requests):
        conn.request("GET", "/api/v1/health")
        conn.getresponse().read()
    conn.close()
    return requests / (time.perf_counter() - started)


def send_batches(server: Server, token: str, batches: list[list[dict]]) -> tuple[int, int]:
    conn = server.connection()
    accepted = duplicates = 0
    stop_at = time.monotonic() + DEADLINE_S
    for batch in batches:
        if time.monotonic() > stop_at:
            break
        body = json.dumps({"events": batch})
        conn.request(
            "POST",
            "/api/v1/events",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"ingest refused: {response.status} {answer}")
        accepted += answer["accepted"]
        duplicates += answer["duplicates"]
    conn.close()
    return accepted, duplicates


def ingest(server: Server, stations: list[tuple[str, str]], batches: int) -> tuple[float, float]:
    per_station = max(1, batches // len(stations))
    plans = [[[crossing() for _ in range(BATCH)] for _ in range(per_station)] for _ in stations]
    results = []
    for label in ("new", "duplicate"):
        started = time.perf_counter()
        with ThreadPoolExecutor(len(stations)) as pool:
            work = zip(stations, plans, strict=True)
            counts = list(pool.map(lambda sp: send_batches(server, sp[0][1], sp[1]), work))
        elapsed = time.perf_counter() - started
        accepted = sum(a for a, _ in counts)
        duplicates = sum(d for _, d in counts)
        if (accepted if label == "duplicate" else duplicates) != 0:
            raise RuntimeError(f"{label} batches: {accepted} accepted, {duplicates} duplicates")
        results.append((accepted + duplicates) / elapsed)
    return results[0], results[1]


def login(server: Server) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{server.port}"
    page = opener.open(f"{base}/login", timeout=10).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = {"username": "bench", "password": PASSWORD, "csrf_token": csrf.group(1) if csrf else ""}
    opener.open(f"{base}/login", data=urllib.parse.urlencode(form).encode(), timeout=10).read()
    return opener


def live_latency(server: Server, room_token: tuple[str, str], samples: int) -> list[float]:
    """Post one crossing at a time; time until the stream shows the room's new count."""
    room, token = room_token
    opener = login(server)
    base = f"http://127.0.0.1:{server.port}"
    seen: dict[int, float] = {}
    ready = threading.Event()
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            with opener.open(f"{base}/live/stream", timeout=70) as stream:
                ready.set()
                for raw in stream:
                    line = raw.decode().strip()
                    if line.startswith("data: "):
                        data = json.loads(line[6:])
                        if data.get("room") == room and "occupancy" in data:
                            seen.setdefault(data["occupancy"], time.perf_counter())
                    if done.is_set():
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(10)
    time.sleep(0.5)
    conn = server.connection()
    latencies = []
    for _ in range(samples):
        sent = time.perf_counter()
        conn.request(
            "POST",
            "/api/v1/events",
            body=json.dumps({"events": [crossing()]}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        conn.getresponse().read()
        deadline = time.monotonic() + 5
        before = set(seen)
        while time.monotonic() < deadline and set(seen) == before:
            time.sleep(0.005)
        new = set(seen) - before
        if new:
            latencies.append(seen[max(new)] - sent)
        time.sleep(0.1)
    conn.close()
    done.set()
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(kind: str, url: str, args: argparse.Namespace, tmp: Path) -> None:
    stations = prepare(url, args.stations)
    server = Server(url, tmp)
    try:
        health = baseline(server, 300)
        new_s, dup_s = ingest(server, stations, args.batches)
        latencies = live_latency(server, stations[0], args.samples)
    finally:
        server.stop()
    p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
    print(
        f"{kind:<10} baseline GET /health {health:8,.0f} req/s | ingest {new_s:8,.0f} events/s "
        f"({new_s / BATCH:6,.1f} batches/s) | duplicates {dup_s:8,.0f} events/s | "
        f"ingest->SSE p50 {p50:5.0f} ms  p95 {p95:5.0f} ms  (n={len(latencies)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches", type=int, default=200, help="batches of 50 per run (split over stations)"
    )
    parser.add_argument("--stations", type=int, default=4, help="stations posting at once")
    parser.add_argument("--samples", type=int, default=40, help="ingest->SSE latency samples")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    print(
        f"gerbang dashboard ingest bench: {args.batches} batches of {BATCH} from {args.stations} stations, "
        f"waitress on 127.0.0.1, {os.cpu_count()} CPUs; live poll 0.25 s"
    )
    with TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for kind in args.databases.split(","):
            if kind == "sqlite":
                run(kind, f"sqlite:///{tmp / 'bench.sqlite3'}", args, tmp)
                continue
            schema = f"gerbang_bench_{uuid.uuid4().hex[:8]}"
            try:
                admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            except Exception as err:
                reason = str(err).splitlines()[0]
                print(f"{kind:<10} skipped: PostgreSQL not reachable at {POSTGRES_URL}: {reason}")
                continue
            try:
                run(kind, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", args, tmp)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    sys.exit(main())

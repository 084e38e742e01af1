"""1,000 live pages open on one dashboard process: station ingest stays fast, every page is told at once.

Starts ``gerbang dashboard run`` on 127.0.0.1 (SQLite by default, ``--database postgresql`` for
LISTEN/NOTIFY), then, in the same run:

1. baseline: a station posts one crossing every ``--interval`` seconds, ``--samples`` times, with no
   live page open; the time of each ``POST /api/v1/events`` is kept (p50, p99);
2. loaded: ``--pages`` live pages (``GET /live/stream``, logged in, as a browser's EventSource:
   reconnecting after the last id it got when a stream ends) are opened by a second process, then
   the same posts are timed again, and each page notes when each post's occupancy message reached it.

It prints both ingest figures and their ratio (the goal: loaded p99 within 1.5x of the baseline's),
and the delay from sending a post to its message arriving, over every page and post (the goal: all
within 1 s), with the pages that never got one. The pages live in their own process so that their
reading does not slow the station's client here.

    .venv/bin/python bench/live.py [--pages 1000] [--rounds 3] [--samples 100] [--interval 0.1]
                                   [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import resource
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ is first on sys.path, and bench/station.py would shadow the station package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

GERBANG = ROOT / ".venv" / "bin" / "gerbang"
POSTGRES_URL = os.environ.get(
    "GERBANG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "bench password"
USER_AGENT = "gerbang-bench-live"
OCCUPANCY = re.compile(rb'"occupancy":(\d+)')


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- the pages (their own process) -------------------------------------------------------------


class Page(asyncio.Protocol):
    """One live page read by callbacks (cheap: a thousand of them share this process's one core).

    It reconnects after the last id it got when its stream ends, as EventSource does.
    """

    def __init__(self, port: int, cookie: str, arrivals: dict[int, list[float]], stop: asyncio.Event) -> None:
        self.port = port
        self.cookie = cookie
        self.arrivals = arrivals
        self.stop = stop
        self.last_id: bytes | None = None  # the first stream starts at the newest message
        self.ready = asyncio.Event()
        self.refused = 0
        self.reconnects = 0
        self.closed = asyncio.Event()
        self.buffer = b""
        self.status_seen = False
        self.transport: asyncio.Transport | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            self.closed.clear()
            self.buffer, self.status_seen = b"", False
            try:
                await loop.create_connection(lambda: self, "127.0.0.1", self.port)
                await self.closed.wait()
            except OSError:
                pass
            if not self.stop.is_set():
                self.reconnects += 1
                await asyncio.sleep(1.0)  # EventSource's retry (the stream says "retry: 1000")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        resume = f"Last-Event-ID: {self.last_id.decode()}\r\n" if self.last_id else ""
        transport.write(  # type: ignore[attr-defined]
            f"GET /live/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
            f"User-Agent: {USER_AGENT}\r\nAccept: text/event-stream\r\n{resume}\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        if not self.status_seen:
            if b"\r\n" not in self.buffer:
                return
            self.status_seen = True
            if not self.buffer.startswith(b"HTTP/1.1 200"):
                self.refused += 1
                self.transport.close()
                return
        *blocks, self.buffer = self.buffer.split(b"\n\n")
        for block in blocks:
            if b"retry:" in block:
                self.ready.set()
            if b"event: occupancy" in block:
                found = OCCUPANCY.search(block)
                if found:
                    self.arrivals.setdefault(int(found.group(1)), []).append(now)
            position = block.find(b"id: ")
            if position >= 0:
                self.last_id = block[position + 4 :].split(b"\n", 1)[0]
        if self.buffer.endswith(b"0\r\n\r\n"):  # the last chunk: the stream ended
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def pages_main(port: int, cookie: str, count: int) -> None:
    raise_open_files()
    stop = asyncio.Event()
    arrivals: dict[int, list[float]] = {}
    pages = [Page(port, cookie, arrivals, stop) for _ in range(count)]
    tasks = []
    for page in pages:
        tasks.append(asyncio.ensure_future(page.run()))
        await asyncio.sleep(0.002)  # 500 pages a second, as a busy morning would
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(p.ready.wait() for p in pages)), 120)
    print("ready", sum(p.ready.is_set() for p in pages), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # the parent says when it is done
    stop.set()
    for page in pages:
        if page.transport is not None:
            page.transport.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    result = {
        "arrivals": arrivals,
        "refused": sum(p.refused for p in pages),
        "reconnects": sum(p.reconnects for p in pages),
    }
    print(json.dumps(result), flush=True)


# --- the dashboard and the station ------------------------------------------------------------


class Dashboard:
    def __init__(self, url: str, tmp: Path) -> None:
        from dashboard import create_app, manage
        from dashboard.db import get_engine, new_session
        from dashboard.migrate import upgrade
        from dashboard.models import Role

        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        with new_session(app) as session:
            manage.add_room(session, "bench", "aula", 100_000, 1.0)
            _, self.token = manage.add_station(session, "gate-1", "aula")
            manage.create_user(session, "pengawas", PASSWORD, Role.SUPERVISOR, locale="en", sites=["bench"])
        get_engine(app).dispose()
        self.port = free_port()
        self.log = (tmp / "dashboard.log").open("w")
        env = {**os.environ, "GERBANG_INSECURE_COOKIES": "1", "GERBANG_SECRET_KEY": "bench"}
        self.process = subprocess.Popen(
            [str(GERBANG), "dashboard", "run", "--port", str(self.port), "--database", url],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"the dashboard did not start; see {tmp / 'dashboard.log'}")

    def cookie(self) -> str:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.addheaders = [("User-Agent", USER_AGENT)]
        base = f"http://127.0.0.1:{self.port}"
        page = opener.open(f"{base}/login", timeout=10).read().decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        form = {"username": "pengawas", "password": PASSWORD, "csrf_token": csrf.group(1) if csrf else ""}
        opener.open(f"{base}/login", data=urllib.parse.urlencode(form).encode(), timeout=10).read()
        return "; ".join(f"{c.name}={c.value}" for c in jar)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def post_crossings(dashboard: Dashboard, samples: int, interval_s: float) -> tuple[list[float], list[float]]:
    """Post one crossing every ``interval_s`` on a kept-alive connection, as a station does.

    Returns each post's duration and the moment it was sent (``time.monotonic``).
    """
    conn = http.client.HTTPConnection("127.0.0.1", dashboard.port, timeout=10)
    headers = {"Authorization": f"Bearer {dashboard.token}", "Content-Type": "application/json"}
    took, sent = [], []
    next_at = time.monotonic()
    for _ in range(samples):
        next_at += interval_s
        event = {"id": str(uuid.uuid4()), "type": "crossing", "at": datetime.now(UTC).isoformat()}
        event |= {"direction": "in", "door": "main"}
        body = json.dumps({"events": [event]})
        started = time.monotonic()
        conn.request("POST", "/api/v1/events", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"ingest answered {response.status}")
        took.append(time.monotonic() - started)
        sent.append(started)
        time.sleep(max(0.0, next_at - time.monotonic()))
    conn.close()
    return took, sent


def server_cpu_s(pid: int) -> float:
    """CPU time (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_pages(dashboard: Dashboard, cookie: str, count: int, nice: int) -> tuple[subprocess.Popen, int]:
    pages = subprocess.Popen(
        [
            "nice",
            "-n",
            str(nice),
            sys.executable,
            __file__,
            "--pages-worker",
            str(count),
            "--port",
            str(dashboard.port),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "BENCH_COOKIE": cookie},
    )
    ready = pages.stdout.readline().split()
    time.sleep(1.0)  # let the last connections settle
    return pages, int(ready[1]) if len(ready) == 2 else 0


def close_pages(pages: subprocess.Popen) -> dict:
    pages.stdin.write("stop\n")
    pages.stdin.flush()
    result = json.loads(pages.stdout.readline())
    pages.wait(timeout=30)
    return result


class Figures:
    def __init__(self) -> None:
        self.took: list[float] = []
        self.cpu_s = 0.0
        self.wall_s = 0.0

    def timed(self, dashboard: Dashboard, samples: int, interval_s: float) -> list[float]:
        cpu, wall = server_cpu_s(dashboard.process.pid), time.monotonic()
        took, sent = post_crossings(dashboard, samples, interval_s)
        self.cpu_s += server_cpu_s(dashboard.process.pid) - cpu
        self.wall_s += time.monotonic() - wall
        self.took.extend(took)
        return sent

    def line(self, label: str) -> str:
        p50, p99 = percentile(self.took, 0.5) * 1e3, percentile(self.took, 0.99) * 1e3
        cpu = 100 * self.cpu_s / self.wall_s
        return f"  ingest, {label}: p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   (server CPU {cpu:3.0f} %)"


def measure(kind: str, url: str, args: argparse.Namespace, tmp: Path) -> None:
    """Rounds of (no page, then ``--pages`` pages): the machine's other load falls on both alike."""
    dashboard = Dashboard(url, tmp)
    baseline, loaded = Figures(), Figures()
    delays: list[float] = []
    missing = refused = reconnects = opened = 0
    occupancy = 0
    try:
        cookie = dashboard.cookie()
        for _ in range(args.rounds):
            baseline.timed(dashboard, args.samples, args.interval)
            occupancy += args.samples
            pages, opened = open_pages(dashboard, cookie, args.pages, args.pages_nice)
            sent = loaded.timed(dashboard, args.samples, args.interval)
            time.sleep(2.0)  # the last messages on their way
            result = close_pages(pages)
            arrivals = {int(k): v for k, v in result["arrivals"].items()}
            for sent_at in sent:
                occupancy += 1
                got = arrivals.get(occupancy, [])
                missing += max(0, opened - len(got))
                delays.extend(t - sent_at for t in got)
            refused += result["refused"]
            reconnects += result["reconnects"]
    finally:
        dashboard.stop()
    print(
        f"{kind}: {args.rounds} rounds of {args.samples} posts every {args.interval} s without, then with, "
        f"{args.pages} live pages (their process niced {args.pages_nice}); {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(baseline.line("no live page   "))
    print(loaded.line(f"{opened:4d} live pages"))
    ratio = percentile(loaded.took, 0.99) / percentile(baseline.took, 0.99)
    print(f"  p99 ratio: {ratio:.2f} (goal: at most 1.5)")
    if delays:
        late = sum(d > 1.0 for d in delays)
        print(
            f"  post to page: p50 {percentile(delays, 0.5) * 1e3:.0f} ms, p99 "
            f"{percentile(delays, 0.99) * 1e3:.0f} ms, max {max(delays) * 1e3:.0f} ms over "
            f"{len(delays)} deliveries; {late} over 1 s, {missing} never arrived (goal: 0 and 0)"
        )
    print(f"  pages refused {refused}, reconnects {reconnects}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=100, help="Posts per round and phase.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.1, help="Seconds between two posts.")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pages-nice",
        type=int,
        default=0,
        help="Niceness of the pages' process (browsers live on other machines; here they share the cores).",
    )
    parser.add_argument("--pages-worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pages_worker is not None:
        asyncio.run(pages_main(args.port, os.environ["BENCH_COOKIE"], args.pages_worker))
        return
    raise_open_files()
    with TemporaryDirectory(prefix="gerbang-bench-live-") as tmp:
        if args.database == "sqlite":
            measure("SQLite", f"sqlite:///{Path(tmp) / 'dashboard.sqlite3'}", args, Path(tmp))
        else:
            from sqlalchemy import create_engine, text

            schema = f"bench_live_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
                measure("PostgreSQL", url, args, Path(tmp))
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()

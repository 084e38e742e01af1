"""Helpers of the fleet and fault tests: a PostgreSQL schema, dashboard processes, a live stream.

Importable by name (``tests/system`` has no conftest of ours). Every wait is bounded.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from postgres_support import POSTGRES_URL
from sqlalchemy import create_engine, text

from dashboard import create_app, manage
from dashboard.db import get_engine, new_session
from dashboard.migrate import upgrade
from dashboard.models import Role

GERBANG = shutil.which("gerbang", path=str(Path(sys.executable).parent)) or "gerbang"
PASSWORD = "fleet test password"


class Schema:
    """A fresh PostgreSQL schema, migrated, with a supervisor; its connections carry ``app_name``."""

    def __init__(self) -> None:
        self.name = f"gerbang_sys_{uuid.uuid4().hex[:10]}"
        self.app_name = f"gerbang-{self.name}"
        self.admin = create_engine(POSTGRES_URL)
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        self.url = f"{POSTGRES_URL}?options=-csearch_path%3D{self.name}&application_name={self.app_name}"
        upgrade(self.url)
        app = create_app({"DATABASE_URL": self.url, "SECRET_KEY": "fleet", "LIVE_NOTIFY": False})
        with new_session(app) as session:
            # An admin: the rooms of these tests' sites are made later, and an admin sees every site.
            manage.create_user(session, "pengawas", PASSWORD, Role.ADMIN, locale="en")
        get_engine(app).dispose()

    def kill_connections(self) -> int:
        """Terminate every server process of this schema's clients: what a restart does to them."""
        with self.admin.begin() as conn:
            return conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": self.app_name},
            ).scalar_one()

    def drop(self) -> None:
        for _ in range(3):
            try:
                self.kill_connections()
                with self.admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
                break
            except Exception:  # the server may be coming back from a restart
                time.sleep(1)
        self.admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout_s: float, step_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return condition()


class Dashboard:
    """``gerbang dashboard run`` on a fixed port, which can be killed and started again."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        threads: int = 8,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.extra_args = extra_args
        self.env = env or {}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.threads = threads
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.log_dir / f"dashboard-{self.port}-{self.starts}.log").open("w")
        env = {**os.environ, "GERBANG_INSECURE_COOKIES": "1", "GERBANG_SECRET_KEY": "fleet tests", **self.env}
        self.process = subprocess.Popen(
            [
                GERBANG,
                "dashboard",
                "run",
                "--port",
                str(self.port),
                "--threads",
                str(self.threads),
                "--database",
                self.database_url,
                *self.extra_args,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if not wait_until(self.healthy, 30, 0.1):
            raise RuntimeError(f"the dashboard on {self.port} did not start; see {self.log_dir}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: requests in flight are cut, answers lost (some after their commit)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob(f"dashboard-{self.port}-*.log")))


def log_in(dashboard: Dashboard) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{dashboard.base}/login", timeout=10).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = {"username": "pengawas", "password": PASSWORD, "csrf_token": csrf.group(1) if csrf else ""}
    opener.open(f"{dashboard.base}/login", data=urllib.parse.urlencode(form).encode(), timeout=10).read()
    return opener


class LiveWatcher:
    """Reads one dashboard process's live stream in a thread and keeps its occupancy messages."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.opener = log_in(dashboard)
        self.messages: list[dict] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        if not self.ready.wait(15):
            raise RuntimeError("the live stream did not open")

    def _read(self) -> None:
        last = ""
        while not self.stop.is_set():
            try:
                url = f"{self.dashboard.base}/live/stream" + (f"?after={last}" if last else "")
                with self.opener.open(url, timeout=30) as stream:
                    self.ready.set()
                    for raw in stream:
                        line = raw.decode().strip()
                        if line.startswith("id: "):
                            last = line[4:]
                        if line.startswith("data: "):
                            self.messages.append(json.loads(line[6:]))
                        if self.stop.is_set():
                            return
            except OSError:
                time.sleep(0.1)

    def occupancy_of(self, room: str) -> list[int]:
        return [m["occupancy"] for m in list(self.messages) if m.get("room") == room and "occupancy" in m]

"""Regenerate the README's pictures: run ``gerbang demo`` and photograph it in Chromium.

    .venv/bin/python docs/screenshots.py    # writes docs/kiosk.png, overview.png, room.png, report.png

The demo runs on free ports in a subprocess for about a minute (visitors step up, the room fills);
Debian's /usr/bin/chromium is driven headless by Playwright, as in the browser tests (never a
downloaded browser). The pictures show emulated devices and drawn faces only (no data set's photo).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
GERBANG = Path(sys.executable).parent / "gerbang"
USER, PASSWORD = "demo", "gerbang-demo"  # the demo's supervisor (gerbang_demo.py)
SITE, ROOM = "kantor-pusat", "ruang-layanan"
WARM_UP_S = 40.0  # long enough for several visitors and a filling room


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


@contextlib.contextmanager
def _demo() -> Iterator[tuple[str, str]]:
    dashboard_port, kiosk_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [str(GERBANG), "demo", "--dashboard-port", str(dashboard_port), "--kiosk-port", str(kiosk_port)],
        env={**os.environ, "GERBANG_DEMO_DRAWN_FACES": "1"},  # nobody's photo in the pictures
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        dashboard, kiosk = f"http://127.0.0.1:{dashboard_port}", f"http://127.0.0.1:{kiosk_port}"
        _wait_for(f"{dashboard}/api/v1/health")
        _wait_for(kiosk)
        yield dashboard, kiosk
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _shoot(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(HERE / f"{name}.png"))
    print(f"wrote {HERE / name}.png")


def main() -> None:
    """Run the demo, then photograph the kiosk, the overview, a room and a report."""
    with _demo() as (dashboard, kiosk), sync_playwright() as playwright:
        time.sleep(WARM_UP_S)
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            kiosk_page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="id-ID")
            _shoot(kiosk_page, kiosk, "kiosk")
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="id-ID")
            page.goto(f"{dashboard}/login")
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            _shoot(page, f"{dashboard}/", "overview")
            _shoot(page, f"{dashboard}/sites/{SITE}/rooms/{ROOM}", "room")
            _shoot(page, f"{dashboard}/reports/{SITE}", "report")
        finally:
            browser.close()


if __name__ == "__main__":
    main()

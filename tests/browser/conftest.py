"""Browser tests: the dashboard served on 127.0.0.1 and driven by Debian's Chromium via Playwright.

The browser is ``/usr/bin/chromium`` (installed by ``.ci/run``), headless, ``--no-sandbox``;
Playwright is never allowed to download one. Without Chromium these tests are skipped with the
reason; CI installs it, so there they always run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_browser import PASSWORD, Site

from dashboard import create_app, manage
from dashboard.db import get_engine, new_session
from dashboard.migrate import upgrade
from dashboard.models import Role
from dashboard.serve import make_server

CHROMIUM = Path(os.environ.get("GERBANG_CHROMIUM", "/usr/bin/chromium"))
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


@pytest.fixture(scope="module")
def dashboard_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'dashboard.sqlite3'}"
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "browser tests",
            "SESSION_COOKIE_SECURE": False,
            "LIVE_STREAM_S": 30.0,
        }
    )
    with new_session(app) as session:
        manage.add_room(session, "kantor-pusat", "lobby", 10, 0.5, name="<script>alert('lobby')</script>")
        token = manage.add_station(session, "gate-1", "lobby")[1]
        manage.create_user(session, "siti", PASSWORD, Role.SUPERVISOR, locale="en", sites=["kantor-pusat"])
        manage.create_user(session, "budi", PASSWORD, Role.GUARD, locale="en", sites=["kantor-pusat"])
    # Served as `gerbang dashboard run` serves it: live pages on the event loop.
    sock = socket.create_server(("127.0.0.1", 0))
    server = make_server(app, threads=8)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield Site(
        url=f"http://127.0.0.1:{sock.getsockname()[1]}", app=app, token=token, server=server.config.app
    )
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    get_engine(app).dispose()


@pytest.fixture(scope="module")
def dashboard_browser() -> Iterator[object]:
    """Chromium for one test module: Playwright's sync API allows one instance at a time, and
    other modules here (the station's kiosk) start their own."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def dashboard_page(dashboard_browser, dashboard_site: Site) -> Iterator[object]:
    """A fresh browser context on the dashboard; ``page.problems`` collects console errors and dialogs."""
    site = dashboard_site
    context = dashboard_browser.new_context(base_url=site.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.problems = []  # console errors (CSP violations among them) and any dialog (an injected script)
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    context.close()

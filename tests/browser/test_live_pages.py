"""Every monitoring page follows the live stream: it changes without a reload when a station's event
arrives, and says when it has lost the connection (and stops saying so when it is back)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from dashboard_browser import PASSWORD, Site, log_in
from playwright.sync_api import expect
from test_dashboard import event, post_events

from dashboard import create_app, manage
from dashboard.db import get_engine, new_session
from dashboard.migrate import upgrade
from dashboard.models import Role
from dashboard.serve import make_server

# (page, what to post, the element that changes, the text it must come to contain)
LIVE_PAGES = [
    # the alerts table gains the fever line
    (
        "/alerts",
        [event("screening", decision="deny", reason="fever", body_c=38.6)],
        "#alerts-table",
        "38.6 °C",
    ),
    # the queue table shows the new ticket waiting
    (
        "/queue",
        [event("queue", ticket=41, action="issued")],
        '#queue-table tr[data-room="lobby"] .waiting',
        "41",
    ),
    # the stations' health shows the camera failing
    (
        "/alerts",
        [event("status", device="camera", state="error", detail="lens covered")],
        "#health-table",
        "lens covered",
    ),
    # the room's crossings table gains the entry
    ("/sites/kantor-pusat/rooms/lobby", [event("crossing", direction="in")], "#room-crossings", "in"),
]


@pytest.mark.parametrize(("path", "events", "selector", "text"), LIVE_PAGES)
def test_a_monitoring_page_changes_without_a_reload_when_an_event_arrives(
    dashboard_page, dashboard_site: Site, path: str, events: list[dict], selector: str, text: str
) -> None:
    page, site = dashboard_page, dashboard_site
    log_in(page, "siti")
    page.goto(path)
    region = page.locator(selector)
    expect(region).not_to_contain_text(text)
    page.evaluate("window.notReloaded = true")
    post_events(site, *events)
    expect(region).to_contain_text(text)
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#live-lost")).to_be_hidden()
    assert page.problems == []


def test_the_room_page_card_and_figures_follow_the_count(dashboard_page, dashboard_site: Site) -> None:
    page, site = dashboard_page, dashboard_site
    log_in(page, "siti")
    page.goto("/sites/kantor-pusat/rooms/lobby")
    count = int(page.locator('.card[data-room="lobby"] .count').inner_text())
    page.evaluate("window.notReloaded = true")
    post_events(site, event("crossing", direction="in"), event("crossing", direction="in"))
    expect(page.locator('.card[data-room="lobby"] .count')).to_have_text(str(count + 2))
    expect(page.locator("#room-figures tr").last.locator("td")).to_have_text(str(count + 2))
    assert page.evaluate("window.notReloaded") is True
    assert page.problems == []


def test_a_ticked_alert_stays_ticked_when_the_table_is_fetched_again(
    dashboard_page, dashboard_site: Site
) -> None:
    page, site = dashboard_page, dashboard_site
    post_events(site, event("screening", decision="deny", reason="no_mask"))
    log_in(page, "siti")
    page.goto("/alerts?kind=no_mask")
    box = page.locator("#alerts-table input[type=checkbox]").first
    value = box.get_attribute("value")
    box.check()
    post_events(site, event("screening", decision="deny", reason="fever", body_c=38.9))
    page.evaluate("new Promise(done => document.addEventListener('gerbang:refreshed', done, {once: true}))")
    expect(page.locator(f'#alerts-table input[value="{value}"]')).to_be_checked()


def test_one_connection_serves_the_page_and_the_notice(dashboard_page, dashboard_site: Site) -> None:
    page, site = dashboard_page, dashboard_site
    streams: list[str] = []
    log_in(page, "siti")
    page.on(
        "request",
        lambda request: (
            "/live/stream" in request.url
            and request.headers.get("referer", "").endswith("/alerts")  # not the overview's, closing
            and streams.append(request.url)
        ),
    )
    page.goto("/alerts")
    post_events(site, event("screening", decision="deny", reason="fever", body_c=38.7))
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#alerts-table")).to_contain_text("38.7 °C")
    assert len(streams) == 1  # the notice listens to live.js's DOM events, not to a stream of its own


class Served:
    """A dashboard server that can be stopped and started again on the same port."""

    def __init__(self, app) -> None:
        self.app = app
        self.port = 0
        self.server = None
        self.thread: threading.Thread | None = None
        self.sock: socket.socket | None = None

    def start(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.port = self.sock.getsockname()[1]
        self.server = make_server(self.app, threads=4)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="dashboard-2", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


@pytest.fixture
def restartable(tmp_path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'dashboard.sqlite3'}"
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
        manage.add_room(session, "kantor-pusat", "lobby", 10, 0.5)
        manage.create_user(session, "siti", PASSWORD, Role.SUPERVISOR, locale="en", sites=["kantor-pusat"])
    served = Served(app)
    served.start()
    yield served
    if served.thread is not None and served.thread.is_alive():
        served.stop()
    get_engine(app).dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/",  # the overview
        "/alerts",  # the alerts page
        "/queue",  # the queue page
        "/sites/kantor-pusat/rooms/lobby",  # a room
    ],
)
def test_a_monitoring_page_says_when_it_has_lost_the_connection(
    dashboard_browser, restartable: Served, path: str
) -> None:
    context = dashboard_browser.new_context(base_url=f"http://127.0.0.1:{restartable.port}")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, "siti")
        page.goto(path)
        banner = page.locator("#live-lost")
        expect(page.locator("body")).to_have_attribute("data-live-state", "live")
        expect(banner).to_be_hidden()
        restartable.stop()  # the server goes away
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Connection to the dashboard lost")
        restartable.start()  # and comes back on the same address
        expect(banner).to_be_hidden(timeout=20_000)
    finally:
        context.close()

"""Every monitoring page follows the live stream: it changes without a reload when a station's event
arrives, and says when it has lost the connection (and stops saying so when it is back)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
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


@pytest.fixture
def two_lobbies(tmp_path) -> Iterator[tuple[Served, dict[str, str]]]:
    """Two sites each with a room called lobby, a station in each, and ani, supervisor of both."""
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
        manage.add_site(session, "kantor-pusat", "Kantor Pusat", "Jl. Medan Merdeka 9", "Asia/Jakarta")
        manage.add_site(session, "cabang", "Cabang Jayapura", "Jl. Ahmad Yani 1", "Asia/Jayapura")
        tokens = {}
        for site, station in (("kantor-pusat", "gate-1"), ("cabang", "gate-2")):
            manage.add_room(session, site, "lobby", 10, 0.5)
            tokens[site] = manage.add_station(session, station, f"{site}/lobby")[1]
        manage.create_user(
            session, "ani", PASSWORD, Role.SUPERVISOR, locale="en", sites=["kantor-pusat", "cabang"]
        )
    served = Served(app)
    served.start()
    yield served, tokens
    served.stop()
    get_engine(app).dispose()


def post_to(port: int, token: str, *events: dict) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/events",
        data=json.dumps({"events": list(events)}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_two_sites_rooms_of_the_same_name_never_update_each_other(dashboard_browser, two_lobbies) -> None:
    served, tokens = two_lobbies
    context = dashboard_browser.new_context(base_url=f"http://127.0.0.1:{served.port}")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, "ani")
        own = page.locator('.card[data-site="kantor-pusat"][data-room="lobby"] .count')
        other = page.locator('.card[data-site="cabang"][data-room="lobby"] .count')
        expect(own).to_have_text("0")
        expect(page.locator("section.site").nth(1)).to_contain_text("Jl. Medan Merdeka 9")
        post_to(
            served.port,
            tokens["cabang"],
            event("crossing", direction="in"),
            event("crossing", direction="in"),
        )
        expect(other).to_have_text("2")
        post_to(served.port, tokens["kantor-pusat"], event("crossing", direction="in"))
        expect(own).to_have_text("1")  # after cabang's messages: they did not touch this card
        expect(other).to_have_text("2")
        # the room page of kantor-pusat's lobby follows its own room only
        page.goto("/sites/kantor-pusat/rooms/lobby")
        crossings = page.locator("#room-crossings tr")
        expect(crossings).to_have_count(2)  # the header and its one entry
        page.evaluate("window.notReloaded = true")
        post_to(served.port, tokens["cabang"], event("crossing", direction="in"))
        post_to(served.port, tokens["kantor-pusat"], event("crossing", direction="in"))
        expect(page.locator("#room-figures tr").last.locator("td")).to_have_text("2")
        expect(crossings).to_have_count(3)
        assert page.evaluate("window.notReloaded") is True
    finally:
        context.close()


def test_a_new_alert_appears_on_the_overview_in_full_without_a_reload(dashboard_browser, two_lobbies) -> None:
    served, tokens = two_lobbies
    context = dashboard_browser.new_context(base_url=f"http://127.0.0.1:{served.port}")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, "ani")
        alerts = page.locator("#live-alerts")
        expect(alerts).to_contain_text("No open alerts.")
        page.evaluate("window.notReloaded = true")
        post_to(
            served.port, tokens["cabang"], event("screening", decision="deny", reason="fever", body_c=38.8)
        )
        line = page.locator("#live-alerts li.alert").first
        expect(line.locator(".severity")).to_have_text("high")  # the server's full line, as after a reload
        expect(line.locator(".where")).to_contain_text("gate-2")
        expect(line.locator(".detail")).to_contain_text("38.8 °C")
        expect(line.locator("time")).to_have_count(1)
        expect(page.locator("#all-alerts")).to_contain_text("All 1 open alert")
        assert page.evaluate("window.notReloaded") is True
    finally:
        context.close()

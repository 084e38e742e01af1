"""The kiosk page in a real Chromium: live updates, the guard's PIN, the language switch."""

import http.client
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from station.core import Station
from station.events import Direction
from station.journal import Journal
from station.kiosk import Broadcaster, create_kiosk
from station.occupancy import Ledger
from station.screening import ScreeningConfig

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("GERBANG_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def door_view():
    """The door camera's view, with one frame of a door and its line drawn."""
    import numpy as np

    from station.door_sources import DoorView
    from station.vision.crossings import DoorLine

    view = DoorView(every_s=0.0)
    line = DoorLine((20, 120), (300, 120), (160, 20), name="pintu-utama")
    view.update(np.full((240, 320, 3), 90, np.uint8), [line], [(2, 1)])
    return view


@pytest.fixture
def pins():
    """The guards' PINs the kiosk is given (one bare PIN unless a test names its guards)."""
    return "2468"


@pytest.fixture
def kiosk(tmp_path, request, pins):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)")
    broadcaster = Broadcaster()
    station = Station(
        ScreeningConfig(),
        Ledger(capacity_people=10),
        Journal(tmp_path / "j.sqlite3"),
        on_change=broadcaster.publish,
    )
    app = create_kiosk(
        station,
        broadcaster,
        pin=pins,
        alternatives={"text": "Layanan daring", "link": "https://x.invalid"},
        door_view=request.getfixturevalue("door_view") if "door_view" in request.fixturenames else None,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"http://127.0.0.1:{server.server_port}/")
        yield page, station
        browser.close()
    server.shutdown()


def test_kiosk_shows_live_changes_and_guard_actions(kiosk, tmp_path):
    page, station = kiosk
    expect = playwright_api.expect
    expect(page.locator("#message")).to_have_text("Selamat datang. Silakan berdiri di depan kamera.")
    station.crossing(Direction.IN)
    station.crossing(Direction.IN)
    expect(page.locator("#occupancy")).to_have_text("2")  # without a reload
    expect(page.locator("#limit")).to_have_text("5")
    page.click("#guard-open")
    page.fill("#pin", "1111")
    page.click("[data-action=plus]")
    expect(page.locator("#guard-result")).to_have_text("PIN salah.")
    page.fill("#pin", "2468")
    page.fill("#reason", "two came in together")
    page.click("[data-action=plus]")
    expect(page.locator("#occupancy")).to_have_text("3")
    expect(page.locator("#guard-result")).to_have_text("Jumlah di dalam sekarang 3.")  # what happened
    assert station.state.occupancy_people == 3
    page.click("button[value=close]")
    page.click("#language")
    expect(page.locator("#message")).to_have_text("Welcome. Please stand in front of the camera.")
    page.screenshot(path=str(tmp_path / "kiosk.png"))


def test_the_guard_panel_is_cleared_answers_in_the_kiosks_language_and_asks_to_confirm(kiosk):
    page, station = kiosk
    expect = playwright_api.expect
    page.click("#language")  # English
    page.click("#guard-open")
    for key in "2468":  # the numeric keypad types into the PIN field
        page.click(f"#keypad [data-key='{key}']")
    expect(page.locator("#pin")).to_have_value("2468")
    page.click("[data-action=call_next]")
    expect(page.locator("#guard-result")).to_have_text("Nobody is waiting: no number called.")
    page.fill("#reason", "recount")
    page.fill("#count", "999")
    page.click("[data-action=set]")
    expect(page.locator("#guard-result")).to_have_text(
        "Change the count from 0 to 999 (capacity 10)? Tap again."
    )
    assert station.state.occupancy_people == 0  # nothing changed on the first tap
    page.click("#confirm")
    expect(page.locator("#occupancy")).to_have_text("999")
    page.click("button[value=close]")
    page.click("#guard-open")
    for field in ("#pin", "#reason", "#count", "#retest-ticket"):
        expect(page.locator(field)).to_have_value("")  # nothing stays for the next person
    expect(page.locator("#guard-result")).to_have_text("")


def test_a_locked_screen_says_for_how_long(kiosk):
    page, _ = kiosk
    expect = playwright_api.expect
    page.click("#guard-open")
    page.fill("#pin", "0000")
    for _ in range(5):
        page.click("[data-action=call_next]")
        page.wait_for_timeout(50)
    expect(page.locator("#guard-result")).to_contain_text("terkunci")
    page.fill("#pin", "2468")
    page.click("[data-action=call_next]")
    expect(page.locator("#guard-result")).to_have_text(re.compile(r"terkunci (59|60) detik"))


def test_the_kiosk_returns_to_the_stations_language_after_each_visitor(kiosk):
    from datetime import timedelta

    from station.core import FaceObservation
    from station.events import Mask, utc_now

    page, station = kiosk
    expect = playwright_api.expect
    at = utc_now()
    station.face(FaceObservation(at, True, True, Mask.WITH_MASK))  # a visitor steps up
    expect(page.locator("#kiosk")).to_have_attribute("data-scene", "checking")
    page.click("#language")
    expect(page.locator("#headline")).to_have_text("Please wait")
    page.reload()  # the visitor's choice is kept while the visit lasts
    expect(page.locator("#headline")).to_have_text("Please wait")
    station.face(FaceObservation(at + timedelta(seconds=2), False))
    station.tick()  # the face has gone: the visit is over
    expect(page.locator("#kiosk")).to_have_attribute("data-scene", "welcome")
    expect(page.locator("#headline")).to_have_text("Selamat datang")


def test_the_guard_panel_shows_the_door_camera_and_todays_crossings(door_view, kiosk):
    page, station = kiosk
    expect = playwright_api.expect
    station.crossing(Direction.IN, door="pintu-utama")
    station.crossing(Direction.OUT, door="pintu-utama")
    page.click("#guard-open")
    frame = page.locator("#door-frame")
    expect(frame).to_be_visible()
    page.wait_for_function("document.getElementById('door-frame').naturalWidth === 320")
    expect(page.locator("#door-counts tbody tr")).to_have_count(1)
    expect(page.locator("#door-counts tbody tr td")).to_have_text(["pintu-utama", "1", "1"])
    expect(page.locator("#door h2")).to_have_text("Kamera pintu")


def test_the_guard_panel_closes_and_clears_after_30_s_idle(kiosk):
    page, _ = kiosk
    expect = playwright_api.expect
    page.clock.install()
    page.reload()
    page.click("#guard-open")
    page.fill("#pin", "2468")
    page.fill("#reason", "left through the side door")
    page.clock.run_for(29_000)
    expect(page.locator("#guard")).to_have_attribute("open", "")  # still in use
    page.clock.run_for(2_000)
    expect(page.locator("#guard")).not_to_have_attribute("open", "")
    page.click("#guard-open")
    expect(page.locator("#pin")).to_have_value("")
    expect(page.locator("#reason")).to_have_value("")


def test_a_retest_before_the_rest_is_over_is_answered_with_the_minutes_left(kiosk):
    from datetime import timedelta

    from station.events import utc_now

    page, station = kiosk
    expect = playwright_api.expect
    station.screening.retests[3] = utc_now() + timedelta(seconds=50)  # ticket 3: under a minute to go
    page.click("#language")
    page.click("#guard-open")
    page.fill("#pin", "2468")
    page.fill("#retest-ticket", "3")
    page.click("[data-action=retest]")
    expect(page.locator("#guard-result")).to_have_text("Ticket 3: the rest is not over, 1 more minute.")
    page.fill("#retest-ticket", "42")
    page.click("[data-action=retest]")
    expect(page.locator("#guard-result")).to_have_text("Unknown re-test ticket 42: nothing changed.")


@pytest.mark.parametrize("pins", ["budi=2468,sri=1357"])
def test_a_guard_picks_their_name_and_admits_with_their_own_pin(kiosk):
    page, station = kiosk
    expect = playwright_api.expect
    page.click("#guard-open")
    expect(page.locator("#guard-names [data-guard]")).to_have_text(["budi", "sri"])
    expect(page.locator("#guard-names-label")).to_have_text("Nama petugas")
    for key in "1357":  # sri's PIN, typed before anyone picked a name
        page.click(f"#keypad [data-key='{key}']")
    page.fill("#reason", "kartu tertinggal, sudah dicek")
    page.click("[data-action=admit]")
    expect(page.locator("#guard-result")).to_have_text("Pilih nama Anda dulu.")
    page.click("#guard-names [data-guard=budi]")
    page.click("[data-action=admit]")
    expect(page.locator("#guard-result")).to_have_text("PIN salah.")  # sri's PIN does not open budi
    page.click("#guard-names [data-guard=sri]")
    expect(page.locator("#guard-names [data-guard=sri]")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#guard-names [data-guard=budi]")).to_have_attribute("aria-checked", "false")
    page.click("[data-action=admit]")
    expect(page.locator("#guard-result")).to_have_text("Pengunjung diizinkan masuk (sri).")
    overrides = [e for e in station.journal.events() if e.get("override_by")]
    assert [(e["override_by"], e["decision"]) for e in overrides] == [("sri", "allow")]
    page.click("button[value=close]")
    page.click("#guard-open")  # the name picked is cleared with the rest
    expect(page.locator("#guard-names [aria-checked=true]")).to_have_count(0)


def post_from(url, source, body):
    """POST an action to the kiosk at ``url`` from the loopback address ``source`` (another screen)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("POST", "/api/action", json.dumps(body), {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("pins", ["budi=2468,sri=1357"])
def test_a_locked_guard_is_told_for_how_long_while_another_guard_works(kiosk):
    page, _ = kiosk
    expect = playwright_api.expect
    for index in range(5):  # budi's PIN guessed from five other screens, once each: budi is locked
        assert post_from(page.url, f"127.0.0.{index + 2}", {"guard": "budi", "pin": "0000"}) == 403
    page.click("#language")  # English
    page.click("#guard-open")
    page.click("#guard-names [data-guard=budi]")
    page.fill("#pin", "2468")  # budi's own PIN, on a screen that guessed nothing
    page.click("[data-action=call_next]")
    expect(page.locator("#guard-result")).to_have_text(
        re.compile(r"Too many wrong PINs for budi: locked for (59|60) s\.")
    )
    page.click("#guard-names [data-guard=sri]")
    page.fill("#pin", "1357")
    page.click("[data-action=call_next]")
    expect(page.locator("#guard-result")).to_have_text("Nobody is waiting: no number called.")

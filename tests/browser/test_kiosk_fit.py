"""The kiosk fits its screen in every scene: nothing below the fold, no sideways scroll, numbers whole.

Each scene of the kiosk's table is brought about on a real station (a fake clock), sent to the page
over its event stream, and the page's geometry is measured in Chromium at the four screens the
kiosk is installed on: 1920x1080, the 1080x1920 portrait pedestal, 1280x800 and 1024x600.
"""

import os
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from werkzeug.serving import make_server

from station.core import FaceObservation, Station
from station.events import Direction, Mask
from station.journal import Journal
from station.kiosk import Broadcaster, create_kiosk
from station.kiosk_states import Scene
from station.occupancy import Ledger
from station.screening import ScreeningConfig

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("GERBANG_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SIZES = [(1920, 1080), (1080, 1920), (1280, 800), (1024, 600)]
T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)

# Everything on the page that must be seen whole: each must lie inside its side of the screen.
GEOMETRY = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollHeight > innerHeight + 1) problems.push(`page ${root.scrollHeight} px tall`);
  if (root.scrollWidth > innerWidth + 1) problems.push(`page ${root.scrollWidth} px wide`);
  const name = (el) => el.id ? "#" + el.id : el.tagName.toLowerCase() + "." + el.className;
  for (const side of document.querySelectorAll(".visitor, .room")) {
    const box = side.getBoundingClientRect();
    if (box.bottom > innerHeight + 1 || box.right > innerWidth + 1) problems.push(`${name(side)} off screen`);
    for (const el of side.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || el.closest("[hidden]")) continue;
      const outside = r.bottom > box.bottom + 1 || r.right > box.right + 1
        || r.top < box.top - 1 || r.left < box.left - 1;
      if (outside) problems.push(`${name(el)} outside ${name(side)} (bottom ${Math.round(r.bottom)})`);
    }
  }
  for (const el of document.querySelectorAll(".num, .num-text")) {
    if (el.closest("[hidden]")) continue;
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== "inline") {
      problems.push(`${name(el)} cut: ${el.textContent}`);
    }
    const lines = new Set([...el.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) problems.push(`${name(el)} wraps: ${el.textContent}`);
  }
  const headline = document.getElementById("headline");
  const ratio = parseFloat(getComputedStyle(headline).fontSize) / innerHeight;
  return {problems, headline: ratio, scene: document.getElementById("kiosk").dataset.scene};
}"""


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


def visitor(station, clock, raw_c=34.4, mask=Mask.WITH_MASK):
    """A visitor steps up and is measured (and stays in front of the camera)."""
    for _ in range(8):
        clock.now += timedelta(seconds=0.1)
        station.face(FaceObservation(clock.now, True, True, mask))
        station.reading(clock.now, raw_c, 25.0, None)


def leaves(station, clock):
    clock.now += timedelta(seconds=1.5)
    station.face(FaceObservation(clock.now, False))
    station.tick()


def fill(station, people=5):
    for _ in range(people):
        station.crossing(Direction.IN)


def bring_about(scene, tmp_path):
    """Return a station's kiosk state showing ``scene`` (room of capacity 10, limit 5)."""
    clock = Clock()
    station = Station(
        ScreeningConfig(), Ledger(capacity_people=10), Journal(tmp_path / f"{scene}.sqlite3"), clock=clock
    )
    station.device("dashboard", "offline", "unreachable")  # the longest notice shows too
    if scene is Scene.WELCOME:
        pass
    elif scene is Scene.FULL:
        fill(station)
    elif scene is Scene.CHECKING:
        clock.now += timedelta(seconds=0.1)
        station.face(FaceObservation(clock.now, True, True, Mask.WITH_MASK))
        station.reading(clock.now, 34.4, 25.0, None)
    elif scene is Scene.SENSOR_OFFLINE:
        station.face(FaceObservation(clock.now, True, True, Mask.WITH_MASK))
        station.device("thermometer", "offline", "unplugged")
    elif scene is Scene.ADMITTED:
        visitor(station, clock)
    elif scene is Scene.DENIED:
        fill(station)  # a refusal in a full room: the online services show as well
        visitor(station, clock, mask=Mask.INCORRECT)
    elif scene is Scene.RETEST:
        visitor(station, clock, raw_c=36.4)
    elif scene is Scene.QUEUED:
        fill(station)
        for _ in range(11):  # a long queue: eleven tickets waiting
            visitor(station, clock)
            leaves(station, clock)
        station.crossing(Direction.OUT, at=clock.now - timedelta(minutes=3))
        station.crossing(Direction.IN)  # the called one walks in; the room is full again
        visitor(station, clock)
    elif scene is Scene.CALLED:
        fill(station)
        for _ in range(3):
            visitor(station, clock)
            leaves(station, clock)
        station.crossing(Direction.OUT)
    elif scene is Scene.RETEST_DESK:
        station.start_retest(7)
    state = station.state
    assert state.scene == scene, (scene, state.scene)
    return state


class FramePreview:
    """A camera preview: one 640x480 frame."""

    def __init__(self):
        self._jpeg = cv2.imencode(".jpg", np.full((480, 640, 3), 90, np.uint8))[1].tobytes()

    def jpeg(self):
        return self._jpeg


@pytest.fixture
def pins():
    """The guards' PINs (one bare PIN unless a test names its guards)."""
    return "2468"


@pytest.fixture
def kiosk_page(tmp_path, pins):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)")
    broadcaster = Broadcaster()
    station = Station(ScreeningConfig(), Ledger(capacity_people=10), Journal(tmp_path / "j.sqlite3"))
    app = create_kiosk(
        station,
        broadcaster,
        pin=pins,
        alternatives={
            "text": "Layanan Adminduk juga tersedia secara daring melalui aplikasi dan situs web resmi.",
            "text_en": "Adminduk services are also available online through the official app and website.",
            "phone": "021-1500-537",
            "whatsapp": "0811-1500-537",
            "link": "https://example.invalid/layanan-daring",
        },
        preview=FramePreview(),
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page()
        yield page, broadcaster, f"http://127.0.0.1:{server.server_port}/"
        browser.close()
    server.shutdown()


def test_every_scene_fits_every_screen(kiosk_page, tmp_path):
    page, broadcaster, url = kiosk_page
    expect = playwright_api.expect
    states = {scene: bring_about(scene, tmp_path) for scene in Scene}
    seq = 1000
    checked, failures = [], []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        expect(page.locator("#headline")).not_to_be_empty()
        for language in ("id", "en"):
            for scene, state in states.items():
                seq += 1
                broadcaster.publish(replace(state, seq=seq))
                expect(page.locator("#kiosk")).to_have_attribute("data-scene", str(scene))
                if page.evaluate("document.documentElement.lang") != language:
                    page.click("#language")  # the visitor's choice (it ends with each visit)
                page.wait_for_timeout(50)  # let the layout settle (the QR code, the preview)
                measured = page.evaluate(GEOMETRY)
                where = f"{scene} at {width}x{height} ({language})"
                if measured["problems"]:
                    failures.append(f"{where}: {measured['problems']}")
                if measured["problems"] or os.environ.get("GERBANG_KIOSK_SCREENSHOTS"):
                    page.screenshot(path=str(tmp_path / f"{scene}-{width}x{height}-{language}.png"))
                if not 0.065 <= measured["headline"] <= 0.09:
                    failures.append(f"{where}: headline {measured['headline']:.3f} of the height")
                if not failures or not failures[-1].startswith(where):
                    checked.append(where)
    print(f"\nkiosk geometry: {len(checked)} scene/size/language combinations fit")
    for line in checked:
        print(f"  {line}: fits")
    assert failures == [], "\n".join(failures)
    assert len(checked) == len(Scene) * len(SIZES) * 2  # every combination was measured and fits


@pytest.mark.parametrize(
    ("language", "wait_min", "wait_text", "online_text"),
    [
        # one minute in English: singular
        ("en", 1.0, "Estimated wait: 1 minute", "Adminduk services are also available online"),
        # two: plural
        ("en", 1.5, "Estimated wait: 2 minutes", "Adminduk services are also available online"),
        # Indonesian nouns keep their form
        ("id", 1.0, "Perkiraan tunggu: 1 menit", "Layanan Adminduk juga tersedia secara daring"),
    ],
)
def test_plurals_and_the_online_services_in_the_visitors_language(
    kiosk_page, tmp_path, language, wait_min, wait_text, online_text
):
    page, broadcaster, url = kiosk_page
    expect = playwright_api.expect
    page.goto(url)
    queued = replace(bring_about(Scene.QUEUED, tmp_path), queue_wait_min=wait_min, seq=5000)
    broadcaster.publish(queued)
    expect(page.locator("#kiosk")).to_have_attribute("data-scene", "queued")
    if language == "en":
        page.click("#language")
    expect(page.locator("#ticket-wait")).to_have_text(wait_text)
    expect(page.locator("#alt-text")).to_contain_text(online_text)


@pytest.mark.parametrize("pins", ["budi=2468,sri=1357,ayu=1111,joko=2222,wayan=3333,dewi=4444"])
def test_the_guards_dialog_with_six_names_fits_every_screen(kiosk_page, tmp_path):
    page, _, url = kiosk_page
    checked, failures = [], []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.click("#guard-open")
        page.click("#guard-names [data-guard=dewi]")
        page.fill("#pin", "0000")
        page.click("[data-action=call_next]")
        playwright_api.expect(page.locator("#guard-result")).to_have_text("PIN salah.")
        measured = page.evaluate(
            """() => {
              const dialog = document.getElementById("guard").getBoundingClientRect();
              const inside = [...document.querySelectorAll("#guard button, #guard input")].every((el) => {
                const r = el.getBoundingClientRect();
                if (r.width === 0 || r.height === 0) return true;  // hidden (the confirm button)
                return r.top >= dialog.top && r.bottom <= dialog.bottom && r.right <= dialog.right;
              });
              const names = document.querySelectorAll("#guard-names [data-guard]");
              const rows = new Set([...names].map((el) => Math.round(el.getBoundingClientRect().top))).size;
              return {inside, rows, bottom: dialog.bottom, tall: innerHeight};
            }"""
        )
        where = f"guard's dialog at {width}x{height}"
        if not measured["inside"] or measured["bottom"] > measured["tall"]:
            failures.append(f"{where}: {measured}")
            page.screenshot(path=str(tmp_path / f"guard-{width}x{height}.png"))
        else:
            checked.append(f"{where}: six names in {measured['rows']} row(s), every control on screen")
    print("\n" + "\n".join(checked))
    assert failures == []

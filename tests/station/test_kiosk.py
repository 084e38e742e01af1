"""The kiosk's web app: the page, the live state, guard actions behind the PIN."""

import re
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from station.config import KioskSection
from station.core import Station
from station.events import Direction
from station.journal import Journal
from station.kiosk import Broadcaster, PinGuard, PinVerdict, create_kiosk, parse_pins
from station.occupancy import Ledger
from station.screening import ScreeningConfig

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def new_station(tmp_path):
    """A station whose changes reach the kiosk's broadcaster; returns (station, broadcaster)."""
    broadcaster = Broadcaster()
    station = Station(
        ScreeningConfig(),
        Ledger(capacity_people=10),
        Journal(tmp_path / "j.sqlite3"),
        on_change=broadcaster.publish,
    )
    return station, broadcaster


@pytest.fixture
def kiosk(tmp_path):
    station, broadcaster = new_station(tmp_path)
    app = create_kiosk(
        station, broadcaster, pin="2468", alternatives={"text": "Online", "link": "https://example.invalid/x"}
    )
    return app.test_client(), station


def test_page_has_the_texts_and_no_inline_code(kiosk):
    client, _ = kiosk
    response = client.get("/")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert "Silakan masuk" in html  # Bahasa Indonesia first
    assert "onclick" not in html
    assert "style=" not in html


def test_state_follows_the_station(kiosk):
    client, station = kiosk
    station.crossing(Direction.IN)
    assert client.get("/state").get_json()["occupancy_people"] == 1


def test_events_stream_starts_with_the_current_state(kiosk):
    client, station = kiosk
    station.crossing(Direction.IN)
    response = client.get("/events", buffered=False)
    first = next(response.response)
    response.close()
    assert first.startswith(b"data: ")
    assert b'"occupancy_people": 1' in first


def test_before_any_change_the_stream_sends_no_state_to_take_for_a_newer_one(tmp_path):
    # an empty state would replace the page's /state answer (same sequence number) with a blank welcome
    broadcaster = Broadcaster(keepalive_s=0.01)
    stream = broadcaster.stream()
    assert next(stream) == ": keep-alive\n\n"
    station = Station(
        ScreeningConfig(),
        Ledger(capacity_people=10),
        Journal(tmp_path / "j.sqlite3"),
        on_change=broadcaster.publish,
    )
    station.crossing(Direction.IN)
    assert b'"occupancy_people": 1' in next(stream).encode()


@pytest.mark.parametrize(
    ("body", "status", "occupancy"),
    [
        # +1 with the right PIN
        ({"pin": "2468", "action": "correct", "delta": 1, "by": "budi", "reason": "slipped past"}, 200, 3),
        # set to 7
        ({"pin": "2468", "action": "correct", "value": 7, "by": "budi", "reason": "recount"}, 200, 7),
        # the wrong PIN changes nothing
        ({"pin": "1111", "action": "correct", "delta": 1}, 403, 2),
        # an unknown action
        ({"pin": "2468", "action": "dance"}, 400, 2),
        # a count as text
        ({"pin": "2468", "action": "correct", "delta": "1"}, 400, 2),
        # an override without a reason
        ({"pin": "2468", "action": "admit", "by": "budi"}, 400, 2),
    ],
)
def test_guard_actions(kiosk, body, status, occupancy):
    client, station = kiosk
    station.crossing(Direction.IN)
    station.crossing(Direction.IN)
    response = client.post("/api/action", json=body)
    assert response.status_code == status
    assert station.state.occupancy_people == occupancy


def test_malformed_action_body(kiosk):
    client, _ = kiosk
    assert client.post("/api/action", data="not json", content_type="application/json").status_code == 400


def test_pin_locks_out_after_five_wrong_tries():
    now = [0.0]
    guard = PinGuard("2468", clock=lambda: now[0])
    assert [guard.check("0000") for _ in range(5)] == [False] * 5
    assert guard.check("2468") is False  # locked out, even with the right PIN
    now[0] = 61.0
    assert guard.check("2468") is True


def test_no_pin_configured_means_no_guard_actions():
    assert PinGuard("").check("") is False


def test_qr_code_for_the_online_link(kiosk):
    client, _ = kiosk
    response = client.get("/qr.png")
    assert response.status_code == 200
    image = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert cv2.QRCodeDetector().detectAndDecode(image)[0] == "https://example.invalid/x"


def test_the_guard_panel_shows_the_door_camera_and_the_crossings_per_door(tmp_path):
    from station.door_sources import DoorView
    from station.vision.crossings import DoorLine

    station, broadcaster = new_station(tmp_path)
    view = DoorView(every_s=0.0)
    client = create_kiosk(station, broadcaster, pin="2468", door_view=view).test_client()
    assert 'id="door-frame"' in client.get("/").get_data(as_text=True)
    assert client.get("/door.jpg").status_code == 404  # no frame yet
    north = DoorLine((0, 24), (64, 24), (32, 2), name="utara")
    view.update(np.zeros((48, 64, 3), np.uint8), [north], [(1, 0)])
    response = client.get("/door.jpg")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_COLOR).shape == (48, 64, 3)
    station.crossing(Direction.IN, door="utara")
    station.crossing(Direction.IN, door="utara")
    station.crossing(Direction.OUT, door="selatan")
    doors = client.get("/state").get_json()["doors"]
    assert doors == {"utara": {"in": 2, "out": 0}, "selatan": {"in": 0, "out": 1}}
    station.new_day()
    assert client.get("/state").get_json()["doors"] == {}


def test_a_station_without_a_door_camera_has_no_door_panel(kiosk):
    client, _ = kiosk
    assert 'id="door-frame"' not in client.get("/").get_data(as_text=True)
    assert client.get("/door.jpg").status_code == 404


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        # a lone surrogate (valid JSON, not valid Unicode) becomes a question mark
        ("\ud800", "?"),
        # inside other words
        ("lupa \udfff kartu", "lupa ? kartu"),
        # ordinary text, accents and emoji stay as typed
        ("Pak Budi 👍 sudah dicek", "Pak Budi 👍 sudah dicek"),
    ],
)
def test_text_typed_at_the_kiosk_is_kept_as_valid_unicode(kiosk, typed, kept):
    client, station = kiosk
    body = {"pin": "2468", "action": "correct", "delta": 1, "by": "mallory", "reason": typed}
    assert client.post("/api/action", json=body).status_code == 200
    (correction,) = [e for e in station.journal.events() if e["type"] == "correction"]
    # the reason as typed; the guard's name from the PIN (one bare PIN: "guard"), never from the body
    assert (correction["by"], correction["reason"]) == ("guard", kept)


@pytest.mark.parametrize(
    ("kiosk_section", "host", "status"),
    [
        # the screen beside the station
        (KioskSection(), "127.0.0.1:8088", 200),
        # ... by name
        (KioskSection(), "localhost:8088", 200),
        # a name rebound to this address by another site's page: refused
        (KioskSection(), "attacker.example:8088", 400),
        # the station served on the LAN and opened by its configured name
        (KioskSection(host="0.0.0.0", names=("loket-1.lan",)), "loket-1.lan:8088", 200),
        # ... or by the address it was given
        (KioskSection(host="192.168.1.20"), "192.168.1.20:8088", 200),
        # ... but not by any other name
        (KioskSection(host="0.0.0.0", names=("loket-1.lan",)), "evil.lan:8088", 400),
    ],
)
def test_the_kiosk_answers_only_its_own_names(tmp_path, kiosk_section, host, status):
    station, broadcaster = new_station(tmp_path)
    app = create_kiosk(station, broadcaster, pin="2468", trusted_hosts=kiosk_section.trusted_hosts())
    client = app.test_client()
    for path in ("/", "/state", "/health"):
        assert client.get(path, headers={"Host": host}).status_code == status, path


@pytest.fixture
def guarded(tmp_path):
    """A kiosk with two guards' PINs over a room of capacity 6 holding 2 people."""
    broadcaster = Broadcaster()
    station = Station(
        ScreeningConfig(retest_delay_s=300),
        Ledger(capacity_people=6),
        Journal(tmp_path / "j.sqlite3"),
        on_change=broadcaster.publish,
    )
    station.crossing(Direction.IN)
    station.crossing(Direction.IN)
    pins = parse_pins("budi=2468, sri=1357")
    return create_kiosk(station, broadcaster, pin=pins).test_client(), station


@pytest.mark.parametrize(
    ("body", "status", "code", "occupancy"),
    [
        # 999 in a room of 6 without confirmation: a clear answer, and the count stays as it was
        ({"action": "correct", "value": 999, "reason": "recount"}, 409, "confirm_count", 2),
        # the second tap confirms it
        ({"action": "correct", "value": 999, "reason": "recount", "confirm": True}, 200, "ans_count", 999),
        # above capacity by a small step still needs confirmation
        ({"action": "correct", "value": 7, "reason": "recount"}, 409, "confirm_count", 2),
        # up to the capacity is fine without
        ({"action": "correct", "value": 6, "reason": "recount"}, 200, "ans_count", 6),
        # +11 in one tap (a jump of more than 10, and above the capacity)
        ({"action": "correct", "delta": 11, "reason": "group"}, 409, "confirm_count", 2),
        # "confirm" must be true itself, not just truthy
        ({"action": "correct", "value": 999, "reason": "x", "confirm": "yes"}, 409, "confirm_count", 2),
        # call next on an empty queue: says so, not "Recorded."
        ({"action": "call_next"}, 200, "ans_queue_empty", 2),
        # a re-test ticket nobody was given
        ({"action": "retest", "ticket": 42}, 200, "ans_retest_unknown", 2),
        # an override without a reason: a reason is asked for
        ({"action": "admit"}, 400, "need_reason", 2),
        # a count as text
        ({"action": "correct", "delta": "1"}, 400, "need_number", 2),
        # an unknown action
        ({"action": "dance"}, 400, "bad_request", 2),
    ],
)
def test_each_action_is_answered_with_what_happened(guarded, body, status, code, occupancy):
    client, station = guarded
    response = client.post("/api/action", json={"guard": "budi", "pin": "2468", **body})
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert station.state.occupancy_people == occupancy


def test_a_retest_before_the_rest_is_over_says_how_long(guarded):
    client, station = guarded
    station.screening.retests[3] = station._clock() + timedelta(seconds=150)  # ticket 3, 2.5 min to go
    body = {"guard": "budi", "pin": "2468", "action": "retest", "ticket": 3}
    answer = client.post("/api/action", json=body).get_json()
    assert (answer["code"], answer["params"], answer["changed"]) == (
        "ans_retest_wait",
        {"n": 3, "min": 3},
        False,
    )


def test_the_guards_name_is_the_one_picked_and_proven_by_their_pin(guarded):
    client, station = guarded
    body = {"action": "correct", "delta": 1, "reason": "slipped past", "by": "someone-else"}
    assert (
        client.post("/api/action", json={"guard": "sri", "pin": "1357", **body}).get_json()["guard"] == "sri"
    )
    assert (
        client.post("/api/action", json={"guard": "budi", "pin": "2468", **body}).get_json()["guard"]
        == "budi"
    )
    assert [e["by"] for e in station.journal.events() if e["type"] == "correction"] == ["sri", "budi"]


def post_from(client, address, body):
    return client.post("/api/action", json=body, environ_base={"REMOTE_ADDR": address})


def test_a_locked_screen_says_for_how_long_and_other_screens_still_work(guarded):
    client, _ = guarded
    wrong = {"pin": "0000", "action": "call_next"}
    names = ["budi", "sri", "budi", "sri", "budi"]  # spread over both guards: neither is locked
    codes = [post_from(client, "10.0.0.11", {**wrong, "guard": name}).get_json()["code"] for name in names]
    assert codes == ["wrong_pin"] * 4 + ["locked"]
    right = post_from(client, "10.0.0.11", {**wrong, "guard": "budi", "pin": "2468"})
    assert (right.status_code, right.get_json()["code"]) == (403, "locked")  # not "wrong PIN"
    assert 55 <= right.get_json()["params"]["seconds"] <= 60
    again = post_from(client, "10.0.0.11", {**wrong, "guard": "budi", "pin": "2468", "screen": "a-new-name"})
    assert again.status_code == 403  # a page cannot rename itself out of the lockout
    other = post_from(client, "10.0.0.12", {**wrong, "guard": "budi", "pin": "2468"})
    assert other.status_code == 200  # the lockout is the guessing screen's, not every screen's


def five_wrong_for(guard, *, screens):
    """Five wrong PINs for ``guard``, from ``screens`` (one address each, or one address five times)."""
    return [(screen, guard, "0000") for screen in screens]


FIVE_SCREENS = [f"10.0.1.{index}" for index in range(5)]


@pytest.mark.parametrize(
    ("pins", "before", "attempt", "status", "code", "params"),
    [
        # five wrong tries for budi from five screens: budi is locked on a sixth, with his right PIN,
        # and the answer says for how long (not "wrong PIN")
        (
            "budi=2468,sri=1357",
            five_wrong_for("budi", screens=FIVE_SCREENS),
            ("10.0.0.9", "budi", "2468"),
            403,
            "guard_locked",
            {"guard": "budi", "seconds": 60},
        ),
        # ... while sri still works, on that sixth screen
        (
            "budi=2468,sri=1357",
            five_wrong_for("budi", screens=FIVE_SCREENS),
            ("10.0.0.9", "sri", "1357"),
            200,
            "ans_queue_empty",
            {},
        ),
        # ... and on a screen budi was guessed from (four tries there: not locked itself)
        (
            "budi=2468,sri=1357",
            five_wrong_for("budi", screens=FIVE_SCREENS[:1] * 4 + FIVE_SCREENS[1:2]),
            (FIVE_SCREENS[0], "sri", "1357"),
            200,
            "ans_queue_empty",
            {},
        ),
        # five wrong tries from one screen lock that screen for everyone, as before
        (
            "budi=2468,sri=1357",
            five_wrong_for("budi", screens=FIVE_SCREENS[:1] * 5),
            (FIVE_SCREENS[0], "sri", "1357"),
            403,
            "locked",
            {"seconds": 60},
        ),
        # a PIN is checked against the named guard's PIN only: sri's PIN does not open budi
        ("budi=2468,sri=1357", [], ("10.0.0.9", "budi", "1357"), 403, "wrong_pin", {}),
        # a name that is no guard's: a 400 that says so
        ("budi=2468,sri=1357", [], ("10.0.0.9", "joko", "2468"), 400, "unknown_guard", {"guard": "joko"}),
        # several guards and no name: asked to pick one
        ("budi=2468,sri=1357", [], ("10.0.0.9", None, "2468"), 400, "need_guard", {"guard": ""}),
        # a name that is not text
        ("budi=2468,sri=1357", [], ("10.0.0.9", 7, "2468"), 400, "unknown_guard", {"guard": "7"}),
        # one bare PIN: no name needed, the journal's guard is "guard", as before
        ("2468", [], ("10.0.0.9", None, "2468"), 200, "ans_queue_empty", {}),
        # ... five wrong tries from five screens lock no screen (no lockout per guard with one guard)
        (
            "2468",
            five_wrong_for(None, screens=FIVE_SCREENS),
            ("10.0.0.9", None, "2468"),
            200,
            "ans_queue_empty",
            {},
        ),
        # ... but five from one screen lock that screen, as before
        (
            "2468",
            five_wrong_for(None, screens=FIVE_SCREENS[:1] * 5),
            (FIVE_SCREENS[0], None, "2468"),
            403,
            "locked",
            {"seconds": 60},
        ),
        # ... and a name that is not the one guard's is refused
        ("2468", [], ("10.0.0.9", "budi", "2468"), 400, "unknown_guard", {"guard": "budi"}),
    ],
)
def test_wrong_pins_lock_the_guard_and_the_screen(tmp_path, pins, before, attempt, status, code, params):
    station, broadcaster = new_station(tmp_path)
    client = create_kiosk(station, broadcaster, pin=pins, clock=lambda: 100.0).test_client()
    for screen, guard, pin in before:
        body = {"pin": pin, "action": "call_next"} | ({} if guard is None else {"guard": guard})
        assert post_from(client, screen, body).status_code == 403
    screen, guard, pin = attempt
    body = {"pin": pin, "action": "call_next"} | ({} if guard is None else {"guard": guard})
    response = post_from(client, screen, body)
    answer = response.get_json()
    assert (response.status_code, answer["code"], answer["params"]) == (status, code, params)
    if status == 400:
        assert "guard" in answer["error"]  # a sentence that names what to fix
    if status == 200:
        assert answer["guard"] == (guard or "guard")


def test_an_unknown_guard_is_told_the_guards_names_and_costs_no_try(tmp_path):
    station, broadcaster = new_station(tmp_path)
    client = create_kiosk(station, broadcaster, pin="budi=2468,sri=1357").test_client()
    for _ in range(6):
        answer = post_from(client, "10.0.0.9", {"guard": "joko", "pin": "0000", "action": "call_next"})
        assert answer.get_json()["error"] == "unknown guard 'joko': the guards are budi, sri"
    right = post_from(client, "10.0.0.9", {"guard": "sri", "pin": "1357", "action": "call_next"})
    assert right.status_code == 200  # not a PIN guess: neither the screen nor a guard is locked


@pytest.mark.parametrize(
    ("pins", "names"),
    [
        # two guards: the dialog lists their names (never their PINs)
        ("budi=2468,sri=1357", ["budi", "sri"]),
        # one bare PIN: no list, the dialog is as before
        ("2468", []),
        # one named guard: nothing to pick either
        ("budi=2468", []),
    ],
)
def test_the_guard_dialog_lists_the_guards_names(tmp_path, pins, names):
    station, broadcaster = new_station(tmp_path)
    html = create_kiosk(station, broadcaster, pin=pins).test_client().get("/").get_data(as_text=True)
    assert re.findall(r'data-guard="([^"]*)"', html) == names
    assert ('id="guard-names"' in html) == bool(names)
    assert "2468" not in html
    assert "1357" not in html


def test_a_guard_lockout_ends_after_a_minute():
    now = [0.0]
    guard = PinGuard("budi=2468,sri=1357", clock=lambda: now[0])
    for index in range(5):
        assert guard.verdict("0000", f"10.0.0.{index}", "budi").guard is None
    assert guard.verdict("2468", "10.0.0.9", "budi") == PinVerdict(None, 60, "budi")
    now[0] = 30.0
    assert guard.verdict("2468", "10.0.0.9", "budi").locked_s == 30  # says how long is left
    assert guard.verdict("1357", "10.0.0.9", "sri").guard == "sri"
    now[0] = 61.0
    assert guard.verdict("2468", "10.0.0.9", "budi").guard == "budi"


def test_guessing_from_many_screens_locks_every_screen():
    now = [0.0]
    guard = PinGuard("2468", clock=lambda: now[0])
    for index in range(20):  # four wrong tries from each of five addresses: none locked alone
        assert guard.verdict("0000", f"10.0.0.{index // 4}").locked_s == 0
    assert guard.verdict("2468", "10.0.0.99").locked_s > 0  # but together they lock every screen
    now[0] = 61.0
    assert guard.verdict("2468", "10.0.0.99").guard == "guard"


@pytest.mark.parametrize(
    ("text", "pins"),
    [
        # one shared PIN: one guard called "guard"
        ("2468", {"2468": "guard"}),
        # a PIN per guard, spaces allowed
        ("budi=2468, sri=1357", {"2468": "budi", "1357": "sri"}),
        # none: no guard actions
        ("", {}),
    ],
)
def test_pins_are_read_per_guard(text, pins):
    assert parse_pins(text) == pins


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # two guards, one PIN: who was it?
        ("budi=2468,sri=2468", "same PIN"),
        # too short to resist guessing
        ("budi=12", "4 to 12 digits"),
        # no name before the "="
        ("=2468", "needs a name"),
        # one guard, two PINs: the name picked on the screen must lead to one PIN
        ("budi=2468,budi=1357", "budi has two PINs"),
    ],
)
def test_bad_pins_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_pins(text)

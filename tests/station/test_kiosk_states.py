"""The kiosk's scenes as one table: one row per scene, each picked from the station's state."""

import pytest

from station.kiosk_states import LIGHT_WORDS, ROWS, Light, Scene, detail_of, scene_of
from station.kiosk_texts import TEXTS

IDLE = {
    "decision": None,
    "reason": None,
    "message": "welcome",
    "state": "idle",
    "queue_ticket": None,
    "queue_called": None,
    "room_state": "open",
}


@pytest.mark.parametrize(
    ("change", "scene", "light", "headline", "detail"),
    [
        # nobody there, room open: welcome, grey "ready" (not a green "come in")
        ({}, Scene.WELCOME, Light.GREY, "head_welcome", "welcome"),
        # nobody there, room full: red "room full", never "welcome, stand in front of the camera"
        ({"room_state": "full"}, Scene.FULL, Light.RED, "head_full", "full_detail"),
        # a visitor being measured: amber, the screening's instruction as the detail
        (
            {"state": "measuring", "message": "hold_still"},
            Scene.CHECKING,
            Light.AMBER,
            "head_checking",
            "hold_still",
        ),
        # the thermometer unplugged: grey, a guard helps
        (
            {"state": "present", "message": "sensor_offline"},
            Scene.SENSOR_OFFLINE,
            Light.GREY,
            "head_help",
            "sensor_offline",
        ),
        # admitted: green "come in"
        (
            {"state": "decided", "decision": "allow", "message": "welcome_in"},
            Scene.ADMITTED,
            Light.GREEN,
            "head_enter",
            "welcome_in",
        ),
        # admitted by the guard's override: green, and it says the guard let them in
        (
            {"decision": "allow", "reason": "override"},
            Scene.ADMITTED,
            Light.GREEN,
            "head_enter",
            "admitted_by_guard",
        ),
        # cleared while the room is full: amber with the queue number, not green
        (
            {"state": "decided", "decision": "allow", "queue_ticket": 3, "room_state": "full"},
            Scene.QUEUED,
            Light.AMBER,
            "head_full",
            "queued_detail",
        ),
        # no mask: red, the reason as the detail
        (
            {"state": "decided", "decision": "deny", "message": "no_mask"},
            Scene.DENIED,
            Light.RED,
            "head_denied",
            "no_mask",
        ),
        # turned away by the guard
        (
            {"decision": "deny", "reason": "override"},
            Scene.DENIED,
            Light.RED,
            "head_denied",
            "denied_by_guard",
        ),
        # a fever on the first test: red, rest then re-test
        (
            {"state": "decided", "decision": "retest", "message": "fever_retest"},
            Scene.RETEST,
            Light.RED,
            "head_fever",
            "fever_retest",
        ),
        # a called ticket while nobody is at the camera: green "number N, come in", even in a full room
        (
            {"queue_called": 4, "room_state": "full"},
            Scene.CALLED,
            Light.GREEN,
            "head_called",
            "called_detail",
        ),
        # the re-test desk's answer at an idle screen
        ({"message": "retest_wait"}, Scene.RETEST_DESK, Light.AMBER, "head_retest", "retest_wait"),
    ],
)
def test_each_scene_shows_its_row(change, scene, light, headline, detail):
    fields = {**IDLE, **change}
    found = scene_of(**fields)
    row = ROWS[found]
    assert (found, row.light, row.headline, detail_of(row, fields["message"], fields["reason"])) == (
        scene,
        light,
        headline,
        detail,
    )


def test_every_row_has_an_icon_and_words_in_both_languages():
    assert set(ROWS) == set(Scene)
    for row in ROWS.values():
        assert len(row.icon) == 1
        assert ord(row.icon) < 0x10000  # drawn by the kiosk's plain fonts, no emoji
        for language in ("id", "en"):
            words = TEXTS[language]
            assert row.headline in words
            assert row.detail is None or row.detail in words
            assert LIGHT_WORDS[row.light] in words  # the light carries a word, not only a colour

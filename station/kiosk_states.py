"""What the kiosk says, as one table: each scene's light, icon, headline and detail.

The kiosk shows exactly one scene at a time, so the light and the words never disagree (no red
light with "welcome", no green "come in" beside a full room with nobody admitted). ``scene_of``
picks the scene from the station's state, in the order of ``Scene``'s docstring; ``ROWS`` says what
each one shows. Headlines and details are keys of the kiosk's texts (``kiosk_texts.TEXTS``); a
detail of ``None`` means the screening's own message (``no_mask``, ``hold_still`` ...). The light
carries a word as well as a colour (``LIGHT_WORDS``), for visitors who cannot tell red from green.
Icons are single characters of the Basic Multilingual Plane that DejaVu Sans (Debian's default font)
draws; emoji need a colour font a kiosk PC seldom has.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Light(StrEnum):
    """The big traffic light on the kiosk."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    GREY = "grey"


#: The word on the light, a key of the kiosk's texts.
LIGHT_WORDS: dict[Light, str] = {
    Light.GREEN: "light_go",
    Light.AMBER: "light_wait",
    Light.RED: "light_stop",
    Light.GREY: "light_ready",
}


class Scene(StrEnum):
    """What the kiosk is showing, first match wins in this order.

    A visitor's decision (re-test, refused, queued, admitted) first; then the thermometer missing; a
    screening under way; a called queue ticket; a re-test desk message; a full room; welcome.
    """

    RETEST = "retest"
    DENIED = "denied"
    QUEUED = "queued"
    ADMITTED = "admitted"
    SENSOR_OFFLINE = "sensor_offline"
    CHECKING = "checking"
    CALLED = "called"
    RETEST_DESK = "retest_desk"
    FULL = "full"
    WELCOME = "welcome"


@dataclass(frozen=True, slots=True)
class Row:
    """One scene: its light, an icon, a short headline (readable at 3 m) and a detail sentence."""

    light: Light
    icon: str
    headline: str
    detail: str | None


ROWS: dict[Scene, Row] = {
    Scene.RETEST: Row(Light.RED, "♨", "head_fever", None),
    Scene.DENIED: Row(Light.RED, "✖", "head_denied", None),
    Scene.QUEUED: Row(Light.AMBER, "☰", "head_full", "queued_detail"),
    Scene.ADMITTED: Row(Light.GREEN, "✔", "head_enter", None),
    Scene.SENSOR_OFFLINE: Row(Light.GREY, "⚠", "head_help", "sensor_offline"),
    Scene.CHECKING: Row(Light.AMBER, "☝", "head_checking", None),
    Scene.CALLED: Row(Light.GREEN, "➜", "head_called", "called_detail"),
    Scene.RETEST_DESK: Row(Light.AMBER, "♨", "head_retest", None),
    Scene.FULL: Row(Light.RED, "⚑", "head_full", "full_detail"),
    Scene.WELCOME: Row(Light.GREY, "☺", "head_welcome", "welcome"),
}

CHECKING_STATES = frozenset({"present", "measuring", "mask_check"})
RETEST_MESSAGES = frozenset({"retest_ready", "retest_wait", "retest_unknown"})


def scene_of(
    *,
    decision: str | None,
    reason: str | None,
    message: str,
    state: str,
    queue_ticket: int | None,
    queue_called: int | None,
    room_state: str,
) -> Scene:
    """Return the one scene the kiosk shows for the station's state (see ``Scene``)."""
    del reason  # the detail tells an override apart; the scene does not depend on it
    if decision == "retest":
        return Scene.RETEST
    if decision == "deny":
        return Scene.DENIED
    if decision == "allow":
        return Scene.QUEUED if queue_ticket is not None else Scene.ADMITTED
    if message == "sensor_offline":
        return Scene.SENSOR_OFFLINE
    if state in CHECKING_STATES:
        return Scene.CHECKING
    if queue_called is not None:
        return Scene.CALLED
    if message in RETEST_MESSAGES:
        return Scene.RETEST_DESK
    if room_state == "full":
        return Scene.FULL
    return Scene.WELCOME


def detail_of(row: Row, message: str, reason: str | None) -> str:
    """Return the detail's text key: the row's own, the guard's override, or the screening's message."""
    if row.detail is not None:
        return row.detail
    if reason == "override":
        return "admitted_by_guard" if row.light is Light.GREEN else "denied_by_guard"
    return message

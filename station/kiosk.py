"""The kiosk: the guard's and visitor's screen, served by the station itself (works with the network down).

One page, updated live over Server-Sent Events; a camera preview with the face guide (the image
stays on this machine); guard actions behind a PIN: admit or deny with a reason, correct the count,
call the next ticket, start a re-test.

Each guard has their own PIN (``GERBANG_KIOSK_PIN="budi=1234,sri=5678"``; one bare PIN is one
guard called ``guard``). With several guards the guard picks their name on the screen (``"guard"``
beside ``"pin"`` in the action API) and the PIN is checked against that guard's PIN only. Wrong
tries lock the screen they came from (its network address: a page cannot pick a new identity to
guess on) for a minute, not every screen, and lock the guard they were for (on every screen; the
other guards still work); past ``PIN_ATTEMPTS_ALL`` wrong tries a minute from all screens together,
every screen is locked (guessing spread over many addresses). A lockout says for how long. Every answer
names what happened as a text key and its values (``code``, ``params``), so the page says it in the
visitor's language.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from flask import Flask, Response, jsonify, render_template, request

from station.core import ConfirmationNeededError, KioskState, Station
from station.days import zone_name
from station.events import Decision, utc_now
from station.kiosk_texts import TEXTS
from station.screening import Message

log = logging.getLogger(__name__)

PIN_ATTEMPTS = 5
PIN_ATTEMPTS_ALL = 20
PIN_LOCKOUT_S = 60.0
KEEPALIVE_S = 15.0


class Preview(Protocol):
    """The newest camera frame with the face guide drawn, as JPEG."""

    def jpeg(self) -> bytes | None:
        """Return the frame, or None when there is none."""
        ...


class MetricsPage(Protocol):
    """The station's figures in Prometheus text format."""

    def render(self) -> tuple[bytes, str]:
        """Return the page's body and its content type."""
        ...


class Broadcaster:
    """Hands the newest kiosk state to every open page."""

    def __init__(self, keepalive_s: float = KEEPALIVE_S) -> None:
        """Start with no state: a page's stream sends only keep-alives until the first change.

        Args:
            keepalive_s: seconds between keep-alive comments while nothing changes.
        """
        self._condition = threading.Condition()
        self._keepalive_s = keepalive_s
        self._version = 0
        self._payload = ""  # version 0 has no state and is never sent

    def publish(self, state: KioskState) -> None:
        """Send ``state`` to every listener."""
        payload = json.dumps(state.as_json())
        with self._condition:
            self._version += 1
            self._payload = payload
            self._condition.notify_all()

    def stream(self, stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """Yield Server-Sent Events: the current state at once (once there is one), then every change.

        Before the first change there is no state to send (the page asks ``/state``); an empty one
        would be taken for a newer one than that answer.
        """
        seen = 0
        while not stop():
            with self._condition:
                if self._version == seen:
                    self._condition.wait(self._keepalive_s)
                if self._version == seen:
                    payload = None
                else:
                    seen, payload = self._version, self._payload
            yield f"data: {payload}\n\n" if payload is not None else ": keep-alive\n\n"


def parse_pins(text: str) -> dict[str, str]:
    """Return ``{pin: guard name}`` from ``"budi=1234,sri=5678"`` (a bare ``"2468"`` is guard ``guard``).

    Raises:
        ValueError: A PIN that is not 4 to 12 digits, a name missing, two guards with one PIN, or
            one guard with two.
    """
    pins: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, pin = item.rpartition("=") if "=" in item else ("guard", "", item)
        name, pin = name.strip(), pin.strip()
        if not name:
            raise ValueError(f"a guard's PIN needs a name: {item[:3]}...=PIN")
        if not (pin.isdigit() and 4 <= len(pin) <= 12):
            raise ValueError(f"guard {name}: a PIN is 4 to 12 digits")
        if pin in pins:
            raise ValueError(f"guards {pins[pin]} and {name} have the same PIN")
        if name in pins.values():
            raise ValueError(
                f"guard {name} has two PINs (a guard picks their name, then types their one PIN)"
            )
        pins[pin] = name
    return pins


@dataclass(frozen=True, slots=True)
class PinVerdict:
    """What a PIN opened: the guard's name, or why not.

    ``locked_s`` is the seconds left of a lockout; ``locked_guard`` names the guard locked out
    (empty when it is the screen, or every screen, that is locked).
    """

    guard: str | None
    locked_s: int = 0
    locked_guard: str = ""


class UnknownGuardError(ValueError):
    """The guard named at the screen is none of the configured guards (or none was named among several)."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        if name:
            super().__init__(f"unknown guard {name!r}: the guards are {', '.join(known)}")
        else:
            super().__init__(f"choose the guard's name: one of {', '.join(known)}")


class PinGuard:
    """Checks the guards' PINs, locking out a screen, and a guard, for a minute after repeated wrong tries.

    A PIN is checked against the named guard's PIN only (the name may be left out when there is
    one guard). Wrong tries count per screen (``PIN_ATTEMPTS`` lock that screen), per guard
    (``PIN_ATTEMPTS`` lock that guard on every screen, the other guards still work) and from all
    screens together (``PIN_ATTEMPTS_ALL`` lock every screen). With one guard there is no lockout
    per guard: it would lock every screen after ``PIN_ATTEMPTS`` tries, so one screen stays
    locked alone, as before there were names.

    Args:
        pins: The PINs, ``{pin: guard name}`` (see ``parse_pins``), or one PIN as text.
        clock: Monotonic seconds.
    """

    def __init__(self, pins: dict[str, str] | str, clock: Callable[[], float] = time.monotonic) -> None:
        self._pins = parse_pins(pins) if isinstance(pins, str) else dict(pins)
        self._by_guard = {name: pin for pin, name in self._pins.items()}
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._guard_failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @property
    def guards(self) -> list[str]:
        """The configured guards' names, in the order they were given."""
        return list(self._by_guard)

    def check(self, attempt: str, screen: str = "", guard: str | None = None) -> bool:
        """Return whether ``attempt`` is the guard's PIN (False while locked out)."""
        return self.verdict(attempt, screen, guard).guard is not None

    def verdict(self, attempt: str, screen: str = "", guard: str | None = None) -> PinVerdict:
        """Return whose PIN ``attempt`` is, or how long ``screen`` or ``guard`` stays locked out.

        Args:
            attempt: The PIN typed.
            screen: The screen it came from (its network address).
            guard: The guard's name picked at the screen; None (or empty) when there is one guard.

        Raises:
            UnknownGuardError: ``guard`` is not a configured guard, or is missing among several.
        """
        name = guard or ""
        if not name and len(self._by_guard) == 1:
            name = next(iter(self._by_guard))
        if name not in self._by_guard:
            if not self._by_guard:
                return PinVerdict(None)  # no PIN configured: no guard actions at all
            raise UnknownGuardError(name[:40], self.guards)
        with self._lock:
            now = self._clock()
            self._failures = _recent(self._failures, now)
            self._guard_failures = _recent(self._guard_failures, now)
            failures = self._failures.setdefault(screen, [])
            guard_failures = self._guard_failures.setdefault(name, [])
            everywhere = sorted(t for times in self._failures.values() for t in times)
            if len(failures) >= PIN_ATTEMPTS:
                return PinVerdict(None, locked_s=_left_s(failures[-PIN_ATTEMPTS], now))
            if len(guard_failures) >= PIN_ATTEMPTS:
                return PinVerdict(None, _left_s(guard_failures[-PIN_ATTEMPTS], now), name)
            if len(everywhere) >= PIN_ATTEMPTS_ALL:
                return PinVerdict(None, locked_s=_left_s(everywhere[-PIN_ATTEMPTS_ALL], now))
            if hmac.compare_digest(attempt.encode(), self._by_guard[name].encode()):
                return PinVerdict(name)
            failures.append(now)
            if len(self._by_guard) > 1:
                guard_failures.append(now)
            log.warning("kiosk: wrong PIN for guard %s from %s", name, screen)
            if len(failures) >= PIN_ATTEMPTS:
                return PinVerdict(None, locked_s=math.ceil(PIN_LOCKOUT_S))
            if len(guard_failures) >= PIN_ATTEMPTS:
                return PinVerdict(None, math.ceil(PIN_LOCKOUT_S), name)
            return PinVerdict(None)


def _recent(failures: dict[str, list[float]], now: float) -> dict[str, list[float]]:
    """The wrong tries of the last ``PIN_LOCKOUT_S`` seconds, by screen or guard (none left: dropped)."""
    return {
        key: kept
        for key, times in failures.items()
        if (kept := [t for t in times if now - t < PIN_LOCKOUT_S])
    }


def _left_s(since: float, now: float) -> int:
    """Whole seconds left of a lockout that started at ``since`` (at least 1)."""
    return max(1, math.ceil(since + PIN_LOCKOUT_S - now))


@dataclass(frozen=True, slots=True)
class Answer:
    """What a guard's action did: a text key of the kiosk's texts and its values."""

    code: str
    params: dict[str, object]
    changed: bool = True


def create_kiosk(
    station: Station,
    broadcaster: Broadcaster,
    *,
    pin: str | dict[str, str],
    language: str = "id",
    time_zone: str = "Asia/Jakarta",
    retest_min: float = 5.0,
    alternatives: dict[str, str] | None = None,
    guide: tuple[float, ...] = (0.25, 0.1, 0.75, 0.9),
    preview: Preview | None = None,
    door_view: Preview | None = None,
    metrics: MetricsPage | None = None,
    trusted_hosts: list[str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Flask:
    """Build the kiosk's web app.

    Args:
        station: The station hub the page shows and the guard acts on.
        broadcaster: Carries the station's changes to open pages.
        pin: The guards' PINs, ``{pin: name}`` or as text (see ``parse_pins``); none disables guard
            actions.
        language: The station's language, ``id`` or ``en`` (the page returns to it after each visitor).
        time_zone: The site's clock: times on the page are shown on it, with the zone's name.
        retest_min: Minutes of rest before a re-test (for the visitor's message).
        alternatives: The online channels: ``text``, ``phone``, ``whatsapp``, ``link``.
        guide: The face guide as fractions of the frame (left, top, right, bottom).
        preview: The camera preview, or None for a station without a camera.
        door_view: The door camera's newest frame with its counting lines, or None when the station
            does not count by camera.
        metrics: The station's figures for ``/metrics`` (Prometheus), or None for none.
        trusted_hosts: The Host header names the kiosk answers (``KioskSection.trusted_hosts``);
            others get a 400, so a rebound DNS name cannot read temperatures or the camera. None
            answers any (tests).
        clock: Monotonic seconds, for the PIN lockouts.
    """
    app = Flask(__name__, static_folder="kiosk_static", template_folder="templates")
    app.config["TRUSTED_HOSTS"] = trusted_hosts
    guard = PinGuard(pin, clock=clock)
    alternatives = {k: v for k, v in (alternatives or {}).items() if v}

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.get("/")
    def page() -> str:
        config = {
            "language": language,
            "time_zone": time_zone,
            "zone_name": zone_name(ZoneInfo(time_zone), utc_now()),
            "retest_min": round(retest_min),
            "guide": list(guide),
            "camera": preview is not None,
            "door_camera": door_view is not None,
            "alternatives": alternatives,
            "guards": guard.guards if len(guard.guards) > 1 else [],
        }
        return render_template("kiosk.html", texts=TEXTS, config=config, language=language)

    @app.get("/state")
    def state() -> Response:
        return jsonify(station.state.as_json())

    @app.get("/events")
    def events() -> Response:
        return Response(
            broadcaster.stream(),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.get("/preview.mjpg")
    def preview_stream() -> Response:
        if preview is None:
            return Response(status=404)

        def frames() -> Iterator[bytes]:
            while True:
                jpeg = preview.jpeg()
                if jpeg:
                    yield b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n"
                time.sleep(0.1)

        return Response(frames(), mimetype="multipart/x-mixed-replace; boundary=frame")

    @app.get("/door.jpg")
    def door_frame() -> Response:
        jpeg = door_view.jpeg() if door_view is not None else None
        if jpeg is None:
            return Response(status=404)
        return Response(jpeg, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.get("/qr.png")
    def qr() -> Response:
        link = alternatives.get("link", "")
        if not link:
            return Response(status=404)
        return Response(_qr_png(link), mimetype="image/png", headers={"Cache-Control": "max-age=3600"})

    @app.post("/api/action")
    def action() -> tuple[Response, int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _refusal(400, "bad_request", "expected a JSON object")
        name = body.get("guard")
        if name is not None and not isinstance(name, str):
            shown = str(name)[:40]
            return _refusal(
                400, "unknown_guard", f"guard must be a guard's name as text, not {shown}", guard=shown
            )
        try:
            verdict = guard.verdict(str(body.get("pin", "")), str(request.remote_addr), name)
        except UnknownGuardError as err:
            return _refusal(400, "unknown_guard" if err.name else "need_guard", str(err), guard=err.name)
        if verdict.guard is None:
            if verdict.locked_guard:
                message = f"too many wrong PINs for {verdict.locked_guard}: locked for {verdict.locked_s} s"
                return _refusal(
                    403, "guard_locked", message, guard=verdict.locked_guard, seconds=verdict.locked_s
                )
            if verdict.locked_s:
                message = f"too many wrong PINs: locked for {verdict.locked_s} s"
                return _refusal(403, "locked", message, seconds=verdict.locked_s)
            return _refusal(403, "wrong_pin", "wrong PIN")
        try:
            answer = _act(station, body, verdict.guard)
        except ConfirmationNeededError as err:
            return _refusal(
                409,
                "confirm_count",
                str(err),
                current=err.current_people,
                n=err.target_people,
                capacity=err.capacity_people,
            )
        except (ValueError, TypeError, KeyError) as err:
            return _refusal(400, _error_code(str(err)), str(err))
        return jsonify(
            ok=True,
            code=answer.code,
            params=answer.params,
            changed=answer.changed,
            guard=verdict.guard,
            state=station.state.as_json(),
        ), 200

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok")

    @app.get("/metrics")
    def metrics_page() -> Response:
        if metrics is None:
            return Response(status=404)
        body, content_type = metrics.render()
        return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})

    return app


def _text(value: object, limit: int) -> str:
    """Text typed at the screen, as valid Unicode (a lone surrogate becomes "?") and at most ``limit``."""
    return str(value or "").encode("utf-8", "replace").decode("utf-8")[:limit]


def _refusal(status: int, code: str, message: str, **params: object) -> tuple[Response, int]:
    """An action refused: the English sentence (``error``), and its text key and values for the page."""
    return jsonify(error=message, code=code, params=params), status


#: English error sentences of ``_act`` and the core, by the text key the page shows instead.
_ERROR_CODES = {
    "needs a reason": "need_reason",
    "whole number": "need_number",
    "ticket must be": "need_ticket",
    "unknown action": "bad_request",
    "fewer than 0": "need_number",
}


def _error_code(message: str) -> str:
    return next((code for words, code in _ERROR_CODES.items() if words in message), "bad_request")


def _whole(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{name} must be a whole number")
    return value


def _act(station: Station, body: dict, by: str) -> Answer:
    """Do the guard's action; return what happened (``by`` is the guard the PIN belongs to)."""
    kind = body.get("action")
    reason = _text(body.get("reason"), 300)
    if kind in ("admit", "deny"):
        station.override(Decision.ALLOW if kind == "admit" else Decision.DENY, by, reason)
        return Answer("ans_admitted" if kind == "admit" else "ans_denied", {"guard": by})
    if kind == "correct":
        delta, value = _whole(body, "delta"), _whole(body, "value")
        count = station.correct(
            by,
            reason or "correction at the kiosk",
            delta=delta,
            value=value,
            confirm=body.get("confirm") is True,
        )
        return Answer("ans_count", {"n": count, "guard": by})
    if kind == "call_next":
        ticket = station.call_next()
        if ticket is None:
            return Answer("ans_queue_empty", {}, changed=False)
        return Answer("ans_called", {"n": ticket.number})
    if kind == "retest":
        number = body.get("ticket")
        if isinstance(number, bool) or not isinstance(number, int):
            raise ValueError("ticket must be a number")
        message, wait_s = station.start_retest(number)
        if message is Message.RETEST_READY:
            return Answer("ans_retest_ready", {"n": number})
        if message is Message.RETEST_WAIT:
            seconds = math.ceil(wait_s or 0)
            return Answer("ans_retest_wait", {"n": number, "min": math.ceil(seconds / 60)}, changed=False)
        return Answer("ans_retest_unknown", {"n": number}, changed=False)
    raise ValueError(f"unknown action {str(kind)[:40]!r}")


def _qr_png(text: str) -> bytes:
    encoder = cv2.QRCodeEncoder.create()
    code = encoder.encode(text)
    image = cv2.resize(code, (code.shape[1] * 8, code.shape[0] * 8), interpolation=cv2.INTER_NEAREST)
    image = cv2.copyMakeBorder(image, 32, 32, 32, 32, cv2.BORDER_CONSTANT, value=255)
    ok, png = cv2.imencode(".png", image)
    return png.tobytes() if ok else b""


def draw_guide(frame: np.ndarray, guide: tuple[float, ...], color: tuple[int, int, int]) -> bytes:
    """Return ``frame`` as JPEG with the face guide drawn (for the kiosk's preview)."""
    height, width = frame.shape[:2]
    x1, y1, x2, y2 = (
        int(v) for v in (guide[0] * width, guide[1] * height, guide[2] * width, guide[3] * height)
    )
    shown = frame.copy()
    center = ((x1 + x2) // 2, (y1 + y2) // 2)
    cv2.ellipse(shown, center, ((x2 - x1) // 2, (y2 - y1) // 2), 0, 0, 360, color, 3)
    ok, jpeg = cv2.imencode(".jpg", shown, [cv2.IMWRITE_JPEG_QUALITY, 75])
    return jpeg.tobytes() if ok else b""

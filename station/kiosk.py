"""The kiosk: the guard's and visitor's screen, served by the station itself (works with the network down).

One page, updated live over Server-Sent Events; a camera preview with the face guide (the image
stays on this machine); guard actions behind a PIN: admit or deny with a reason, correct the count,
call the next ticket, start a re-test.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import cv2
import numpy as np
from flask import Flask, Response, jsonify, render_template, request

from station.core import KioskState, Station
from station.events import Decision
from station.kiosk_texts import TEXTS

log = logging.getLogger(__name__)

PIN_ATTEMPTS = 5
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

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._version = 0
        self._payload = "{}"

    def publish(self, state: KioskState) -> None:
        """Send ``state`` to every listener."""
        payload = json.dumps(state.as_json())
        with self._condition:
            self._version += 1
            self._payload = payload
            self._condition.notify_all()

    def stream(self, stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """Yield Server-Sent Events: the current state at once, then every change."""
        seen = -1
        while not stop():
            with self._condition:
                if self._version == seen:
                    self._condition.wait(KEEPALIVE_S)
                if self._version == seen:
                    payload = None
                else:
                    seen, payload = self._version, self._payload
            yield f"data: {payload}\n\n" if payload is not None else ": keep-alive\n\n"


class PinGuard:
    """Checks the guards' PIN, locking out for a minute after repeated wrong tries."""

    def __init__(self, pin: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._pin = pin
        self._clock = clock
        self._failures: list[float] = []

    def check(self, attempt: str) -> bool:
        """Return whether ``attempt`` is the PIN (always False while locked out or with no PIN set)."""
        now = self._clock()
        self._failures = [t for t in self._failures if now - t < PIN_LOCKOUT_S]
        if len(self._failures) >= PIN_ATTEMPTS or not self._pin:
            return False
        if hmac.compare_digest(attempt.encode(), self._pin.encode()):
            return True
        self._failures.append(now)
        return False


def create_kiosk(
    station: Station,
    broadcaster: Broadcaster,
    *,
    pin: str,
    language: str = "id",
    retest_min: float = 5.0,
    alternatives: dict[str, str] | None = None,
    guide: tuple[float, ...] = (0.25, 0.1, 0.75, 0.9),
    preview: Preview | None = None,
    door_view: Preview | None = None,
    metrics: MetricsPage | None = None,
    trusted_hosts: list[str] | None = None,
) -> Flask:
    """Build the kiosk's web app.

    Args:
        station: The station hub the page shows and the guard acts on.
        broadcaster: Carries the station's changes to open pages.
        pin: The guards' PIN (from the environment); empty disables guard actions.
        language: The page's first language, ``id`` or ``en``.
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
    """
    app = Flask(__name__, static_folder="kiosk_static", template_folder="templates")
    app.config["TRUSTED_HOSTS"] = trusted_hosts
    guard = PinGuard(pin)
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
            "retest_min": round(retest_min),
            "guide": list(guide),
            "camera": preview is not None,
            "door_camera": door_view is not None,
            "alternatives": alternatives,
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
            return jsonify(error="expected a JSON object"), 400
        if not guard.check(str(body.get("pin", ""))):
            return jsonify(error="wrong PIN (or too many tries: wait a minute)"), 403
        try:
            _act(station, body)
        except (ValueError, TypeError, KeyError) as err:
            return jsonify(error=str(err)), 400
        return jsonify(ok=True, state=station.state.as_json()), 200

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


def _act(station: Station, body: dict) -> None:
    kind = body.get("action")
    by = _text(body.get("by"), 80) or "guard"
    reason = _text(body.get("reason"), 300)
    if kind == "admit":
        station.override(Decision.ALLOW, by, reason)
    elif kind == "deny":
        station.override(Decision.DENY, by, reason)
    elif kind == "correct":
        delta, value = body.get("delta"), body.get("value")
        if delta is not None and (isinstance(delta, bool) or not isinstance(delta, int)):
            raise ValueError("delta must be a whole number")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("value must be a whole number")
        station.correct(by, reason or "correction at the kiosk", delta=delta, value=value)
    elif kind == "call_next":
        station.call_next()
    elif kind == "retest":
        ticket = body.get("ticket")
        if isinstance(ticket, bool) or not isinstance(ticket, int):
            raise ValueError("ticket must be a number")
        station.start_retest(ticket)
    else:
        raise ValueError(f"unknown action {kind!r}")


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

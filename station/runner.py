"""Wires a configuration to its parts and runs them, each in a thread, until one stop event is set."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from werkzeug.serving import BaseWSGIServer, make_server

from sensors.camera import CameraError, FrameSource, parse_source
from sensors.relay import Switch
from sensors.serialport import PortError, PortState, SerialPort
from sensors.thermometer.protocols import get_protocol
from sensors.thermometer.reader import ThermometerReader
from station.config import ConfigError, StationConfig, door_lines
from station.core import FaceObservation, Light, Station
from station.days import Closing, zone_name
from station.door_sources import BeamCounter, CameraCounter, CrossingSource, DoorView, FrameRelay, Frames
from station.events import Direction, Mask
from station.journal import Journal
from station.kiosk import Broadcaster, create_kiosk, draw_guide, parse_pins
from station.metrics import StationMetrics
from station.occupancy import Ledger
from station.screening import ScreeningConfig
from station.uplink import HttpOccupancy, HttpSender, OccupancySource, Sender, Uplink, UplinkError

log = logging.getLogger(__name__)

LIGHT_BGR = {
    Light.GREEN: (80, 200, 80),
    Light.AMBER: (0, 170, 240),
    Light.RED: (60, 60, 220),
    Light.GREY: (200, 200, 200),
}


@dataclass
class Parts:
    """What a runner may be handed instead of building it from the configuration (demo, tests).

    Attributes:
        frames: The visitor camera; built from ``camera.source`` when None.
        observe: Turns a frame into a FaceObservation; YuNet and the mask classifier when None.
        sender: Ships events; HTTP to ``dashboard.url`` when None.
        occupancy: The dashboard's room figure; HTTP when None.
        gate: The door lock / light; a relay on ``relay.url`` when None.
        counter: Counts the doors; built from ``counting`` when None.
        door_frames: The door camera; opened from ``counting.camera`` when None (and counting by camera).
    """

    frames: Frames | None = None
    observe: Callable[[np.ndarray, datetime], FaceObservation] | None = None
    sender: Sender | None = None
    occupancy: OccupancySource | None = None
    gate: Switch | None = None
    counter: CrossingSource | None = None
    door_frames: Frames | None = None
    extra_threads: list[tuple[str, Callable[[threading.Event], None]]] = field(default_factory=list)


class Preview:
    """The newest visitor frame, kept for the kiosk's preview (it never leaves this machine)."""

    def __init__(self, guide: tuple[float, ...]) -> None:
        self._guide = guide
        self._lock = threading.Lock()
        self._jpeg: bytes | None = None

    def update(self, image: np.ndarray, light: Light) -> None:
        """Keep ``image`` with the guide drawn in the light's colour."""
        jpeg = draw_guide(image, self._guide, LIGHT_BGR[light])
        with self._lock:
            self._jpeg = jpeg

    def jpeg(self) -> bytes | None:
        """Return the newest frame as JPEG."""
        with self._lock:
            return self._jpeg


class Runner:
    """Builds the station from its configuration and runs it.

    Args:
        config: The station's configuration.
        parts: Parts handed in instead of built (fakes, emulators, the demo's synthetic camera).
    """

    def __init__(self, config: StationConfig, parts: Parts | None = None) -> None:
        self.config = config
        self.parts = parts or Parts()
        self.stop = threading.Event()
        self.broadcaster = Broadcaster()
        section = config.station
        self.journal = Journal(section.journal, max_size_mb=section.journal_max_mb)
        self.has_camera = bool(config.camera.source) or self.parts.frames is not None
        screening = config.screening
        rules = ScreeningConfig(
            **{name: getattr(screening, name) for name in screening.__dataclass_fields__},
            mask_check=self.has_camera and config.camera.masks,
        )
        self.gate = self.parts.gate or self._relay()
        self.metrics = StationMetrics(lambda: self.station.state, self.journal.pending_count)
        self.station = Station(
            rules,
            Ledger(section.capacity_people, section.share, section.near_share),
            self.journal,
            gate=self.gate,
            gate_open_s=config.relay.open_s,
            camera=self.has_camera,
            on_change=self.broadcaster.publish,
            on_decision=self.metrics.decided,
            call_timeout_s=section.queue_call_timeout_s,
        )
        self._limit_file = Path(section.journal).with_name(Path(section.journal).name + ".limit.json")
        self._kept: dict[str, int] | None = None
        self._restore_limit()
        self.preview = Preview(config.camera.guide) if self.has_camera else None
        counting = config.counting
        shares_camera = counting.source == "camera" and not counting.camera and self.parts.door_frames is None
        # The visitor camera hands its frames over when it is the door camera too.
        self.relay: FrameRelay | None = FrameRelay() if shares_camera else None
        self.door_view = DoorView() if counting.source == "camera" else None
        self.counter = self.parts.counter or self._crossing_source()
        self.uplink: Uplink | None = None
        self._threads: list[threading.Thread] = []
        self._http_sender_made: HttpSender | None = None  # ours to close
        self.kiosk_server: BaseWSGIServer | None = None

    @property
    def kiosk_url(self) -> str:
        """The kiosk's address."""
        if self.kiosk_server is None:
            return ""
        return f"http://{self.config.kiosk.host}:{self.kiosk_server.server_port}/"

    def start(self) -> None:
        """Start every part's thread and the kiosk."""
        config = self.config
        try:
            pins = parse_pins(config.secret(config.kiosk.pin_env))
        except ValueError as err:
            raise ConfigError(f"${config.kiosk.pin_env}: {err}") from None
        app = create_kiosk(
            self.station,
            self.broadcaster,
            pin=pins,
            language=config.station.language,
            time_zone=config.station.time_zone,
            retest_min=config.screening.retest_delay_s / 60,
            alternatives={
                "text": config.alternatives.text,
                "text_en": config.alternatives.text_en,
                "phone": config.alternatives.phone,
                "whatsapp": config.alternatives.whatsapp,
                "link": config.alternatives.link,
            },
            guide=config.camera.guide,
            trusted_hosts=config.kiosk.trusted_hosts(),
            preview=self.preview,
            door_view=self.door_view,
            metrics=self.metrics,
        )
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per kiosk request
        server = make_server(config.kiosk.host, config.kiosk.port, app, threaded=True)
        self.kiosk_server = server
        self._spawn("kiosk", lambda stop: server.serve_forever())
        self._spawn("clock", self._clock_loop)
        if config.thermometer.url:
            self._spawn("thermometer", self._thermometer_loop)
        if self.has_camera:
            self._spawn("camera", self._camera_loop)
        if self.counter is not None:
            self._spawn("counting", self._counting_loop)
        sender = self.parts.sender or self._http_sender()
        if sender is not None:
            self.uplink = Uplink(
                self.journal,
                sender,
                batch_size=config.dashboard.batch_size,
                on_set_aside=self._on_set_aside,
            )
            self._spawn("uplink", self.uplink.run)
            self._spawn("occupancy", self._occupancy_loop)
        for name, target in self.parts.extra_threads:
            self._spawn(name, target)

    def close(self) -> None:
        """Stop every thread and close the journal."""
        self.stop.set()
        if self.kiosk_server is not None:
            self.kiosk_server.shutdown()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._http_sender_made is not None:
            self._http_sender_made.close()
        self.journal.close()

    def _spawn(self, name: str, target: Callable[[threading.Event], None]) -> None:
        def guarded() -> None:
            try:
                target(self.stop)
            except Exception:
                log.exception("the %s part failed", name)
                self.station.device(name, "error", "failed; see the station's log")

        thread = threading.Thread(target=guarded, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # parts ---------------------------------------------------------------------------------------

    def _relay(self) -> Switch | None:
        if not self.config.relay.url:
            return None
        from sensors.relay import BAUD, Relay

        port = SerialPort(self.config.relay.url, baud=BAUD)
        try:
            port.open()
        except PortError as err:
            log.warning("%s; the gate output retries in the background", err)
        return Relay(port, self.config.relay.channel)

    def _http_sender(self) -> Sender | None:
        section = self.config.dashboard
        if not section.url:
            return None
        token = self.config.secret(section.token_env)
        if not token:
            log.warning("no station token in $%s: the dashboard will refuse the uploads", section.token_env)
        self._http_sender_made = HttpSender(section.url, token)
        return self._http_sender_made

    def _thermometer_loop(self, stop: threading.Event) -> None:
        section = self.config.thermometer
        protocol = get_protocol(section.protocol, pattern=section.pattern or None, unit=section.unit)
        port = SerialPort(
            section.url,
            baud=section.baud or protocol.baud,
            on_state=lambda state: self.station.device("thermometer", str(state)),
        )
        try:
            port.open()
        except PortError as err:
            log.warning("%s; retrying in the background", err)
            self.station.device("thermometer", str(PortState.OFFLINE), str(err))
        reader = ThermometerReader(port, protocol)
        try:
            for reading in reader.readings(stop):
                self.station.reading(reading.at, reading.object_c, reading.ambient_c, reading.body_c)
        finally:
            port.close()

    def _camera_loop(self, stop: threading.Event) -> None:
        frames: Frames | None = self.parts.frames
        relay = self.relay
        if frames is None:
            try:
                frames = FrameSource(parse_source(self.config.camera.source), paced=True)
            except CameraError as err:
                log.error("%s", err)
                self.station.device("camera", "offline", str(err))
                if relay is not None:
                    relay.close()
                return
        if relay is not None:
            relay.keep_all = not frames.live  # a file: the door counter sees every frame
        observe = self.parts.observe or self._face_observer()
        try:
            while not stop.is_set():
                frame = frames.read(timeout_s=1.0)
                if frame is None:
                    if not frames.live:
                        self.station.device("camera", "ended", "the video file ended")
                        return
                    continue
                if relay is not None:
                    relay.put(frame)
                self.station.face(observe(frame.image, frame.at))
                if self.preview is not None:
                    self.preview.update(frame.image, self.station.state.light)
        finally:
            frames.close()
            if relay is not None:
                relay.close()

    def _face_observer(self) -> Callable[[np.ndarray, datetime], FaceObservation]:
        from station.vision.faces import FaceDetector
        from station.vision.masks import MaskClassifier, MaskDetector
        from station.vision.models import ModelStore

        section = self.config.camera
        store = ModelStore(Path(section.model_dir)) if section.model_dir else ModelStore()
        detector = FaceDetector(store=store)
        classifier = MaskClassifier(prior=section.mask_prior or None) if section.masks else None
        pipeline = MaskDetector(detector, classifier) if classifier is not None else None

        def observe(image: np.ndarray, at: datetime) -> FaceObservation:
            # With masks checked, what the classifier says is no face (a hand, the back of a head) is dropped.
            found = pipeline.detect(image) if pipeline is not None else None
            faces = [item.face for item in found] if found is not None else detector.detect(image)
            if not faces:
                return FaceObservation(at, False)
            height, width = image.shape[:2]
            index = max(range(len(faces)), key=lambda i: faces[i].width_px)
            face = faces[index]
            x1, y1, x2, y2 = face.box
            left, top, right, bottom = section.guide
            centre_x, centre_y = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
            inside = left <= centre_x <= right and top <= centre_y <= bottom
            in_position = inside and face.width_px >= section.min_face_px
            mask, probabilities = None, None
            if in_position and found is not None:
                verdict = found[index].verdict
                mask, probabilities = Mask(str(verdict.label)), verdict.probabilities
            return FaceObservation(at, True, in_position, mask, probabilities)

        return observe

    def _crossing_source(self) -> CrossingSource | None:
        section = self.config.counting
        if section.source == "beams":
            return BeamCounter(section.beams_url, section.door, self._device_state("beams"))
        if section.source != "camera":
            return None
        door_frames, relay = self.parts.door_frames, self.relay

        def open_frames() -> Frames:
            if door_frames is not None:
                return door_frames
            if relay is not None:
                return relay
            return FrameSource(parse_source(section.camera), paced=True)

        return CameraCounter(
            open_frames,
            door_lines(section),
            self._device_state("door_camera"),
            view=self.door_view,
        )

    def _counting_loop(self, stop: threading.Event) -> None:
        assert self.counter is not None
        for crossing in self.counter.crossings(stop):
            direction = Direction(str(crossing.direction))
            self.station.crossing(direction, str(crossing.line), crossing.source, crossing.at)

    def _on_set_aside(self, event_id: str, reason: str) -> None:
        count = len(self.journal.set_aside())
        detail = f"{count} event(s) refused, kept in the journal; last {event_id}: {reason}"
        self.station.set_aside(count, detail)

    def _device_state(self, name: str) -> Callable[[str, str], None]:
        return lambda state, detail: self.station.device(name, state, detail)

    def _occupancy_loop(self, stop: threading.Event) -> None:
        section = self.config.dashboard
        source = self.parts.occupancy or HttpOccupancy(
            section.url, self.config.station.room, self.config.secret(section.token_env)
        )
        while not stop.wait(section.occupancy_poll_s):
            seq = self.journal.last_seq()
            behind = self.journal.pending_count() > 0  # its count would miss events not yet shipped
            try:
                figures = source.fetch()
            except UplinkError as err:
                log.debug("occupancy: %s", err)
                self.station.device("dashboard", "offline", str(err))
                continue
            # the dashboard's settings win: its limit is taken even while its count is behind ours
            self.station.set_limit(figures.limit_people, figures.capacity_people)
            self._keep_limit(figures.limit_people, figures.capacity_people)
            if not behind:
                self.station.reconcile(figures.occupancy_people, journal_seq=seq)

    def _restore_limit(self) -> None:
        """Take the dashboard's last limit from before a restart (offline, it is all there is)."""
        try:
            kept = json.loads(self._limit_file.read_text(encoding="utf-8"))
            limit_people, capacity_people = int(kept["limit_people"]), int(kept["capacity_people"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning(
                "the kept room limit %s cannot be read (%s); using the configuration's", self._limit_file, err
            )
            return
        self.station.restore_limit(limit_people, capacity_people)
        log.info("room limit %s kept from the dashboard before the restart", limit_people)

    def _keep_limit(self, limit_people: int, capacity_people: int) -> None:
        """Keep the dashboard's limit beside the journal, so a restart without the network has it."""
        kept = {"limit_people": limit_people, "capacity_people": capacity_people}
        if kept == self._kept:
            return
        try:
            temporary = self._limit_file.with_name(self._limit_file.name + ".tmp")
            temporary.write_text(json.dumps(kept), encoding="utf-8")
            temporary.replace(self._limit_file)
            self._kept = kept
        except OSError as err:
            log.warning("cannot keep the room limit in %s: %s", self._limit_file, err)

    def _clock_loop(self, stop: threading.Event) -> None:
        section = self.config.station
        closing = Closing(section.closing_time, ZoneInfo(section.time_zone), datetime.now(UTC))
        last_purge = 0.0
        last_look = 0.0
        while not stop.wait(0.2):
            self.station.tick()
            if time.monotonic() - last_look > 5.0:  # set aside earlier, or sent again with the CLI
                last_look = time.monotonic()
                self.station.set_aside(len(self.journal.set_aside()))
            now = datetime.now(UTC)
            if closing.due(now):
                log.info(
                    "closing time %s %s: counts and queue start again",
                    section.closing_time,
                    zone_name(closing.zone, now),
                )
                self.station.new_day()
            if time.monotonic() - last_purge > 3600:
                last_purge = time.monotonic()
                self.journal.purge(timedelta(days=self.config.station.retention_days))

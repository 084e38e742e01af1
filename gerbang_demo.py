"""``gerbang demo``: the whole product on one machine, on embedded defaults.

A dashboard (SQLite, uvicorn) and a station fed by emulated devices: an infrared thermometer and a
beam-pair door counter on pseudo-terminals, and a synthetic camera showing visitors with and without
masks stepping up. Visitors' faces are photos from ``../shared/datasets/masks`` when that folder is
there (drawn faces otherwise, or when ``GERBANG_DEMO_DRAWN_FACES`` is set); faces are found and
classified by the real models when the face detector is at hand, else the synthetic camera's own
truth stands in for them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import cv2
import numpy as np

if TYPE_CHECKING:
    from sensors.emulators.beams import BeamEmulator
    from sensors.emulators.camera import SyntheticCamera, Visitor
    from station.core import FaceObservation

log = logging.getLogger("gerbang_demo")

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent / "shared"
SITE, ROOM, CAPACITY = "kantor-pusat", "ruang-layanan", 12  # limit 6 at half capacity
USER, PASSWORD, PIN = "demo", "gerbang-demo", "1234"
IDLE_S, VISIT_S = 3.0, 6.0
# Who steps up, in turn: (mask label, skin temperature the sensor sees). Body = skin + 2.5.
VISITORS = [
    ("with_mask", 34.4),
    ("with_mask", 34.1),
    ("without_mask", 34.3),
    ("with_mask", 35.2),  # a fever: re-test ticket
    ("incorrect", 34.2),
    ("with_mask", 34.6),
    ("with_mask", 33.9),
    ("with_mask", 34.5),
]
# People through the door, one every few seconds: the room fills up, then empties.
DOOR = ["in"] * 6 + ["out"] * 6


def run_demo(dashboard_port: int, kiosk_port: int) -> None:
    """Run the demo until Ctrl-C."""
    logging.getLogger("waitress").setLevel(logging.ERROR)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="gerbang-demo-") as folder, contextlib.ExitStack() as stack:
        base = Path(folder)
        dashboard_url, token = stack.enter_context(_dashboard(base, dashboard_port))
        kiosk_url = stack.enter_context(_station(base, dashboard_url, token, kiosk_port))
        click.echo("")
        click.echo(f"  Kiosk (the guard's screen):  {kiosk_url}     guard PIN {PIN}")
        click.echo(f"  Dashboard (supervisors):     {dashboard_url}/     login {USER} / {PASSWORD}")
        click.echo(f"  Data (deleted at the end):   {folder}")
        click.echo("")
        click.echo("Visitors step up every 9 s: masked, no mask, a fever (re-test ticket), a mask below the")
        click.echo(
            "nose; people walk through the door until the room is full and visitors queue. Ctrl-C stops."
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        click.echo("\nstopping...")


@contextlib.contextmanager
def _dashboard(folder: Path, port: int) -> Iterator[tuple[str, str]]:
    import socket
    import time

    from dashboard import create_app
    from dashboard.db import get_engine, new_session
    from dashboard.jobs import Scheduler
    from dashboard.manage import add_room, add_site, add_station, create_user
    from dashboard.migrate import upgrade
    from dashboard.models import Role
    from dashboard.serve import make_server

    os.environ["GERBANG_INSECURE_COOKIES"] = "1"  # the demo serves plain HTTP on this machine
    url = f"sqlite:///{folder / 'dashboard.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16)})
    with new_session(app) as session:
        add_site(
            session, SITE, "Kantor Pusat Dukcapil", address="Jl. Letjen Suprapto, Jakarta Pusat", actor="demo"
        )
        add_room(session, SITE, ROOM, CAPACITY, 0.5, name="Ruang Layanan Adminduk", actor="demo")
        add_room(session, SITE, "ruang-arsip", 8, 0.5, name="Ruang Arsip", actor="demo")
        create_user(session, USER, PASSWORD, Role.ADMIN, locale="id", actor="demo")
        _, token = add_station(session, "loket-1", ROOM, actor="demo")
    scheduler = Scheduler(app)
    scheduler.start()
    # Served as `gerbang dashboard run` serves it: live pages on the event loop, no thread each.
    sock = socket.create_server(("127.0.0.1", port))  # a taken port fails here, as before
    server = make_server(app, threads=16)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", token
    finally:
        scheduler.stop.set()
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
        get_engine(app).dispose()


@contextlib.contextmanager
def _station(folder: Path, dashboard_url: str, token: str, kiosk_port: int) -> Iterator[str]:
    from sensors.emulators.beams import BeamEmulator
    from sensors.emulators.camera import SyntheticCamera
    from sensors.emulators.pty import PtyDevice
    from sensors.emulators.scenario import Scenario, Step, StepKind
    from sensors.emulators.thermometer import ThermometerEmulator
    from station.config import parse
    from station.runner import Parts, Runner

    os.environ["GERBANG_STATION_TOKEN"] = token
    os.environ.setdefault("GERBANG_KIOSK_PIN", f"satpam={PIN}")  # one guard, named by the PIN
    stop = threading.Event()
    steps = []
    for _, skin_c in VISITORS:
        steps += [
            Step(StepKind.IDLE, seconds=IDLE_S),
            Step(StepKind.PERSON, seconds=VISIT_S, object_c=skin_c),
        ]
    thermometer = ThermometerEmulator("gy-mcu90614", Scenario(steps=tuple(steps)), PtyDevice(), baud=9600)
    beams = BeamEmulator(PtyDevice())
    faces, observe = _faces()
    camera = SyntheticCamera(faces, idle_s=IDLE_S, visit_s=VISIT_S)
    config = parse(
        {
            "station": {
                "name": "loket-1",
                "site": SITE,
                "room": ROOM,
                "capacity_people": CAPACITY,
                "journal": str(folder / "station-journal.sqlite3"),
                "closing_time": "23:59",
            },
            "dashboard": {"url": dashboard_url, "occupancy_poll_s": 1.0},
            "thermometer": {"url": thermometer.path, "protocol": "gy-mcu90614"},
            "counting": {"source": "beams", "beams_url": beams.device.path, "door": "pintu-utama"},
            "screening": {"retest_delay_s": 60.0},
            "camera": {"model_dir": str(SHARED / "models") if (SHARED / "models").is_dir() else ""},
            "alternatives": {
                "text": "Layanan Adminduk juga tersedia secara daring.",
                "phone": "021-1500-537",
                "whatsapp": "0811-1500-537",
                "link": "https://dukcapil.example.invalid/daring",
            },
            "kiosk": {"port": kiosk_port},
        }
    )
    parts = Parts(
        frames=camera,
        observe=observe(camera) if observe else None,
        extra_threads=[("door", lambda s: _walk(beams, s))],
    )
    threading.Thread(target=thermometer.run, args=(stop,), name="thermometer emulator", daemon=True).start()
    runner = Runner(config, parts)
    runner.start()
    try:
        yield runner.kiosk_url
    finally:
        stop.set()
        runner.close()
        thermometer.device.close()
        beams.device.close()


def _walk(beams: BeamEmulator, stop: threading.Event) -> None:
    from sensors.crossing import Direction

    beams.boot()
    index = 0
    while not stop.wait(4.5):
        beams.walk(Direction(DOOR[index % len(DOOR)]))
        index += 1


def _faces() -> tuple[list[Visitor], Callable[[SyntheticCamera], Callable] | None]:
    """Pick the visitors' faces; return them and the observer (None: use the real models)."""
    from sensors.emulators.camera import Visitor

    photos = {label: _photos(label) for label in ("with_mask", "without_mask", "incorrect")}
    classify = _classifier()
    chosen: dict[str, list[np.ndarray]] = {}
    for label, images in photos.items():
        good = [image for image in images if classify is None or classify(image) == label]
        chosen[label] = good[:3]
    faces = []
    for index, (label, _) in enumerate(VISITORS):
        pool = chosen.get(label) or []
        faces.append(Visitor(pool[index % len(pool)] if pool else None, label))
    if classify is None or any(face.face is None for face in faces):
        return faces, _truth_observer
    return faces, None


def _photos(label: str) -> list[np.ndarray]:
    prefix = {"with_mask": "rwmfd_", "without_mask": "fmd_", "incorrect": "mfn_"}[label]
    folder = SHARED / "datasets" / "masks" / label
    if os.environ.get("GERBANG_DEMO_DRAWN_FACES"):  # pictures for the README: no one's photo in them
        return []
    paths = sorted(folder.glob(f"{prefix}*.jpg"))[:40] if folder.is_dir() else []
    images = [cv2.imread(str(path)) for path in paths]
    return [image for image in images if image is not None and min(image.shape[:2]) >= 120]


def _classifier() -> Callable[[np.ndarray], str | None] | None:
    """Return image -> label with the real detector and classifier, or None when the model is missing."""
    try:
        from station.vision.faces import FaceDetector
        from station.vision.masks import MaskClassifier
        from station.vision.models import ModelStore

        models = SHARED / "models"
        detector = FaceDetector(store=ModelStore(models) if models.is_dir() else ModelStore())
        classifier = MaskClassifier()
    except Exception as err:  # no model at hand: the demo runs on the camera's truth
        log.warning("face detector unavailable (%s); the demo camera reports its own truth", err)
        return None
    from sensors.emulators.camera import SyntheticCamera, Visitor

    def label_of(image: np.ndarray) -> str | None:
        frame = SyntheticCamera([Visitor(image, "")], clock=lambda: 0.0).render(IDLE_S + VISIT_S / 2)
        faces = detector.detect(frame)
        return str(classifier.classify_faces(frame, faces[:1])[0].label) if faces else None

    return label_of


def _truth_observer(camera: SyntheticCamera) -> Callable[[np.ndarray, datetime], FaceObservation]:
    from station.core import FaceObservation
    from station.events import Mask

    def observe(image: np.ndarray, at: datetime) -> FaceObservation:
        truth = camera.truth()
        mask = Mask(truth.label) if truth.in_position and truth.label else None
        return FaceObservation(at, truth.present, truth.in_position, mask)

    return observe

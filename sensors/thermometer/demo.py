"""The thermometer demo: an emulated device on a pty and the reader printing what it decodes."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import click

from sensors.emulators import scenario
from sensors.emulators.pty import PtyDevice
from sensors.emulators.scenario import Step, StepKind
from sensors.emulators.thermometer import ThermometerEmulator
from sensors.serialport import PortState, SerialPort
from sensors.thermometer.protocols import get_protocol
from sensors.thermometer.reader import ThermometerReader
from sensors.thermometer.reading import Reading

#: A person is in front of the sensor when it reads this much above the background.
PRESENCE_MARGIN_C = 3.0
#: Seconds between two printed lines while nothing changes.
PRINT_EVERY_S = 0.5


def run_demo(protocol_name: str) -> None:
    """Run an emulated thermometer and print its readings live until Ctrl-C."""
    protocol = get_protocol(protocol_name)
    demo_scenario = replace(
        scenario.DEFAULT, steps=(*scenario.DEFAULT.steps, Step(StepKind.UNPLUG, seconds=1.5))
    )
    with tempfile.TemporaryDirectory(prefix="gerbang-demo-") as folder:
        device = PtyDevice(Path(folder) / "ttyUSB-thermometer")
        emulator = ThermometerEmulator(protocol_name, demo_scenario, device, baud=protocol.baud)
        stop = threading.Event()
        worker = threading.Thread(target=emulator.run, args=(stop,), name="emulator", daemon=True)
        click.echo(f"Emulated {protocol.name} thermometer at {device.path} -> {device.device}")
        click.echo("Visitors step up now and then; corrupt frames and garbage are dropped, and the")
        click.echo("cable is pulled once a round to show the reconnection. Ctrl-C stops.")
        port = SerialPort(device.path, baud=protocol.baud, on_state=_say_state)
        port.open()
        worker.start()
        try:
            _print_readings(ThermometerReader(port, protocol), stop)
        except KeyboardInterrupt:
            click.echo("\nstopped")
        finally:
            stop.set()
            worker.join(timeout=2)
            port.close()
            device.close()


def _say_state(state: PortState) -> None:
    if state is PortState.OFFLINE:
        click.echo("                thermometer offline (unplugged); reconnecting...")


def _print_readings(reader: ThermometerReader, stop: threading.Event) -> None:
    background_c: float | None = None
    shown_person: bool | None = None
    last_print = 0.0
    for reading in reader.readings(stop):
        value_c = reading.object_c if reading.object_c is not None else reading.body_c
        if value_c is None:
            continue
        if background_c is None:
            background_c = value_c
        person = value_c - background_c > PRESENCE_MARGIN_C
        if not person:
            background_c = 0.9 * background_c + 0.1 * value_c
        now = time.monotonic()
        if person != shown_person or now - last_print >= PRINT_EVERY_S:
            click.echo(_line(reading, value_c, person))
            shown_person, last_print = person, now


def _line(reading: Reading, value_c: float, person: bool) -> str:
    when = reading.at.astimezone().strftime("%H:%M:%S.%f")[:-3]
    ambient = f"  ambient {reading.ambient_c:5.2f} °C" if reading.ambient_c is not None else ""
    kind = "body" if reading.object_c is None else "object"
    who = "person" if person else "nobody"
    return f"{when}  {who:<7} {kind} {value_c:5.2f} °C{ambient}"

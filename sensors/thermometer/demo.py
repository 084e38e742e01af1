"""The thermometer demo: an emulated device on a pty and the reader printing what it decodes."""

from __future__ import annotations

import threading

import click

from sensors.emulators import scenario
from sensors.emulators.thermometer import ThermometerEmulator
from sensors.serialport import SerialPort
from sensors.thermometer.protocols import get_protocol
from sensors.thermometer.reader import ThermometerReader


def run_demo(protocol_name: str) -> None:
    """Run an emulated thermometer and print its readings live until Ctrl-C."""
    protocol = get_protocol(protocol_name)
    emulator = ThermometerEmulator(protocol_name, scenario.DEFAULT)
    stop = threading.Event()
    worker = threading.Thread(target=emulator.run, args=(stop,), name="emulator", daemon=True)
    worker.start()
    click.echo(f"Emulated {protocol.name} thermometer on {emulator.path} ({protocol.baud} baud).")
    click.echo("People step up now and then; corrupt frames and garbage are dropped. Ctrl-C stops.")
    port = SerialPort(emulator.path, baud=protocol.baud)
    port.open()
    reader = ThermometerReader(port, protocol)
    shown = None
    try:
        for reading in reader.readings(stop):
            value = reading.object_c if reading.object_c is not None else reading.body_c
            person = value is not None and value > 30.0
            if person != shown or person:
                ambient = f"  ambient {reading.ambient_c:5.2f} °C" if reading.ambient_c is not None else ""
                who = "person " if person else "nobody "
                click.echo(f"{reading.at:%H:%M:%S.%f}"[:-3] + f"  {who} {value:5.2f} °C{ambient}")
            shown = person
    except KeyboardInterrupt:
        click.echo("\nstopped")
    finally:
        stop.set()
        port.close()
        worker.join(timeout=2)
        emulator.device.close()

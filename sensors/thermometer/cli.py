"""``gerbang thermometer``: read a thermometer, list protocols, emulate a device."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

import click

from sensors.emulators import scenario as scenarios
from sensors.emulators.pty import PtyDevice
from sensors.emulators.thermometer import ThermometerEmulator, emulated_protocols
from sensors.serialport import PortError, SerialPort
from sensors.thermometer.ascii import PatternError
from sensors.thermometer.protocols import (
    Protocol,
    UnknownProtocolError,
    get_protocol,
    summaries,
)
from sensors.thermometer.reader import ThermometerReader
from sensors.thermometer.reading import Reading


@click.group()
def thermometer() -> None:
    """Infrared thermometers over serial ports."""


@thermometer.command("protocols")
def list_protocols() -> None:
    """List the protocols and their default baud rates."""
    for name, baud, summary in summaries():
        click.echo(f"{name:<20} {baud:>7}  {summary}")


def _protocol(name: str, pattern: str | None, unit: str) -> Protocol:
    try:
        return get_protocol(name, pattern=pattern, unit=unit)
    except (UnknownProtocolError, PatternError) as err:
        raise click.BadParameter(str(err), param_hint="--protocol/--pattern") from None


@thermometer.command("read")
@click.argument("url")
@click.option("--protocol", "protocol_name", required=True, help="Wire protocol (see 'protocols').")
@click.option("--baud", type=click.IntRange(min=50), help="Baud rate [default: the protocol's].")
@click.option("--count", type=click.IntRange(min=1), help="Exit after this many readings.")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Fail when no valid reading arrives for this many seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--pattern", help="ascii protocol: regular expression with named groups object/ambient/body.")
@click.option("--unit", type=click.Choice(["C", "F"], case_sensitive=False), default="C", show_default=True)
def read(
    url: str,
    protocol_name: str,
    baud: int | None,
    count: int | None,
    timeout_s: float,
    as_json: bool,
    pattern: str | None,
    unit: str,
) -> None:
    """Print readings from the thermometer at URL (a device path or any pyserial URL)."""
    protocol = _protocol(protocol_name, pattern, unit)
    port = SerialPort(url, baud=baud or protocol.baud)
    try:
        port.open()
    except PortError as err:
        raise click.ClickException(str(err)) from None
    reader = ThermometerReader(port, protocol)
    printed = 0
    last_valid = time.monotonic()
    try:
        while count is None or printed < count:
            readings = reader.poll()
            now = time.monotonic()
            if readings:
                last_valid = now
            elif now - last_valid > timeout_s:
                raise click.ClickException(
                    f"no valid reading from {url} within {timeout_s:g} s "
                    f"({protocol.name} at {port.baud} baud): check the protocol, baud rate and wiring"
                )
            for reading in readings[: None if count is None else count - printed]:
                click.echo(json.dumps(reading.as_json()) if as_json else _line(reading))
                printed += 1
    except KeyboardInterrupt:
        pass
    finally:
        port.close()


def _line(reading: Reading) -> str:
    parts = [reading.at.isoformat(timespec="milliseconds")]
    for label, value in (
        ("object", reading.object_c),
        ("ambient", reading.ambient_c),
        ("body", reading.body_c),
    ):
        if value is not None:
            parts.append(f"{label} {value:6.2f} °C")
    return "  ".join(parts)


@thermometer.command("emulate")
@click.option(
    "--protocol", "protocol_name", required=True, type=click.Choice(emulated_protocols()), help="Device."
)
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scenario TOML (see config/thermometer-scenario.example.toml) [default: a built-in one].",
)
@click.option(
    "--baud",
    type=click.IntRange(min=50),
    help="The device's baud rate [default: the protocol's]; a host reading at another rate gets garbage.",
)
@click.option(
    "--link",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep a symlink at this path pointing at the device, also after an unplug step.",
)
def emulate(protocol_name: str, scenario_path: Path | None, baud: int | None, link: Path | None) -> None:
    """Emulate a thermometer on a new pseudo-terminal; print its path, run until Ctrl-C."""
    try:
        scenario = scenarios.load(scenario_path) if scenario_path else scenarios.DEFAULT
    except scenarios.ScenarioError as err:
        raise click.ClickException(str(err)) from None
    baud = baud or get_protocol(protocol_name).baud
    device = PtyDevice(link)
    emulator = ThermometerEmulator(
        protocol_name,
        scenario,
        device,
        baud=baud,
        on_replug=lambda path: click.echo(f"replugged: {device.device}", err=True),
    )
    click.echo(device.path)
    click.echo(f"emulating {protocol_name} at {baud} baud on {device.device}; Ctrl-C stops", err=True)
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        emulator.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        device.close()


@thermometer.command("demo")
@click.option(
    "--protocol",
    "protocol_name",
    default="gy-mcu90614",
    show_default=True,
    type=click.Choice(emulated_protocols()),
)
def demo(protocol_name: str) -> None:
    """An emulated thermometer and the reader printing its readings live until Ctrl-C."""
    from sensors.thermometer.demo import run_demo

    run_demo(protocol_name)

"""``gerbang beams``: read a beam-pair door counter, or emulate one on a pseudo-terminal."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

import click

from sensors.beams import DEFAULT_BAUD, BeamDecoder, BeamReader
from sensors.crossing import Crossing
from sensors.emulators.beams import BeamEmulator
from sensors.emulators.pty import PtyDevice
from sensors.serialport import PortError, SerialPort

_INNER = click.Choice(["A", "B"], case_sensitive=False)


@click.group()
def beams() -> None:
    """Beam-pair door counters over serial (protocol gerbang-beams/1)."""


@beams.command("read")
@click.argument("url")
@click.option("--baud", type=click.IntRange(min=50), default=DEFAULT_BAUD, show_default=True)
@click.option(
    "--inner-beam", type=_INNER, default="B", show_default=True, help="The beam on the room's side."
)
@click.option("--line", "line_name", default="0", show_default=True, help="The door's index or name.")
@click.option("--count", type=click.IntRange(min=1), help="Exit after this many crossings.")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Fail when no valid line (not even a heartbeat) arrives for this many seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def read(
    url: str,
    baud: int,
    inner_beam: str,
    line_name: str,
    count: int | None,
    timeout_s: float,
    as_json: bool,
) -> None:
    """Print crossings from the beam counter at URL (a device path or any pyserial URL)."""
    line: int | str = int(line_name) if line_name.isdigit() else line_name
    port = SerialPort(url, baud=baud)
    try:
        port.open()
    except PortError as err:
        raise click.ClickException(str(err)) from None
    reader = BeamReader(port, BeamDecoder(inner_beam=inner_beam, line=line), stale_s=timeout_s)
    printed = 0
    try:
        while count is None or printed < count:
            crossings = reader.poll()
            if reader.stale:
                raise click.ClickException(
                    f"no valid gerbang-beams line from {url} within {timeout_s:g} s at {baud} baud: "
                    "check the baud rate and wiring"
                )
            for crossing in crossings[: None if count is None else count - printed]:
                click.echo(json.dumps(crossing.as_json()) if as_json else _line(crossing))
                printed += 1
    except KeyboardInterrupt:
        pass
    finally:
        port.close()


def _line(crossing: Crossing) -> str:
    return f"{crossing.at.isoformat(timespec='milliseconds')}  line {crossing.line}  {crossing.direction}"


@beams.command("emulate")
@click.option(
    "--inner-beam", type=_INNER, default="B", show_default=True, help="The beam on the room's side."
)
@click.option(
    "--people-per-min", type=click.FloatRange(min=0, min_open=True), default=12.0, show_default=True
)
@click.option("--seed", type=int, help="Seed for a repeatable stream of people.")
@click.option(
    "--link",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep a symlink at this path pointing at the device.",
)
def emulate(inner_beam: str, people_per_min: float, seed: int | None, link: Path | None) -> None:
    """Emulate a beam counter on a new pseudo-terminal; print its path, run until Ctrl-C."""
    device = PtyDevice(link)
    emulator = BeamEmulator(device, inner_beam=inner_beam)
    click.echo(device.path)
    click.echo(f"emulating gerbang-beams/1 on {device.device}; Ctrl-C stops", err=True)
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    time.sleep(0.2)  # let a reader that starts with us open the port before the banner
    try:
        emulator.run(stop, people_per_min=people_per_min, seed=seed)
    except KeyboardInterrupt:
        pass
    finally:
        device.close()

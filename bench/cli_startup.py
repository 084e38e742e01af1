"""How fast the ``gerbang`` command answers: medians of 10 runs, beside ``python -c pass``.

Every figure is a fresh process (the interpreter's start included), measured in the same run:

- ``python -c pass``: the floor, what any Python command pays;
- ``gerbang --help`` and ``gerbang thermometer protocols``: lazy commands, none imports Flask,
  SQLAlchemy or OpenCV (the target: under 0.3 s on a 2-core machine);
- ``gerbang dashboard --help``: the dashboard's group loaded (Flask, SQLAlchemy), for comparison.

Usage: ``.venv/bin/python bench/cli_startup.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

GERBANG = str(Path(sys.executable).with_name("gerbang"))
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "gerbang --help": [GERBANG, "--help"],
    "gerbang thermometer protocols": [GERBANG, "thermometer", "protocols"],
    "gerbang dashboard --help": [GERBANG, "dashboard", "--help"],
}
TARGET_S = 0.3


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    for command in CASES.values():  # warm the file cache once
        seconds(command)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):  # interleaved, so a busy moment hits every case alike
        for name, command in CASES.items():
            times[name].append(seconds(command))
    floor_s = statistics.median(times["python -c pass"])
    print(f"{'command':<32} {'median s':>9} {'min s':>7} {'over python':>12}  (runs: {runs})")
    for name, measured in times.items():
        median_s = statistics.median(measured)
        print(f"{name:<32} {median_s:9.3f} {min(measured):7.3f} {median_s - floor_s:+12.3f}")
    slow = [
        n
        for n in ("gerbang --help", "gerbang thermometer protocols")
        if statistics.median(times[n]) >= TARGET_S
    ]
    print(f"target: under {TARGET_S} s for gerbang --help and device commands:", "missed" if slow else "met")


if __name__ == "__main__":
    main()

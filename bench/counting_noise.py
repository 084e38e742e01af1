"""How much door counts move when the picture changes by what no eye can see.

Each truth's clip is counted as-is, then again several times with every frame's exposure scaled by a random
gain within ±``amplitude`` (0.5 % by default: less than one grey level in most pixels, less than any camera's
own noise), a different random sequence each time. A counter that holds on real cameras must give about
the same count each time; the spread is the part of a measured error that is luck, and the mean over the
replicas is the figure to compare methods and settings by (one run on the clip's exact bytes is one draw).
Replica ``r``'s gains are the same for every truth and every setting, so two settings are compared on the
same noise.

Prints, per truth and method, the count and errors as-is and in each replica, and the errors' mean; then the
totals; then the installer's calibration under the same noise: each pair's first clip counted (learnt) gives
one person's area, its flow over its crossings counted by eye, and the second clip is counted with it.

Usage: ``.venv/bin/python bench/counting_noise.py [--replicas 3] [--amplitude 0.005] [--jobs 2]
[--method flux|tracks ...] [TRUTH ...]`` (naming train_door_ex02 and train_door_ex03 prints their pair too).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from counting_light import Alteration, count  # noqa: E402
from door_truths import VIDEOS, errors, load_truths  # noqa: E402

from station.counting import Method  # noqa: E402


def noise(amplitude: float, replica: int) -> Alteration:
    """Replica ``replica``'s gain per frame (replica 0: the clip as it is)."""
    if replica == 0:
        return lambda i: (1.0, 0.0)

    def gain(i: int) -> tuple[float, float]:
        draw = float(np.random.default_rng((replica, i)).random())
        return (1.0 + amplitude * (2.0 * draw - 1.0), 0.0)

    return gain


def run(job: tuple[str, Method, float, int]) -> tuple[str, Method, int, int, int, int]:
    """Count one truth with one method in one replica: (name, method, replica, in, out, errors)."""
    name, method, amplitude, replica = job
    truth = load_truths()[name]
    result = count(truth, noise(amplitude, replica), method)
    return name, method, replica, result.in_count, result.out_count, errors(result, truth)


#: (calibrated on, counted with it): boarding crowds at the same door, as in the calibration test.
PAIRS = (("train_door_ex03", "train_door_ex02"), ("train_door_ex02", "train_door_ex03"))


def run_pair(job: tuple[str, str, float, int]) -> tuple[str, str, int, int, int, int]:
    """Calibrate on one truth and count another in one replica: (known, counted, replica, in, out, errors)."""
    known_name, name, amplitude, replica = job
    truths = load_truths()
    known, truth = truths[known_name], truths[name]
    flow_px = count(known, noise(amplitude, replica)).lines[0].flow_px or 0.0
    person_area_px = max(1.0, flow_px / (known["in"] + known["out"]))
    result = count(truth, noise(amplitude, replica), person_area_px=person_area_px)
    return known_name, name, replica, result.in_count, result.out_count, errors(result, truth)


def main() -> None:
    """Print the table for the truths asked for (every truth by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=3, help="noisy replicas besides the clip as-is")
    parser.add_argument("--amplitude", type=float, default=0.005, help="largest gain change per frame")
    parser.add_argument("--jobs", type=int, default=2, help="clips counted at once")
    parser.add_argument("--method", choices=[m.value for m in Method], action="append", help="default: both")
    parser.add_argument("truths", nargs="*", help="truth names (default: every truth)")
    args = parser.parse_args()
    if args.replicas < 1 or args.jobs < 1:
        parser.error("--replicas and --jobs must be at least 1")
    truths = load_truths()
    unknown = [name for name in args.truths if name not in truths]
    if unknown:
        parser.error(f"no truth named {', '.join(unknown)} (known: {', '.join(truths)})")
    names = []
    for name in dict.fromkeys(args.truths or truths):
        if (VIDEOS / truths[name]["clip"]).is_file():
            names.append(name)
        else:
            print(f"{name}: no {truths[name]['clip']} in {VIDEOS}")
    methods = list(dict.fromkeys(Method(m) for m in args.method)) if args.method else list(Method)
    jobs = [(n, m, args.amplitude, r) for n in names for m in methods for r in range(args.replicas + 1)]
    pairs = [pair for pair in PAIRS if Method.FLUX in methods and set(pair) <= set(names)]
    pair_jobs = [(a, b, args.amplitude, r) for a, b in pairs for r in range(args.replicas + 1)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run, jobs))
        pair_results = list(pool.map(run_pair, pair_jobs))
    found = {(n, m, r): (i, o, e) for n, m, r, i, o, e in results}
    print(f"gain noise ±{args.amplitude:.1%} per frame, {args.replicas} replicas: in/out (errors)")
    print(
        f"{'truth':<24} {'method':<7} {'truth':<8}{'as-is':>13}"
        + "".join(f"{'noisy ' + str(r):>13}" for r in range(1, args.replicas + 1))
        + "   mean"
    )
    totals = {(m, r): 0 for m in methods for r in range(args.replicas + 1)}
    for name in names:
        truth = truths[name]
        for method in methods:
            row = f"{name:<24} {method.value:<7} {truth['in']:>3}/{truth['out']:<3} "
            wrong = []
            for replica in range(args.replicas + 1):
                in_count, out_count, error = found[(name, method, replica)]
                totals[(method, replica)] += error
                wrong.append(error)
                row += f" {in_count:>3}/{out_count:<3}({error:>3})"
            row += f"  {statistics.mean(wrong[1:]):5.1f}"
            print(row)
    for method in methods:
        cells = [totals[(method, r)] for r in range(args.replicas + 1)]
        noisy = cells[1:]
        print(
            f"total errors, {method.value}: as-is {cells[0]}, noisy {cells[1:]},"
            f" mean {statistics.mean(noisy):.1f}"
        )

    found_pairs = {(a, b, r): (i, o, e) for a, b, r, i, o, e in pair_results}
    for known_name, name in pairs:
        label = f"{name} with {known_name}'s area"
        row = f"{label:<48}"
        wrong = []
        for replica in range(args.replicas + 1):
            in_count, out_count, error = found_pairs[(known_name, name, replica)]
            wrong.append(error)
            row += f" {in_count:>3}/{out_count:<3}({error:>3})"
        print(row + f"  mean {statistics.mean(wrong[1:]):.1f}")


if __name__ == "__main__":
    main()

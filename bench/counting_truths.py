"""Door counting on real footage: each truth made by looking, counted by both methods.

Prints, per clip of ``../shared/datasets/video`` with a truth in ``tests/station/truths``: the truth's
in/out, what ``flux`` (the default) and ``tracks`` count, and their errors (|in - truth| + |out - truth|).

Usage: ``.venv/bin/python bench/counting_truths.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from door_truths import VIDEOS, count_truth, errors, load_truths  # noqa: E402

from station.counting import Method  # noqa: E402


def main() -> None:
    header = f"{'truth':<24} {'crossings':>9} {'truth in/out':>12} {'flux':>9} {'err':>4} "
    header += f"{'tracks':>9} {'err':>4}"
    print(header)
    print("-" * len(header))
    totals = {Method.FLUX: 0, Method.TRACKS: 0}
    for name, truth in load_truths().items():
        if not (VIDEOS / truth["clip"]).is_file():
            print(f"{name:<24} (no {truth['clip']} in {VIDEOS})")
            continue
        row = f"{name:<24} {len(truth['crossings']):>9} {truth['in']:>5} / {truth['out']:<4}"
        for method in (Method.FLUX, Method.TRACKS):
            result = count_truth(truth, method)
            totals[method] += errors(result, truth)
            row += f" {result.in_count:>4} / {result.out_count:<3} {errors(result, truth):>3}"
        print(row + ("   (known weakness)" if truth["tolerance"] is None else ""))
    print(f"total errors: flux {totals[Method.FLUX]}, tracks {totals[Method.TRACKS]}")


if __name__ == "__main__":
    main()

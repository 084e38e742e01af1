"""Door counting on real footage against truths made by looking (``truths/*.json``).

The clips live in ``../shared/datasets/video`` (never in the repository); without them these tests are
skipped. Each truth states its tolerance (in + out errors) beside the counts: what the method achieves
today with a little room, so a change that makes counting worse on real footage fails here.
``bench/counting_truths.py`` prints the same figures for both methods.
"""

from __future__ import annotations

import pytest
from door_truths import VIDEOS, count_truth, errors, load_truths

from station.vision.crossings import DoorLine

TRUTHS = load_truths()


def test_every_truth_is_consistent() -> None:
    # counts, crossings and in-point agree within each file; how it was made is written down
    assert len(TRUTHS) >= 4
    for name, truth in TRUTHS.items():
        directions = [crossing["direction"] for crossing in truth["crossings"]]
        assert (directions.count("in"), directions.count("out")) == (truth["in"], truth["out"]), name
        assert [c["frame"] for c in truth["crossings"]] == sorted(c["frame"] for c in truth["crossings"])
        x1, y1, x2, y2 = truth["line"]
        DoorLine((x1, y1), (x2, y2), tuple(truth["in_point"]))  # a valid line with a room side
        assert "twice" in truth["how"], name


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    # a truth without a tolerance is a known weakness the bench reports, not a promise (see its "how")
    [name for name, truth in TRUTHS.items() if truth["tolerance"] is not None],
)
def test_counts_on_real_footage_are_within_the_stated_tolerance(name: str) -> None:
    truth = TRUTHS[name]
    if not (VIDEOS / truth["clip"]).is_file():
        pytest.skip(f"{VIDEOS / truth['clip']} is not here (the shared data sets lie beside the repository)")
    result = count_truth(truth)
    assert errors(result, truth) <= truth["tolerance"], (
        f"counted {result.in_count} in, {result.out_count} out; truth {truth['in']} in, {truth['out']} out"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("calibration", "counted", "tolerance"),
    [
        # boarding crowds at the same door: the one that is never empty (35 errors learnt) counts with
        # the area measured on the other (4 errors), and the other way round (2 errors, 5 learnt)
        ("train_door_ex03", "train_door_ex02", 5),
        ("train_door_ex02", "train_door_ex03", 3),
    ],
)
def test_a_door_calibrated_on_one_clip_counts_another_of_the_same_traffic(
    calibration: str, counted: str, tolerance: int
) -> None:
    # the installer's procedure: replay a clip counted by eye, person_area_px = its flow / its crossings
    for name in (calibration, counted):
        if not (VIDEOS / TRUTHS[name]["clip"]).is_file():
            pytest.skip(f"{VIDEOS / TRUTHS[name]['clip']} is not here")
    known = TRUTHS[calibration]
    flow_px = count_truth(known).lines[0].flow_px
    assert flow_px is not None
    person_area_px = flow_px / (known["in"] + known["out"])
    truth = TRUTHS[counted]
    result = count_truth(truth, person_area_px=person_area_px)
    assert errors(result, truth) <= tolerance, f"counted {result.in_count} in, {result.out_count} out"
    assert errors(result, truth) < errors(count_truth(truth), truth)  # better than learning it

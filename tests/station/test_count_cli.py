from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner
from door_scenes import FPS, HEIGHT, WIDTH, Scene, Walker, walk

from station.count_cli import count

FIXTURE_FRAMES = 150


@pytest.fixture(scope="module")
def door_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six seconds of 768x432: one person walks in through the middle, another out on the right."""
    path = tmp_path_factory.mktemp("video") / "door.mp4"
    scene = Scene(
        (
            Walker(walk((300, 460), (300, -30), start_s=1.0)),
            Walker(walk((560, -30), (560, 460), start_s=1.5), colour=(160, 60, 40)),
        ),
        FIXTURE_FRAMES / FPS,
    )
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for image in scene.frames():
        writer.write(image)
    writer.release()
    return path


def _summary(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_json_summary_is_the_last_line(door_video: Path) -> None:
    args = [str(door_video), "--line", "64,216,704,216", "--in-point", "384,60"]
    result = CliRunner().invoke(count, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = _summary(result.stdout)
    assert set(summary) == {"in", "out", "frames", "fps", "lines"}
    assert (summary["in"], summary["out"], summary["frames"]) == (1, 1, FIXTURE_FRAMES)
    (line,) = summary["lines"]
    assert set(line) == {"in", "out", "flow_px", "person_area_px", "person_area_from", "lone_crossers"}
    # each walker crossed alone: two lone crossers, too few to call the area learnt
    assert (line["person_area_from"], line["lone_crossers"]) == ("lone_crossers", 2)
    assert "a guess from 2 lone crossers" in CliRunner().invoke(count, args).stdout
    # what the line measured, for an installer's calibration: the two walkers' flow, one person's area
    assert line["flow_px"] > 0
    assert 0.5 * line["flow_px"] / 2 < line["person_area_px"] < 2 * line["flow_px"] / 2
    events = [json.loads(line) for line in result.stdout.strip().splitlines()[:-1]]
    assert sorted(e["direction"] for e in events) == ["in", "out"]
    assert "frame" in result.stderr  # progress


def test_several_lines_are_reported_in_order_with_totals(door_video: Path) -> None:
    args = [str(door_video), "--json"]
    args += ["--line", "100,216,430,216", "--in-point", "300,60"]  # the left half: the person going in
    args += ["--line", "430,216,740,216", "--in-point", "600,60"]  # the right half: the person going out
    args += ["--line", "760,0,760,432", "--in-point", "700,200"]  # nobody crosses this one
    result = CliRunner().invoke(count, args)
    assert result.exit_code == 0, result.output
    summary = _summary(result.stdout)
    assert [(line["in"], line["out"]) for line in summary["lines"]] == [(1, 0), (0, 1), (0, 0)]
    assert summary["lines"][2]["flow_px"] == 0
    assert (summary["in"], summary["out"]) == (1, 1)


@pytest.mark.parametrize(
    ("share", "people"),
    [
        # half of it: each walker's flow is two people's
        (1 / 2, 2),
        # a third of it: each walker's flow is three people's (the given area is used, not learnt)
        (1 / 3, 3),
    ],
)
def test_a_given_person_area_replaces_the_learnt_one(door_video: Path, share: float, people: int) -> None:
    args = [str(door_video), "--line", "64,216,704,216", "--in-point", "384,60"]
    learnt = _summary(CliRunner().invoke(count, [*args, "--json"]).stdout)["lines"][0]["person_area_px"]
    given_px = round(share * learnt)
    result = CliRunner().invoke(count, [*args, "--person-area-px", str(given_px)])
    assert result.exit_code == 0, result.output
    assert f"line 0: in {people}  out {people}" in result.stdout
    assert f"one person {given_px:,} px, given" in result.stdout


def test_the_summary_has_the_same_shape_with_the_tracks_method(door_video: Path) -> None:
    # tracks measure no flow: the keys are there, empty, so tools read one shape
    args = [
        str(door_video),
        "--line",
        "64,216,704,216",
        "--in-point",
        "384,60",
        "--json",
        "--method",
        "tracks",
    ]
    summary = _summary(CliRunner().invoke(count, args).stdout)
    assert summary["lines"] == [
        {
            "in": 1,
            "out": 1,
            "flow_px": None,
            "person_area_px": None,
            "person_area_from": None,
            "lone_crossers": None,
        }
    ]


def test_annotate_writes_every_frame(door_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "annotated.mp4"
    args = [str(door_video), "--line", "64,216,704,216", "--in-point", "384,60", "--annotate", str(out)]
    result = CliRunner().invoke(count, args)
    assert result.exit_code == 0, result.output
    assert "total: in 1  out 1" in result.stdout
    capture = cv2.VideoCapture(str(out))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == FIXTURE_FRAMES


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # Three numbers for a line.
        (["--line", "1,2,3", "--in-point", "5,5"], "expected 4 numbers"),
        # Not numbers at all.
        (["--line", "a,b,c,d", "--in-point", "5,5"], "expected 4 numbers"),
        # A line without its in-point.
        (["--line", "0,0,10,0", "--in-point", "5,5", "--line", "0,9,10,9"], "needs its own --in-point"),
        # A zero-length line.
        (["--line", "5,5,5,5", "--in-point", "0,0"], "same point"),
        # An in-point on the line.
        (["--line", "0,0,10,0", "--in-point", "20,0"], "lies on the line"),
        # No line at all.
        ([], "give at least one line"),
    ],
)
def test_bad_lines_get_one_clear_line(door_video: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(count, [str(door_video), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_file_gets_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        count, [str(tmp_path / "nope.mp4"), "--line", "0,0,10,0", "--in-point", "5,5"]
    )
    assert result.exit_code == 1
    assert "no such video file" in result.stderr


def test_preview_draws_the_lines_on_one_frame_and_counts_nothing(door_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "lines.png"
    args = [str(door_video), "--line", "64,216,704,216", "--in-point", "384,60", "--door", "pintu-utama"]
    result = CliRunner().invoke(count, [*args, "--preview", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 768x432, 1 line(s)" in result.stdout
    assert "line 0" not in result.stdout  # no counting
    image = cv2.imread(str(out))
    assert image.shape == (432, 768, 3)
    first = cv2.VideoCapture(str(door_video)).read()[1]
    # the line is drawn in yellow across the middle, and nothing far from the lines changed
    assert tuple(int(v) for v in image[216, 200]) == (0, 220, 255)
    assert abs(image[400, 30].astype(int) - first[400, 30].astype(int)).max() <= 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # one --door for two lines
        (["--line", "0,300,768,300", "--in-point", "384,400", "--door", "a"], "a --door for every --line"),
        # one --person-area-px for two lines
        (
            ["--line", "0,300,768,300", "--in-point", "384,400", "--person-area-px", "900"],
            "a --person-area-px for every --line",
        ),
        # no person has an area of 0
        (["--person-area-px", "0"], "Invalid value for '--person-area-px'"),
        # not a number
        (["--person-area-px", "nan"], "expected a number of pixels"),
        # the tracks method has no areas to use it for
        (["--method", "tracks", "--person-area-px", "900"], "one person's area is for --method flux"),
        # a preview into a folder that does not exist
        (["--preview", "/nonexistent/dir/lines.png"], "no such directory"),
    ],
)
def test_bad_preview_and_door_options_get_one_clear_line(
    door_video: Path, extra: list[str], message: str
) -> None:
    args = [str(door_video), "--line", "64,216,704,216", "--in-point", "384,60", *extra]
    result = CliRunner().invoke(count, args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    "method",
    [
        "flux",  # the area through the line (the default)
        "tracks",  # tracked centres crossing it
    ],
)
def test_both_methods_count_the_door(door_video: Path, method: str) -> None:
    args = [str(door_video), "--line", "64,216,704,216", "--in-point", "384,60", "--json", "--method", method]
    result = CliRunner().invoke(count, args)
    assert result.exit_code == 0, result.output
    summary = _summary(result.stdout)
    assert (summary["in"], summary["out"]) == (1, 1)

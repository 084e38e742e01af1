"""``gerbang count``: count people crossing door lines in a video file, a camera or a stream."""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path

import click
import cv2

from sensors.camera import CameraError, FrameSource, parse_source
from sensors.crossing import Crossing
from station.counting import Method, count_source
from station.vision.annotate import AnnotationError, VideoOut, draw_lines
from station.vision.crossings import DoorLine
from station.vision.sizes import SizeSettings
from station.vision.tracking import TrackerSettings


def _numbers(text: str, count: int, option: str, example: str) -> tuple[float, ...]:
    parts = text.replace(" ", "").split(",")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise click.BadParameter(f"expected {count} numbers like {example}, got {text!r}", param_hint=option)
    return values


def parse_lines(
    lines: tuple[str, ...],
    in_points: tuple[str, ...],
    band_px: float,
    doors: tuple[str, ...] = (),
    person_areas_px: tuple[float, ...] = (),
) -> list[DoorLine]:
    """Pair each ``--line x1,y1,x2,y2`` with its ``--in-point x,y`` into door lines.

    Each line also takes its ``--door NAME`` and ``--person-area-px N``, when those are given.

    Raises:
        click.BadParameter: A malformed value, unpaired options, a zero-length line, or an in-point on
            its line.
    """
    if not lines:
        raise click.BadParameter("give at least one line", param_hint="--line")
    if len(lines) != len(in_points):
        raise click.BadParameter(
            f"each --line needs its own --in-point: got {len(lines)} lines and {len(in_points)} in-points",
            param_hint="--in-point",
        )
    if doors and len(doors) != len(lines):
        raise click.BadParameter(
            f"give a --door for every --line or none: got {len(lines)} lines and {len(doors)} doors",
            param_hint="--door",
        )
    if person_areas_px and len(person_areas_px) != len(lines):
        raise click.BadParameter(
            f"give a --person-area-px for every --line or none: got {len(lines)} lines and "
            f"{len(person_areas_px)} areas",
            param_hint="--person-area-px",
        )
    if not all(math.isfinite(area) for area in person_areas_px):
        raise click.BadParameter("expected a number of pixels like 1660", param_hint="--person-area-px")
    door_lines = []
    for index, (line_text, point_text) in enumerate(zip(lines, in_points, strict=True)):
        x1, y1, x2, y2 = _numbers(line_text, 4, "--line", "100,200,500,200")
        px, py = _numbers(point_text, 2, "--in-point", "300,80")
        try:
            name = doors[index] if doors else index
            area = person_areas_px[index] if person_areas_px else None
            door_lines.append(
                DoorLine((x1, y1), (x2, y2), (px, py), band_px=band_px, name=name, person_area_px=area)
            )
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--line/--in-point") from None
    return door_lines


def _write_preview(frames: FrameSource, door_lines: list[DoorLine], path: Path) -> None:
    """Write the source's first frame with the lines drawn to ``path``."""
    try:
        frame = frames.read(timeout_s=10.0)
    finally:
        frames.close()
    if frame is None:
        raise click.ClickException(f"no frame came from {frames.source!r}")
    if not cv2.imwrite(str(path), draw_lines(frame.image, door_lines)):
        raise click.ClickException(f"cannot write {path} (use a .png or .jpg name)")
    height, width = frame.image.shape[:2]
    click.echo(f"wrote {path}: {width}x{height}, {len(door_lines)} line(s)")


def default_band_px(frame_size: tuple[int, int]) -> float:
    """The hysteresis band for a frame size: 1.5 % of its diagonal, at least 4 pixels."""
    return max(4.0, 0.015 * math.hypot(*frame_size))


@click.command("count")
@click.argument("source")
@click.option("--line", "lines", multiple=True, metavar="X1,Y1,X2,Y2", help="A door line in source pixels.")
@click.option(
    "--in-point",
    "in_points",
    multiple=True,
    metavar="X,Y",
    help="A point on the room's side of the line given before it; one per --line.",
)
@click.option(
    "--door",
    "doors",
    multiple=True,
    metavar="NAME",
    help="The door a --line watches (drawn and reported as the crossings' line); one per --line.",
)
@click.option(
    "--person-area-px",
    "person_areas_px",
    multiple=True,
    type=click.FloatRange(min=1, max=10_000_000),
    metavar="N",
    help="One person's area of flow through a --line, one per --line: that line's flow_px from a "
    "recorded clip over the crossings you counted in it by eye [default: learnt from lone crossers].",
)
@click.option(
    "--band-px",
    type=click.FloatRange(min=0),
    help="Hysteresis: how far past a line a person must be to count [default: 1.5% of the frame diagonal].",
)
@click.option(
    "--annotate",
    "annotate_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="OUT.mp4",
    help="Write the video with lines, tracks and counts drawn.",
)
@click.option(
    "--preview",
    "preview_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="OUT.png",
    help="Write one frame with the lines, their in sides and door names drawn, then stop (no counting).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Crossings as JSON lines; the last line is the summary."
)
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
@click.option(
    "--method",
    type=click.Choice([str(m) for m in Method]),
    default=str(Method.FLUX),
    show_default=True,
    help="flux: the area flowing through each line (crowds, people who stop, groups); "
    "tracks: tracked centres crossing it (for comparison).",
)
@click.option(
    "--count-groups",
    is_flag=True,
    help="With --method tracks: count a blob twice the usual size of one person as two (doors where "
    "people walk abreast; where they queue, it over-counts). The flux method always counts by area.",
)
def count(
    source: str,
    lines: tuple[str, ...],
    in_points: tuple[str, ...],
    doors: tuple[str, ...],
    person_areas_px: tuple[float, ...],
    band_px: float | None,
    annotate_path: Path | None,
    preview_path: Path | None,
    as_json: bool,
    max_frames: int | None,
    method: str,
    count_groups: bool,
) -> None:
    """Count people crossing door lines in SOURCE: a video file, a camera index (0) or an RTSP/HTTP URL.

    Each --line is two points in the video's pixels; the --in-point after it names the room's side, so
    lines of any orientation work. Files are read to their end with progress on stderr; live sources run
    until Ctrl-C. Prints each crossing, then the totals. --preview writes one frame with the lines
    drawn instead, to check them before a day of counting.
    """
    parse_lines(lines, in_points, band_px or 0.0, doors, person_areas_px)  # fail before opening anything
    if person_areas_px and Method(method) is not Method.FLUX:
        raise click.BadParameter("one person's area is for --method flux", param_hint="--person-area-px")
    if preview_path is not None and not preview_path.parent.is_dir():
        raise click.BadParameter(f"no such directory {preview_path.parent}", param_hint="--preview")
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # our own message says it once
    try:
        frames = FrameSource(parse_source(source))
    except CameraError as err:
        raise click.ClickException(str(err)) from None
    width, height = frames.frame_size
    if band_px is None:
        band_px = default_band_px((width, height)) if width and height else 8.0
    door_lines = parse_lines(lines, in_points, band_px, doors, person_areas_px)
    if width and height:
        for line in door_lines:
            if not all(0 <= x <= width and 0 <= y <= height for x, y in (line.start, line.end)):
                click.echo(f"warning: line {line.name} reaches outside the {width}x{height} frame", err=True)
    if preview_path is not None:
        _write_preview(frames, door_lines, preview_path)
        return
    video_out = None
    if annotate_path is not None:
        try:
            video_out = VideoOut(annotate_path, frames.fps, (width, height))
        except AnnotationError as err:
            frames.close()
            raise click.ClickException(str(err)) from None
    if frames.live:  # Ctrl-C or a service stop ends counting with the totals printed
        signal.signal(signal.SIGINT, lambda *_: frames.stop())
        signal.signal(signal.SIGTERM, lambda *_: frames.stop())

    def on_crossing(crossing: Crossing) -> None:
        if as_json:
            click.echo(json.dumps(crossing.as_json()))
        else:
            click.echo(
                f"{crossing.at.isoformat(timespec='milliseconds')}  line {crossing.line}  "
                f"{crossing.direction:<3}"
                + ("" if crossing.track_id is None else f"  track {crossing.track_id}")
            )

    def on_progress(done: int, fps: float) -> None:
        if frames.live:
            return
        total = (
            f"/{frames.frame_count} ({100 * done / frames.frame_count:.0f}%)" if frames.frame_count else ""
        )
        click.echo(f"\rframe {done}{total}  {fps:.0f} fps", err=True, nl=False)

    try:
        result = count_source(
            frames,
            door_lines,
            annotate=video_out,
            on_crossing=on_crossing,
            on_progress=on_progress,
            max_frames=max_frames,
            tracking=TrackerSettings(sizes=SizeSettings(max_people=2)) if count_groups else None,
            method=Method(method),
        )
    except KeyboardInterrupt:
        result = None
    finally:
        frames.close()
        if video_out is not None:
            video_out.close()
    if not frames.live:
        click.echo("", err=True)
    if result is None:
        return
    if as_json:
        click.echo(json.dumps(result.as_json()))
        return
    for line, totals in zip(door_lines, result.lines, strict=True):
        click.echo(f"line {line.name}: in {totals.in_count}  out {totals.out_count}{totals.text()}")
    click.echo(
        f"total: in {result.in_count}  out {result.out_count}  ({result.frames} frames, {result.fps:.0f} fps)"
    )

"""Server-rendered charts: a robust y axis, two layouts (wide and phone), readable labels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from dashboard import charts

START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # local midnight in Jakarta
END = START + timedelta(days=1)


@pytest.mark.parametrize(
    ("values", "floor", "top"),
    [
        # nothing yet: the limit and some headroom
        ([], 6, 8),
        # ordinary counts under the limit
        ([1, 2, 3, 4], 6, 8),
        # one typo (a count set to 999) does not move the axis
        ([1, 2, 3, 4, 999], 6, 8),
        # a real crowd past the limit does
        ([2, 4, 8, 12, 14, 15], 6, 20),
        # a quiet day with one busy hour: the empty hours do not make it an outlier
        ([0] * 23 + [7], 1, 8),
        # large counts get round steps
        ([120, 340, 360], 1, 400),
    ],
)
def test_robust_top(values: list[float], floor: float, top: float) -> None:
    assert charts.robust_top(values, floor) == top


def points(*values: int) -> list[tuple[datetime, int]]:
    return [(START + timedelta(hours=8, minutes=10 * n), value) for n, value in enumerate(values)]


def y_labels(svg: str) -> list[str]:
    return re.findall(r'text-anchor="end">(\d+)</text>', svg)


def test_a_typo_is_drawn_clipped_and_keeps_the_scale() -> None:
    plain = charts.occupancy_curve(points(1, 2, 3), START, END, 5, 4.0, title="t")
    typo = charts.occupancy_curve(points(1, 2, 3, 999), START, END, 5, 4.0, title="t")
    assert y_labels(typo) == y_labels(plain)
    assert "↑999" in typo
    assert "↑" not in plain


def test_each_chart_has_a_wide_and_a_phone_layout_with_readable_labels() -> None:
    svg = charts.bar_chart(
        [f"{hour:02d}" for hour in range(24)],
        [charts.Bars("in", "bar-in", [hour % 5 for hour in range(24)])],
        title="per hour",
        shares=[charts.Shares("fever", "share-fever", [None, *[0.1] * 23])],
    )
    boxes = re.findall(
        r'<svg class="(chart(?: narrow)? bars)" viewBox="0 0 (\d+) (\d+)"[^>]*font-size="(\d+)"', svg
    )
    assert [(css, width) for css, width, _height, _font in boxes] == [
        ("chart bars", "960"),
        ("chart narrow bars", "420"),
    ]
    # rendered 100 % wide: 960 units on a 1200 px page, 420 on a 360 px phone; labels stay >= 12 px
    for _css, width, _height, font in boxes:
        scale = (1170 if width == "960" else 360) / int(width)
        assert int(font) * scale >= 12
    assert '<ul class="legend"><li class="bar-in">in</li><li class="share-fever">fever</li></ul>' in svg
    assert 'style="' not in svg  # the CSP forbids inline styles


def test_comparison_lines_end_at_the_end_of_their_day() -> None:
    yesterday = charts.Series("yesterday", "compare-day", points(2, 1), through=END)
    svg = charts.occupancy_curve(
        points(1), START, END, 5, 4.0, title="t", now=START + timedelta(hours=9), others=[yesterday]
    )
    paths = re.findall(r'<path class="(\w[\w-]*)" d="([^"]+)"', svg)
    ends = {css: d.rsplit("H", 1)[1] for css, d in paths[:2]}
    assert ends == {"compare-day": "904.0", "curve": str(round(56 + 9 / 24 * 848, 1))}

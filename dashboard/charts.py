"""Server-rendered SVG charts: no JavaScript library, no inline styles (the CSP forbids them).

Every chart is drawn twice, a wide layout for desktops and wall screens and a narrow one for phones
(CSS shows one); each scales with its box (``viewBox``, ``width: 100%``) and keeps its labels at a
size that reads at 1920 px and at 390 px. The y axis is robust: a value far above the rest (a typo,
a count set to 999) is drawn clipped at the top with its number, instead of squashing the chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup, escape


@dataclass(frozen=True, slots=True)
class Layout:
    """A chart's drawing box and the size of its labels, in viewBox units."""

    name: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    font: int
    hour_step: int
    category_step: int

    @property
    def plot_w(self) -> int:
        """The plot's width."""
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> int:
        """The plot's height."""
        return self.height - self.top - self.bottom


# At 1200 px of page the wide chart's 15-unit labels are 18 px; at 390 px the narrow one's are 13 px.
WIDE = Layout("wide", 960, 320, 56, 56, 16, 40, 15, 2, 1)
NARROW = Layout("narrow", 420, 300, 44, 44, 14, 40, 14, 6, 4)
LAYOUTS = (WIDE, NARROW)


def nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) that splits ``top`` into about ``ticks`` parts."""
    raw = max(top, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(factor * power, 1.0) if top >= ticks else factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def robust_top(values: Sequence[float], floor: float = 1.0, spread: float = 3.0) -> float:
    """The top of a y axis that one wild value cannot move.

    The reference is the 90th percentile of ``values`` (or ``floor``, the room's limit, if larger);
    values above ``spread`` times it are outliers and are drawn clipped. The top is the largest
    value kept, with 10 % headroom, rounded up to the axis step.

    Args:
        values: The values drawn.
        floor: A value the axis always shows (a limit, 1 for counts).
        spread: How far above the reference a value may be and still set the scale.
    """
    ordered = sorted(v for v in values if v is not None and math.isfinite(v) and v > 0)  # zeros say nothing
    reference = floor
    if ordered:
        reference = max(floor, ordered[int(0.9 * (len(ordered) - 1))])
    kept = [v for v in ordered if v <= spread * reference]
    top = max([floor, *kept]) * 1.1
    step = max(1.0, nice_step(top))  # counts: whole steps
    return math.ceil(top / step - 1e-9) * step


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class Series:
    """A line of a chart: its legend label, its CSS class (its colour), its points and its end."""

    label: str
    css: str
    points: Sequence[tuple[datetime, float]] = field(default_factory=list)
    through: datetime | None = None  # where the line ends (default: now)


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal line across the plot (the limit, the near threshold)."""

    label: str
    css: str
    value: float


def _svg_open(layout: Layout, title: str, extra_class: str = "") -> list[str]:
    classes = "chart" if layout is WIDE else "chart narrow"
    return [
        f'<svg class="{classes}{extra_class}" viewBox="0 0 {layout.width} {layout.height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" font-size="{layout.font}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{layout.left}" y="{layout.top}" width="{layout.plot_w}" height="{layout.plot_h}" '
        'fill="#fafafa" stroke="#ccc"/>',
    ]


def _y_axis(parts: list[str], layout: Layout, top: float, y: object) -> None:
    step = max(1.0, nice_step(top))
    value = 0.0
    while value <= top + 1e-9:
        at = y(value)  # type: ignore[operator]
        parts.append(
            f'<line x1="{layout.left}" y1="{at}" x2="{layout.left + layout.plot_w}" y2="{at}" stroke="#eee"/>'
        )
        parts.append(
            f'<text x="{layout.left - 6}" y="{at + layout.font / 3:.1f}" fill="#444" '
            f'text-anchor="end">{_number(value)}</text>'
        )
        value += step


def _legend(items: list[tuple[str, str]]) -> str:
    entries = "".join(f'<li class="{escape(css)}">{escape(label)}</li>' for label, css in items)
    return f'<ul class="legend">{entries}</ul>'


def step_chart(
    series: list[Series],
    start: datetime,
    end: datetime,
    *,
    title: str,
    rules: Sequence[Rule] = (),
    floor: float = 1.0,
    now: datetime | None = None,
    hour_labels: Sequence[str] | None = None,
) -> Markup:
    """Step lines of values over ``start`` to ``end`` (a local day), with horizontal rules.

    Args:
        series: The lines; each point is (time, value after); a line starts at its first point.
        start: The left edge (local midnight, as UTC).
        end: The right edge (the next midnight).
        title: The chart's accessible title.
        rules: Lines across the plot (the limit, near).
        floor: A value the y axis always shows.
        now: Where lines stop (default: ``end``).
        hour_labels: The labels of the hours on the x axis (default ``00`` .. ``24``).
    """
    values = [value for line in series for _, value in line.points] + [rule.value for rule in rules]
    top = robust_top(values, floor)
    span_s = (end - start).total_seconds()
    stop = min(now or end, end)
    hours = round(span_s / 3600)
    labels = list(hour_labels) if hour_labels else [f"{hour % 24:02d}" for hour in range(hours + 1)]
    out = []
    for layout in LAYOUTS:

        def x(moment: datetime, layout: Layout = layout) -> float:
            fraction = min(max((moment - start).total_seconds() / span_s, 0.0), 1.0)
            return round(layout.left + fraction * layout.plot_w, 1)

        def y(value: float, layout: Layout = layout) -> float:
            return round(layout.top + layout.plot_h - min(value, top) / top * layout.plot_h, 1)

        parts = _svg_open(layout, title)
        _y_axis(parts, layout, top, y)
        for hour in range(0, hours + 1, layout.hour_step):
            tick = x(start + timedelta(hours=hour))
            parts.append(
                f'<text x="{tick}" y="{layout.height - 14}" fill="#444" text-anchor="middle">'
                f"{labels[hour]}</text>"
            )
        for rule in rules:
            parts.append(
                f'<line class="{rule.css}" x1="{layout.left}" y1="{y(rule.value)}" '
                f'x2="{layout.left + layout.plot_w}" y2="{y(rule.value)}" stroke-dasharray="6 4"/>'
            )
        for line in series:
            if not line.points:
                continue
            first_at, first_value = line.points[0]
            path = [f"M{x(max(first_at, start))},{y(first_value)}"]
            for moment, value in line.points[1:]:
                path.append(f"H{x(moment)}V{y(value)}")
            path.append(f"H{x(line.through or stop)}")
            parts.append(f'<path class="{line.css}" d="{"".join(path)}" fill="none"/>')
            for moment, value in line.points:
                if value > top:  # clipped: say how high
                    parts.append(
                        f'<text class="clipped" x="{x(moment)}" y="{layout.top + layout.font}" '
                        f'text-anchor="middle">↑{_number(value)}</text>'
                    )
        parts.append("</svg>")
        out.append("".join(parts))
    legend = [(line.label, line.css) for line in series] + [(rule.label, rule.css) for rule in rules]
    return Markup('<div class="chart-box">' + "".join(out) + _legend(legend) + "</div>")


@dataclass(frozen=True, slots=True)
class Bars:
    """A bar series: one value per category."""

    label: str
    css: str
    values: Sequence[float]


@dataclass(frozen=True, slots=True)
class Shares:
    """A line of shares (0 to 1) over the categories, on the right-hand axis; ``None`` where undefined."""

    label: str
    css: str
    values: list[float | None]


def bar_chart(
    categories: list[str],
    bars: list[Bars],
    *,
    title: str,
    shares: Sequence[Shares] = (),
) -> Markup:
    """Grouped bars per category (hours, days, rooms), with share lines on a right-hand % axis.

    Args:
        categories: The x axis' labels.
        bars: The bar series, drawn side by side in each category.
        title: The chart's accessible title.
        shares: Lines of shares (fever, no mask) on a 0 to 100 % axis.
    """
    top = robust_top([value for series in bars for value in series.values], 1.0)
    share_top = max([0.05, *(v for line in shares for v in line.values if v is not None)])
    share_top = min(1.0, math.ceil(share_top * 1.1 / nice_step(share_top * 1.1)) * nice_step(share_top * 1.1))
    out = []
    count = max(len(categories), 1)
    for layout in LAYOUTS:
        slot = layout.plot_w / count
        width = slot * 0.8 / max(len(bars), 1)

        def y(value: float, layout: Layout = layout) -> float:
            return round(layout.top + layout.plot_h - min(value, top) / top * layout.plot_h, 1)

        def y_share(value: float, layout: Layout = layout) -> float:
            return round(layout.top + layout.plot_h - value / share_top * layout.plot_h, 1)

        parts = _svg_open(layout, title, " bars")
        _y_axis(parts, layout, top, y)
        if shares:
            step = nice_step(share_top * 100) / 100
            value = 0.0
            while value <= share_top + 1e-9:
                parts.append(
                    f'<text x="{layout.width - layout.right + 6}" y="{y_share(value) + layout.font / 3:.1f}" '
                    f'fill="#444">{round(value * 100)}%</text>'
                )
                value += step
        label_step = layout.category_step if count > 12 else 1
        for index, category in enumerate(categories):
            left = layout.left + index * slot
            if index % label_step == 0:
                parts.append(
                    f'<text x="{left + slot / 2:.1f}" y="{layout.height - 14}" fill="#444" '
                    f'text-anchor="middle">{escape(category)}</text>'
                )
            for number, series in enumerate(bars):
                value = series.values[index]
                if not value:
                    continue
                bar_x = left + slot * 0.1 + number * width
                parts.append(
                    f'<rect class="{series.css}" x="{bar_x:.1f}" y="{y(value)}" width="{width:.1f}" '
                    f'height="{layout.top + layout.plot_h - y(value):.1f}"/>'
                )
                if value > top:
                    parts.append(
                        f'<text class="clipped" x="{bar_x + width / 2:.1f}" y="{layout.top + layout.font}" '
                        f'text-anchor="middle">↑{_number(value)}</text>'
                    )
        for line in shares:
            points = [
                f"{layout.left + (index + 0.5) * slot:.1f},{y_share(value)}"
                for index, value in enumerate(line.values)
                if value is not None
            ]
            if points:
                parts.append(f'<polyline class="{line.css}" points="{" ".join(points)}" fill="none"/>')
            for point in points:  # a lone hour has no line: its dot shows it
                cx, cy = point.split(",")
                parts.append(f'<circle class="{line.css}" cx="{cx}" cy="{cy}" r="{layout.font / 4:.1f}"/>')
        parts.append("</svg>")
        out.append("".join(parts))
    legend = [(series.label, series.css) for series in bars] + [(line.label, line.css) for line in shares]
    return Markup('<div class="chart-box">' + "".join(out) + _legend(legend) + "</div>")


def occupancy_curve(
    points: list[tuple[datetime, int]],
    start: datetime,
    end: datetime,
    limit_people: int,
    near_people: float,
    *,
    title: str,
    now: datetime | None = None,
    labels: tuple[str, str, str] = ("occupancy", "near", "limit"),
    others: Sequence[Series] = (),
) -> Markup:
    """A room's occupancy over a day as a step line, against near (amber) and the limit (red).

    Args:
        points: (time, occupancy after) in time order; the first may be at ``start``.
        start: The left edge (local midnight).
        end: The right edge (the next midnight).
        limit_people: The room's limit.
        near_people: Where "near" starts.
        title: The chart's accessible title.
        now: Where the line stops (default: ``end``).
        labels: The legend's words for the line, near and the limit.
        others: Lines to compare with (other days, shifted onto this day), drawn first.
    """
    line = Series(labels[0], "curve", list(points) or [(start, 0)])
    rules = [Rule(labels[1], "near", near_people), Rule(labels[2], "limit", limit_people)]
    return step_chart([*others, line], start, end, title=title, rules=rules, floor=limit_people + 1, now=now)

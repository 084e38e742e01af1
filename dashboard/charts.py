"""Server-rendered SVG charts: no JavaScript library, no inline styles (the CSP forbids them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 28
LABEL = 'font-size="11" fill="#555"'


def occupancy_curve(
    points: list[tuple[datetime, int]],
    start: datetime,
    end: datetime,
    limit_people: int,
    near_people: float,
    *,
    title: str,
    now: datetime | None = None,
) -> Markup:
    """Return an SVG step chart of occupancy from ``start`` to ``end`` with the limit drawn.

    Args:
        points: (time, occupancy after) in time order; the first may be at ``start``.
        start: The left edge (local midnight).
        end: The right edge (the next midnight).
        limit_people: The room's limit (a red line).
        near_people: Where "near" starts (an amber line).
        title: The chart's accessible title.
        now: Where the line stops (default: ``end``).
    """
    span_s = (end - start).total_seconds()
    top_people = max([limit_people + 1, *(value for _, value in points)]) * 1.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        fraction = min(max((moment - start).total_seconds() / span_s, 0.0), 1.0)
        return round(LEFT + fraction * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - value / top_people * plot_h, 1)

    stop = min(now or end, end)
    path = [f"M{x(start)},{y(points[0][1] if points and points[0][0] <= start else 0)}"]
    for moment, value in points:
        path.append(f"H{x(moment)}V{y(value)}")
    path.append(f"H{x(stop)}")
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for hour in range(0, 25, 3):
        tick = x(start + timedelta(hours=hour))
        parts.append(f'<line x1="{tick}" y1="{TOP}" x2="{tick}" y2="{TOP + plot_h}" stroke="#eee"/>')
        parts.append(f'<text x="{tick}" y="{HEIGHT - 8}" {LABEL} text-anchor="middle">{hour:02d}</text>')
    for value in sorted({0, limit_people, round(top_people / 1.1)}):
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4}" {LABEL} text-anchor="end">{value}</text>')
    parts.append(
        f'<line class="near" x1="{LEFT}" y1="{y(near_people)}" x2="{LEFT + plot_w}" y2="{y(near_people)}" '
        'stroke="#d98e04" stroke-dasharray="4 4"/>'
    )
    parts.append(
        f'<line class="limit" x1="{LEFT}" y1="{y(limit_people)}" x2="{LEFT + plot_w}" y2="{y(limit_people)}" '
        'stroke="#c0392b" stroke-dasharray="6 3"/>'
    )
    parts.append(f'<path class="curve" d="{"".join(path)}" fill="none" stroke="#1f6feb" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))

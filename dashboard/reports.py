"""Screenings log with filters and CSV export, and the report per site for a day or a range of days."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from dashboard import scope, timeutil
from dashboard.auth import require_role
from dashboard.db import get_session, new_session, utc_now
from dashboard.i18n import _n
from dashboard.ingest import NO_MASK_REASONS, NO_MASK_VERDICTS
from dashboard.models import Correction, Crossing, Role, Room, Screening, Site, Station
from dashboard.words import MessageError, label, translated
from station.events import Decision

bp = Blueprint("reports", __name__)
PAGE_ROWS = 500
CSV_CHUNK_ROWS = 500  # rows read and sent at a time by the CSV export
CSV_COLUMNS = (
    "at",
    "site",
    "room",
    "station",
    "decision",
    "reason",
    "raw_c",
    "body_c",
    "mask",
    "temperature_policy",
    "mask_policy",
    "retest",
    "ticket",
    "override_by",
    "override_reason",
)


class FilterError(MessageError):
    """A filter the screenings log cannot use."""


def day_range(start_text: str | None, end_text: str | None) -> tuple[date, date]:
    """Local days ``start_text`` to ``end_text`` (today, and the start, by default), at most a year apart.

    Raises:
        FilterError: A day that is not one, or the end before the start, or more than a year.
    """
    try:
        start = timeutil.parse_day(start_text, timeutil.today())
        end = timeutil.parse_day(end_text, start)
    except MessageError as err:
        raise FilterError(err.template, **err.params) from None
    if end < start:
        raise FilterError(_n("'to' is before 'from'"))
    if end - start > timedelta(days=366):
        raise FilterError(_n("at most a year at a time"))
    return start, end


@dataclass(frozen=True, slots=True)
class Filters:
    """The screenings log's filters: local days (inclusive), a station's name, a decision."""

    start: date
    end: date
    station: str = ""
    decision: str = ""

    @classmethod
    def from_args(cls, args: dict[str, str]) -> Filters:
        """Read the filters from query arguments; raise ``FilterError`` on bad ones."""
        start, end = day_range(args.get("from"), args.get("to"))
        decision = args.get("decision", "")
        if decision and decision not in {d.value for d in Decision}:
            choices = ", ".join(map(label, Decision))
            raise FilterError(_n("decision must be one of %(choices)s"), choices=choices)
        return cls(start, end, args.get("station", "")[:64], decision)

    def query(self) -> Select[Any]:  # Select[tuple[Screening]] in SQLAlchemy 2.0, Select[Screening] in 2.1
        """The matching screenings, newest first."""
        since, _ = timeutil.day_bounds(self.start)
        _, until = timeutil.day_bounds(self.end)
        statement = (
            select(Screening)
            .options(joinedload(Screening.station), joinedload(Screening.room).joinedload(Room.site))
            .where(Screening.at >= since, Screening.at < until, scope.rooms_clause(Screening.room_id))
            .order_by(Screening.at.desc(), Screening.id.desc())
        )
        if self.station:
            statement = statement.join(Station, Screening.station_id == Station.id).where(
                Station.name == self.station
            )
        if self.decision:
            statement = statement.where(Screening.decision == self.decision)
        return statement


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a leading '."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _row(screening: Screening) -> list[str]:
    moment = timeutil.local(screening.at, screening.room.site.time_zone)  # ISO 8601 with the site's offset
    return [
        moment.isoformat() if moment else "",
        _cell(screening.room.site.slug),
        _cell(screening.room.slug),
        _cell(screening.station.name),
        screening.decision,
        _cell(screening.reason),
        "" if screening.raw_c is None else f"{screening.raw_c:.2f}",
        "" if screening.body_c is None else f"{screening.body_c:.2f}",
        screening.mask or "",
        screening.temperature_policy,
        screening.mask_policy,
        "yes" if screening.retest else "no",
        "" if screening.ticket is None else str(screening.ticket),
        _cell(screening.override_by),
        _cell(screening.override_reason),
    ]


@bp.get("/screenings")
@require_role(Role.SUPERVISOR)
def screenings() -> ResponseReturnValue:
    """The screenings log, filtered by days, station and decision."""
    db = get_session()
    stations = (
        db.execute(select(Station.name).where(scope.stations_clause(Station.id)).order_by(Station.name))
        .scalars()
        .all()
    )
    try:
        filters = Filters.from_args(request.args)
    except FilterError as err:
        return render_template(
            "screenings.html", error=translated(err), rows=[], stations=stations, filters=None
        ), 400
    rows = db.execute(filters.query().limit(PAGE_ROWS + 1)).scalars().all()
    return render_template(
        "screenings.html",
        rows=rows[:PAGE_ROWS],
        more=len(rows) > PAGE_ROWS,
        stations=stations,
        decisions=[d.value for d in Decision],
        filters=filters,
        error=None,
    )


@bp.get("/screenings.csv")
@require_role(Role.SUPERVISOR)
def screenings_csv() -> ResponseReturnValue:
    """The filtered screenings as CSV (UTF-8, one row per screening, local times).

    Streamed as it is read, 500 rows at a time: a year of a busy site never sits in memory whole.
    """
    try:
        filters = Filters.from_args(request.args)
    except FilterError as err:
        return Response(f"{translated(err)}\n", status=400, mimetype="text/plain")
    statement = filters.query().execution_options(yield_per=CSV_CHUNK_ROWS)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def rows() -> Iterator[list[str]]:
        # A session of its own and no context held across a yield: a client that stops reading
        # (or never starts) leaves nothing open behind it, whatever thread closes the generator.
        session = new_session(app)
        try:
            yield from (_row(screening) for screening in session.execute(statement).scalars())
        finally:
            session.close()

    filename = f"screenings-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        csv_stream(CSV_COLUMNS, rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@dataclass(slots=True)
class RoomDay:
    """One room's day."""

    room: Room
    entries: int = 0
    exits: int = 0
    exits_uncounted: int = 0
    corrections: int = 0
    peak_people: int = 0
    peak_at: datetime | None = None
    screenings: int = 0
    fevers: int = 0
    no_masks: int = 0

    @property
    def fever_share(self) -> float:
        """Fevers per screening (0 with no screenings)."""
        return self.fevers / self.screenings if self.screenings else 0.0

    @property
    def no_mask_share(self) -> float:
        """No-mask screenings per screening."""
        return self.no_masks / self.screenings if self.screenings else 0.0


@dataclass(slots=True)
class SiteDay:
    """A site's day: its rooms and their totals."""

    site: Site
    day: date
    rooms: list[RoomDay] = field(default_factory=list)
    peak_people: int = 0
    peak_at: datetime | None = None
    closing: dict[int, int] = field(default_factory=dict)  # each room's count at the day's end

    def total(self, name: str) -> int:
        """Sum a ``RoomDay`` figure over the rooms."""
        return sum(getattr(room, name) for room in self.rooms)

    @property
    def fever_share(self) -> float:
        """Fevers per screening over the site."""
        return self.total("fevers") / self.total("screenings") if self.total("screenings") else 0.0

    @property
    def no_mask_share(self) -> float:
        """No-mask screenings per screening over the site."""
        return self.total("no_masks") / self.total("screenings") if self.total("screenings") else 0.0


def fever_clause(fever_c: float) -> ColumnElement[bool]:
    """SQL for "this screening found a fever" (the same rule ingest alerts on)."""
    return or_(Screening.reason.like("fever%"), Screening.body_c >= fever_c)


def no_mask_clause() -> ColumnElement[bool]:
    """SQL for "this screening found no mask (or one worn wrongly)"."""
    return or_(Screening.reason.in_(NO_MASK_REASONS), Screening.mask.in_([str(m) for m in NO_MASK_VERDICTS]))


def occupancy_points(session: Session, room_ids: list[int], since: datetime, until: datetime) -> list[tuple]:
    """Return (at, room id, occupancy after) of every count change, in time order."""
    crossings = select(Crossing.at, Crossing.room_id, Crossing.occupancy_after, Crossing.id).where(
        Crossing.room_id.in_(room_ids), Crossing.at >= since, Crossing.at < until
    )
    corrections = select(Correction.at, Correction.room_id, Correction.occupancy_after, Correction.id).where(
        Correction.room_id.in_(room_ids), Correction.at >= since, Correction.at < until
    )
    rows = [*session.execute(crossings).all(), *session.execute(corrections).all()]
    return sorted((tuple(row[:3]) for row in rows), key=lambda row: row[0])


def opening_occupancy(session: Session, room_id: int, since: datetime) -> int:
    """The room's count at ``since``: the last change before it, else 0."""
    last = None
    for model in (Crossing, Correction):
        row = session.execute(
            select(model.at, model.occupancy_after)
            .where(model.room_id == room_id, model.at < since)
            .order_by(model.at.desc())
            .limit(1)
        ).first()
        if row is not None and (last is None or row[0] > last[0]):
            last = row
    return last[1] if last else 0


def site_day(
    session: Session, site: Site, day: date, fever_c: float, opening: Mapping[int, int] | None = None
) -> SiteDay:
    """Compute a site's daily report (the day on the site's own clock).

    Args:
        session: The database session.
        site: The site.
        day: The local day.
        fever_c: The fever threshold.
        opening: Each room's count at midnight when known (the day before's ``closing``); else read.
    """
    since, until = timeutil.day_bounds(day, site.time_zone)
    report = SiteDay(site=site, day=day)
    rooms = {room.id: RoomDay(room=room) for room in site.rooms}
    report.rooms = list(rooms.values())
    if not rooms:
        return report
    ids = list(rooms)
    crossing_counts = session.execute(
        select(Crossing.room_id, Crossing.direction, Crossing.counted, func.count())
        .where(Crossing.room_id.in_(ids), Crossing.at >= since, Crossing.at < until)
        .group_by(Crossing.room_id, Crossing.direction, Crossing.counted)
    ).all()
    for room_id, direction, counted, number in crossing_counts:
        entry = rooms[room_id]
        if direction == "in":
            entry.entries += number
        elif counted:
            entry.exits += number
        else:
            entry.exits_uncounted += number
    for room_id, number in session.execute(
        select(Correction.room_id, func.count())
        .where(Correction.room_id.in_(ids), Correction.at >= since, Correction.at < until)
        .group_by(Correction.room_id)
    ).all():
        rooms[room_id].corrections = number
    screening_counts = session.execute(
        select(
            Screening.room_id,
            func.count(),
            func.count().filter(fever_clause(fever_c)),
            func.count().filter(no_mask_clause()),
        )
        .where(Screening.room_id.in_(ids), Screening.at >= since, Screening.at < until)
        .group_by(Screening.room_id)
    ).all()
    for room_id, total, fevers, no_masks in screening_counts:
        rooms[room_id].screenings, rooms[room_id].fevers, rooms[room_id].no_masks = total, fevers, no_masks
    known = opening or {}
    current = {
        room_id: known[room_id] if room_id in known else opening_occupancy(session, room_id, since)
        for room_id in ids
    }
    for room_id, value in current.items():
        rooms[room_id].peak_people = value
        rooms[room_id].peak_at = since if value else None
    report.peak_people = sum(current.values())
    report.peak_at = since if report.peak_people else None
    for at, room_id, value in occupancy_points(session, ids, since, until):
        current[room_id] = value
        if value > rooms[room_id].peak_people:
            rooms[room_id].peak_people, rooms[room_id].peak_at = value, at
        total = sum(current.values())
        if total > report.peak_people:
            report.peak_people, report.peak_at = total, at
    report.closing = current
    return report


@bp.get("/reports")
@require_role(Role.SUPERVISOR)
def report_index() -> ResponseReturnValue:
    """Pick a site and a day or a range of days."""
    sites = (
        get_session()
        .execute(select(Site).where(scope.sites_clause(Site.id)).order_by(Site.slug))
        .scalars()
        .all()
    )
    site = request.args.get("site", "")
    if site:  # the range form: on to that site's report
        days: dict[str, Any] = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
        return redirect(url_for("reports.daily", site=site[:64], **days))
    today = timeutil.today()
    return render_template("reports.html", sites=sites, today=today, week_start=today - timedelta(days=6))


@dataclass(frozen=True, slots=True)
class Period:
    """Local days from ``start`` to ``end``, inclusive (at most a year)."""

    start: date
    end: date

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Period:
        """``?day=`` (one day), or ``?from=`` and ``?to=`` (today by default); raise ``FilterError``."""
        day = args.get("day")
        return cls(*day_range(day, day) if day else day_range(args.get("from"), args.get("to")))

    @property
    def days(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def single(self) -> bool:
        """Whether the period is one day."""
        return self.start == self.end


def site_period(
    session: Session, site: Site, period: Period, fever_c: float
) -> tuple[SiteDay, list[SiteDay]]:
    """A site's report over ``period``: the totals (peaks are the highest of any day) and each day's."""
    days: list[SiteDay] = []
    for day in period.days:  # each day opens with the day before's closing counts
        days.append(site_day(session, site, day, fever_c, days[-1].closing if days else None))
    total = SiteDay(site=site, day=period.start, rooms=[RoomDay(room=room) for room in site.rooms])
    for report in days:
        for summed, room_day in zip(total.rooms, report.rooms, strict=True):
            for name in (
                "entries",
                "exits",
                "exits_uncounted",
                "corrections",
                "screenings",
                "fevers",
                "no_masks",
            ):
                setattr(summed, name, getattr(summed, name) + getattr(room_day, name))
            if room_day.peak_people > summed.peak_people:
                summed.peak_people, summed.peak_at = room_day.peak_people, room_day.peak_at
        if report.peak_people > total.peak_people:
            total.peak_people, total.peak_at = report.peak_people, report.peak_at
    return total, days


def _site(slug: str) -> Site:
    found = (
        get_session()
        .execute(select(Site).where(Site.slug == slug, scope.sites_clause(Site.id)))
        .scalar_one_or_none()
    )
    if found is None:
        abort(404, _("No such site."))
    return found


@bp.get("/reports/<site>")
@require_role(Role.SUPERVISOR)
def daily(site: str) -> ResponseReturnValue:
    """A site's report for a day or a range of days: totals per room, peaks, shares, charts; printable."""
    db = get_session()
    found = _site(site)
    try:
        period = Period.from_args(request.args)
    except FilterError as err:
        abort(400, translated(err))
    fever_c = current_app.config["FEVER_C"]
    total, days = site_period(db, found, period, fever_c)
    return render_template(
        "report.html",
        report=total,
        days=days,
        period=period,
        charts=report_charts(db, found, period, days, fever_c),
        zone_name=timeutil.zone_label(found.time_zone),
        local=lambda moment: timeutil.local(moment, found.time_zone),
    )


def report_charts(
    session: Session, site: Site, period: Period, days: list[SiteDay], fever_c: float
) -> list[tuple[Markup, str]]:
    """The report's charts with their captions: per hour for one day, per day for a range."""
    from dashboard import chart_data, charts

    rooms = list(site.rooms)
    shares = (_("fever share"), _("no-mask share"))
    if period.single:
        day = period.start
        hours = chart_data.hourly(
            session, [room.id for room in rooms], day, fever_c, timeutil.site_zone(site)
        )
        screenings = charts.bar_chart(
            [f"{hour:02d}" for hour in range(24)],
            [charts.Bars(_("screenings"), "bar-screenings", hours.screenings)],
            shares=[
                charts.Shares(shares[0], "share-fever", hours.share("fevers")),
                charts.Shares(shares[1], "share-no-mask", hours.share("no_masks")),
            ],
            title=_("Screenings per hour at %(site)s", site=site.name),
        )
        since, until = timeutil.day_bounds(day, site.time_zone)
        lines = [
            charts.Series(
                room.name,
                f"room-{index % 6}",
                [
                    (at, 100 * value / max(room.limit_people, 1))
                    for at, value in chart_data.day_curve(session, room.id, day)
                ],
                through=min(until, utc_now()),
            )
            for index, room in enumerate(rooms)
        ]
        compared = charts.step_chart(
            lines,
            since,
            until,
            title=_("Occupancy of each room as a percentage of its limit"),
            rules=[charts.Rule(_("limit"), "limit", 100)],
            floor=101,
        )
        return [
            (
                screenings,
                _("Screenings per hour; lines: shares with a fever and without a mask (right axis)."),
            ),
            (
                compared,
                _("Rooms compared: occupancy as a percentage of each room's limit; 100 is the limit."),
            ),
        ]
    labels = [day.day.strftime("%m-%d") for day in days]
    screenings = charts.bar_chart(
        labels,
        [charts.Bars(_("screenings"), "bar-screenings", [day.total("screenings") for day in days])],
        shares=[
            charts.Shares(
                shares[0], "share-fever", [d.fever_share if d.total("screenings") else None for d in days]
            ),
            charts.Shares(
                shares[1], "share-no-mask", [d.no_mask_share if d.total("screenings") else None for d in days]
            ),
        ],
        title=_("Screenings per day at %(site)s", site=site.name),
    )
    entries = charts.bar_chart(
        labels,
        [
            charts.Bars(room.name, f"room-{index % 6}", [day.rooms[index].entries for day in days])
            for index, room in enumerate(rooms)
        ],
        title=_("Entries per day, room by room"),
    )
    return [
        (screenings, _("Screenings per day; lines: shares with a fever and without a mask (right axis).")),
        (entries, _("Days and rooms compared: entries per day of each room.")),
    ]


REPORT_COLUMNS = (
    "day",
    "site",
    "room",
    "entries",
    "exits",
    "exits_uncounted",
    "corrections",
    "peak_people",
    "peak_at",
    "limit_people",
    "screenings",
    "fevers",
    "no_masks",
    "fever_share",
    "no_mask_share",
)


def _report_rows(session: Session, site: Site, period: Period, fever_c: float) -> Iterator[list[str]]:
    """One row per day and room, then the site's row of that day (room ``*``)."""
    closing: dict[int, int] | None = None
    for day in period.days:
        report = site_day(session, site, day, fever_c, closing)
        closing = report.closing
        for room in report.rooms:
            yield _report_row(day, site, room.room.slug, room, room.room.limit_people)
        yield _report_row(day, site, "*", report, sum(room.room.limit_people for room in report.rooms))


def _report_row(day: date, site: Site, room: str, figures: RoomDay | SiteDay, limit_people: int) -> list[str]:
    def total(name: str) -> int:
        return figures.total(name) if isinstance(figures, SiteDay) else getattr(figures, name)

    peak_at = timeutil.local(figures.peak_at)
    return [
        day.isoformat(),
        _cell(site.slug),
        _cell(room),
        *(str(total(name)) for name in ("entries", "exits", "exits_uncounted", "corrections")),
        str(figures.peak_people),
        peak_at.isoformat() if peak_at else "",
        str(limit_people),
        *(str(total(name)) for name in ("screenings", "fevers", "no_masks")),
        f"{figures.fever_share:.4f}",
        f"{figures.no_mask_share:.4f}",
    ]


def csv_stream(
    header: Sequence[str], rows: Iterable[list[str]], chunk_rows: int = CSV_CHUNK_ROWS
) -> Iterator[str]:
    """CSV text ``chunk_rows`` rows at a time (the header first), for a streamed response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(header))
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.get("/reports/<site>.csv")
@require_role(Role.SUPERVISOR)
def report_csv(site: str) -> ResponseReturnValue:
    """A site's report as CSV, streamed: a row per day and room, and the site's row per day."""
    found = _site(site)
    try:
        period = Period.from_args(request.args)
    except FilterError as err:
        return Response(f"{translated(err)}\n", status=400, mimetype="text/plain")
    fever_c = current_app.config["FEVER_C"]

    # A row per day and room (a year of ten rooms is 4,000 rows): read now, inside the request, then
    # streamed as text; nothing holds the request's context across a yield.
    rows = list(_report_rows(get_session(), found, period, fever_c))
    filename = f"report-{found.slug}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(
        csv_stream(REPORT_COLUMNS, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

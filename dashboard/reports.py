"""Screenings log with filters and CSV export, and the daily report per site."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from dashboard import scope, timeutil
from dashboard.auth import require_role
from dashboard.db import get_session, new_session
from dashboard.ingest import NO_MASK_REASONS, NO_MASK_VERDICTS
from dashboard.models import Correction, Crossing, Role, Room, Screening, Site, Station
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


class FilterError(ValueError):
    """A filter the screenings log cannot use."""


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
        today = timeutil.today()
        try:
            start = timeutil.parse_day(args.get("from"), today)
            end = timeutil.parse_day(args.get("to"), start)
        except ValueError as err:
            raise FilterError(str(err)) from None
        if end < start:
            raise FilterError("'to' is before 'from'")
        if end - start > timedelta(days=366):
            raise FilterError("at most a year at a time")
        decision = args.get("decision", "")
        if decision and decision not in {d.value for d in Decision}:
            raise FilterError(f"decision must be one of {', '.join(Decision)}")
        return cls(start, end, args.get("station", "")[:64], decision)

    def query(self) -> Select[tuple[Screening]]:
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
    moment = timeutil.local(screening.at)
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
            "screenings.html", error=str(err), rows=[], stations=stations, filters=None
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
        return Response(f"{err}\n", status=400, mimetype="text/plain")
    # The user's sites are read into the statement now; the rows are read as they are sent, with a
    # session of the export's own (the request's is closed when the view returns).
    statement = filters.query().execution_options(yield_per=CSV_CHUNK_ROWS)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        with app.app_context(), new_session(app) as session:
            for number, screening in enumerate(session.execute(statement).scalars(), start=1):
                writer.writerow(_row(screening))
                if number % CSV_CHUNK_ROWS == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    filename = f"screenings-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        lines(),
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


def fever_clause(fever_c: float) -> object:
    """SQL for "this screening found a fever" (the same rule ingest alerts on)."""
    return or_(Screening.reason.like("fever%"), Screening.body_c >= fever_c)


def no_mask_clause() -> object:
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


def site_day(session: Session, site: Site, day: date, fever_c: float) -> SiteDay:
    """Compute a site's daily report."""
    since, until = timeutil.day_bounds(day)
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
    current = {room_id: opening_occupancy(session, room_id, since) for room_id in ids}
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
    return report


@bp.get("/reports")
@require_role(Role.SUPERVISOR)
def report_index() -> ResponseReturnValue:
    """Pick a site and a day."""
    sites = (
        get_session()
        .execute(select(Site).where(scope.sites_clause(Site.id)).order_by(Site.slug))
        .scalars()
        .all()
    )
    return render_template("reports.html", sites=sites, today=timeutil.today())


@bp.get("/reports/<site>")
@require_role(Role.SUPERVISOR)
def daily(site: str) -> ResponseReturnValue:
    """A site's daily report: totals, peak occupancy and when, shares of fevers and no-mask."""
    db = get_session()
    found = db.execute(
        select(Site).where(Site.slug == site, scope.sites_clause(Site.id))
    ).scalar_one_or_none()
    if found is None:
        abort(404, _("No such site."))
    try:
        day = timeutil.parse_day(request.args.get("day"), timeutil.today())
    except ValueError as err:
        abort(400, str(err))
    report = site_day(db, found, day, current_app.config["FEVER_C"])
    return render_template("report.html", report=report, local=timeutil.local)

"""The supervisors' pages: overview, room, alerts, queue, corrections, the audit log; the user's language."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from dashboard import audit, charts, correct, jobs, live, occupancy, scope, timeutil
from dashboard.auth import require_role
from dashboard.db import get_session, utc_now
from dashboard.manage import LOCALES
from dashboard.models import (
    Alert,
    AuditEntry,
    Correction,
    Crossing,
    QueueTicket,
    Role,
    Room,
    Site,
    TicketStatus,
)
from dashboard.reports import occupancy_points, opening_occupancy

bp = Blueprint("ui", __name__)


def alerts_clause() -> object:
    """Alerts of the user's rooms, or of their stations when an alert names no room."""
    if scope.site_ids() is None:
        return Alert.id.is_not(None)
    return scope.rooms_clause(Alert.room_id) | (
        Alert.room_id.is_(None) & scope.stations_clause(Alert.station_id)
    )


def room_cards(rooms: list[Room]) -> list[dict[str, object]]:
    """The figures of a room card: count, limit, state."""
    near_share = current_app.config["NEAR_SHARE"]
    return [{**occupancy.snapshot(room, near_share), "room": room} for room in rooms]


@bp.get("/")
@require_role(Role.GUARD)
def overview() -> ResponseReturnValue:
    """Every site's rooms with live occupancy cards and the open alerts."""
    db = get_session()
    live_after = live.last_id(db)
    sites = (
        db.execute(
            select(Site)
            .options(selectinload(Site.rooms))
            .where(scope.sites_clause(Site.id))
            .order_by(Site.slug)
        )
        .scalars()
        .all()
    )
    open_alerts = db.execute(
        select(Alert)
        .options(joinedload(Alert.room), joinedload(Alert.station))
        .where(Alert.acknowledged_at.is_(None), alerts_clause())
        .order_by(Alert.at.desc())
        .limit(10)
    ).scalars()
    return render_template(
        "overview.html",
        sites=[(site, room_cards(site.rooms)) for site in sites],
        alerts=list(open_alerts),
        live_after=live_after,
    )


@bp.get("/rooms/<room>")
@require_role(Role.GUARD)
def room_page(room: str) -> ResponseReturnValue:
    """A room today: its occupancy curve, counted figures, crossings and corrections."""
    return _room_page(room)


@bp.post("/rooms/<room>/correct")
@require_role(Role.SUPERVISOR)
def correct_count(room: str) -> ResponseReturnValue:
    """A supervisor corrects the room's count (+N, -N or set to N), with a reason; audited."""
    db = get_session()
    found = db.execute(select(Room).where(Room.slug == room)).scalar_one_or_none()
    if found is None or not scope.may_see_room(found):
        abort(404, _("No such room."))
    kind, raw = request.form.get("kind", "set"), request.form.get("people", "").strip()
    try:
        amount = int(raw)
    except ValueError:
        return _room_page(room, 400, error=_("Enter a whole number of people."))
    try:
        after = correct.correct(
            db,
            found,
            current_user.username,
            request.form.get("reason", ""),
            delta=amount if kind == "delta" else None,
            value=amount if kind != "delta" else None,
            confirm=request.form.get("confirm") == "yes",
            near_share=current_app.config["NEAR_SHARE"],
        )
    except correct.CorrectionError as err:
        db.rollback()
        if err.needs_confirmation:
            return _room_page(room, 409, error=str(err), confirm=True)
        return _room_page(room, 400, error=str(err))
    flash(_("Count of %(room)s corrected: %(count)s.", room=found.slug, count=after.occupancy_people), "ok")
    return redirect(url_for("ui.room_page", room=room))


def _room_page(room: str, status: int = 200, **extra: object) -> ResponseReturnValue:
    db = get_session()
    live_after = live.last_id(db)
    found = db.execute(
        select(Room).options(joinedload(Room.site)).where(Room.slug == room)
    ).scalar_one_or_none()
    if found is None or not scope.may_see_room(found):
        abort(404, _("No such room."))
    zone_name = found.site.time_zone  # the room's day and times on its site's clock
    since, until = timeutil.day_bounds(timeutil.today(zone_name), zone_name)
    opening = opening_occupancy(db, found.id, since)
    points = [(since, opening)] + [
        (at, value) for at, _room, value in occupancy_points(db, [found.id], since, until)
    ]
    near_share = current_app.config["NEAR_SHARE"]
    chart = charts.occupancy_curve(
        points,
        since,
        until,
        found.limit_people,
        near_share * found.limit_people,
        title=_("Occupancy of %(room)s today", room=found.name),
        now=utc_now(),
    )
    crossings = db.execute(
        select(Crossing)
        .options(joinedload(Crossing.door))
        .where(Crossing.room_id == found.id, Crossing.at >= since, Crossing.at < until)
        .order_by(Crossing.at.desc(), Crossing.id.desc())
        .limit(200)
    ).scalars()
    corrections = db.execute(
        select(Correction)
        .where(Correction.room_id == found.id, Correction.at >= since, Correction.at < until)
        .order_by(Correction.at.desc())
    ).scalars()
    figures = _counted_figures(found.id, since, until)
    return render_template(
        "room.html",
        card=room_cards([found])[0],
        chart=chart,
        crossings=list(crossings),
        corrections=list(corrections),
        figures=figures,
        opening=opening,
        live_after=live_after,
        local=lambda moment: timeutil.local(moment, zone_name),
        zone_label=timeutil.zone_label(zone_name),
        form=request.form if status != 200 else {},
        **extra,
    ), status


def _counted_figures(room_id: int, since: datetime, until: datetime) -> dict[str, int]:
    db = get_session()
    counts = dict.fromkeys(("in", "out", "out_uncounted", "corrections"), 0)
    rows = db.execute(
        select(Crossing.direction, Crossing.counted, func.count())
        .where(Crossing.room_id == room_id, Crossing.at >= since, Crossing.at < until)
        .group_by(Crossing.direction, Crossing.counted)
    ).all()
    for direction, counted, number in rows:
        key = "in" if direction == "in" else ("out" if counted else "out_uncounted")
        counts[key] += number
    counts["corrections"] = db.execute(
        select(func.count())
        .select_from(Correction)
        .where(Correction.room_id == room_id, Correction.at >= since, Correction.at < until)
    ).scalar_one()
    return counts


@bp.get("/alerts")
@require_role(Role.SUPERVISOR)
def alerts() -> ResponseReturnValue:
    """Open alerts first, then the acknowledged ones of the last week."""
    db = get_session()
    jobs.check_silent(db, current_app.config["STATION_SILENT_S"])
    since = utc_now() - timedelta(days=7)
    rows = db.execute(
        select(Alert)
        .options(joinedload(Alert.room), joinedload(Alert.station))
        .where((Alert.acknowledged_at.is_(None)) | (Alert.at >= since), alerts_clause())
        .order_by(Alert.acknowledged_at.is_not(None), Alert.at.desc())
        .limit(500)
    ).scalars()
    return render_template("alerts.html", alerts=list(rows), local=timeutil.local)


@bp.post("/alerts/<int:alert_id>/ack")
@require_role(Role.SUPERVISOR)
def acknowledge(alert_id: int) -> ResponseReturnValue:
    """Acknowledge an alert."""
    db = get_session()
    alert = db.execute(select(Alert).where(Alert.id == alert_id, alerts_clause())).scalar_one_or_none()
    if alert is None:
        abort(404, _("No such alert."))
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utc_now()
        alert.acknowledged_by = current_user.username
        room_id = (
            alert.room_id if alert.room_id is not None else (alert.station.room_id if alert.station else None)
        )
        audit.record(
            db, current_user.username, "acknowledge", f"alert {alert.id} ({alert.kind})", room_id=room_id
        )
        db.commit()
    return redirect(url_for("ui.alerts"))


@bp.get("/queue")
@require_role(Role.GUARD)
def queue() -> ResponseReturnValue:
    """Each room's queue today: tickets waiting, called, served and no-shows, and the current wait.

    The current wait is how long the first ticket in line has waited so far (whole minutes).
    """
    db = get_session()
    rooms = (
        db.execute(
            select(Room)
            .options(joinedload(Room.site))
            .where(scope.sites_clause(Room.site_id))
            .order_by(Room.slug)
        )
        .scalars()
        .all()
    )
    # each room's today on its own site's clock (a station in WIT starts its tickets at WIT midnight)
    starts = {
        room.id: timeutil.day_bounds(timeutil.today(room.site.time_zone), room.site.time_zone)[0]
        for room in rooms
    }
    since = min(starts.values(), default=utc_now())
    tickets = [
        ticket
        for ticket in db.execute(
            select(QueueTicket)
            .where(QueueTicket.issued_at >= since, scope.rooms_clause(QueueTicket.room_id))
            .order_by(QueueTicket.ticket)
        ).scalars()
        if ticket.issued_at >= starts.get(ticket.room_id, since)
    ]
    by_room: dict[int, dict[str, list[int]]] = {
        room.id: {s.value: [] for s in TicketStatus} for room in rooms
    }
    oldest: dict[int, datetime] = {}
    for ticket in tickets:
        by_room.setdefault(ticket.room_id, {s.value: [] for s in TicketStatus})[ticket.status].append(
            ticket.ticket
        )
        if ticket.status == TicketStatus.ISSUED and ticket.room_id not in oldest:
            oldest[ticket.room_id] = ticket.issued_at
    now = utc_now()
    waits = {room_id: int((now - at).total_seconds() // 60) for room_id, at in oldest.items()}
    return render_template("queue.html", rooms=rooms, by_room=by_room, waits=waits)


@bp.get("/corrections")
@require_role(Role.SUPERVISOR)
def corrections() -> ResponseReturnValue:
    """Today's corrections (each room's today on its site's clock), with who and why, beside its figures."""
    db = get_session()
    rooms = (
        db.execute(
            select(Room)
            .options(joinedload(Room.site))
            .where(scope.sites_clause(Room.site_id))
            .order_by(Room.slug)
        )
        .scalars()
        .all()
    )
    days = {
        room.id: timeutil.day_bounds(timeutil.today(room.site.time_zone), room.site.time_zone)
        for room in rooms
    }
    since = min((start for start, _ in days.values()), default=utc_now())
    until = max((end for _, end in days.values()), default=utc_now())
    rows = db.execute(
        select(Correction)
        .options(joinedload(Correction.station), joinedload(Correction.room))
        .where(Correction.at >= since, Correction.at < until, scope.rooms_clause(Correction.room_id))
        .order_by(Correction.at.desc())
    ).scalars()
    by_room: dict[int, list[Correction]] = {}
    for row in rows:
        start, end = days.get(row.room_id, (since, until))
        if start <= row.at < end:
            by_room.setdefault(row.room_id, []).append(row)
    figures = {room.id: _counted_figures(room.id, *days[room.id]) for room in rooms}
    return render_template(
        "corrections.html", rooms=rooms, by_room=by_room, figures=figures, local=timeutil.local
    )


@bp.get("/audit")
@require_role(Role.SUPERVISOR)
def audit_log() -> ResponseReturnValue:
    """The newest 500 audit entries: overrides, corrections, settings, users, logins, purges."""
    db = get_session()
    action = request.args.get("action", "")[:64]
    visible = scope.rooms_clause(AuditEntry.room_id)  # entries about no room: admins only
    query = select(AuditEntry).where(visible).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(500)
    if action:
        query = query.where(AuditEntry.action == action)
    actions = (
        db.execute(select(AuditEntry.action).where(visible).distinct().order_by(AuditEntry.action))
        .scalars()
        .all()
    )
    return render_template(
        "audit.html",
        entries=list(db.execute(query).scalars()),
        actions=actions,
        action=action,
        local=timeutil.local,
    )


@bp.post("/account/language")
@require_role(Role.GUARD)
def language() -> ResponseReturnValue:
    """Switch the user's language (Bahasa Indonesia or English)."""
    chosen = request.form.get("locale", "")
    if chosen not in LOCALES:
        abort(400, _("Unknown language."))
    current_user.locale = chosen
    get_session().commit()
    target = request.form.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else url_for("ui.overview")
    )

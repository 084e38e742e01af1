"""The supervisors' pages: overview, room, alerts, queue, corrections, the audit log; the user's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from dashboard import alerts as alerts_view
from dashboard import audit, chart_data, charts, correct, jobs, live, naming, occupancy, scope, timeutil
from dashboard.auth import require_role, safe_next
from dashboard.db import get_session, utc_now
from dashboard.manage import LOCALES
from dashboard.models import (
    Alert,
    AlertKind,
    AuditEntry,
    Correction,
    Crossing,
    QueueTicket,
    Role,
    Room,
    TicketStatus,
)
from dashboard.reports import opening_occupancy
from dashboard.words import translated

bp = Blueprint("ui", __name__)


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
    sites = scope.visible_sites(db)
    open_filter = alerts_view.AlertFilters(state=alerts_view.AlertState.OPEN)
    latest = db.execute(open_filter.query(utc_now()).limit(10 * alerts_view.OVERVIEW_ALERTS)).scalars()
    open_count = db.execute(
        select(func.count()).select_from(Alert).where(Alert.acknowledged_at.is_(None), scope.alerts_clause())
    ).scalar_one()
    attention = 0
    if current_user.has_role(Role.SUPERVISOR):
        health = alerts_view.health(db, current_app.config["STATION_SILENT_S"], utc_now())
        attention = sum(not station.ok for station in health)
    return render_template(
        "overview.html",
        sites=[(site, room_cards(site.rooms)) for site in sites],
        groups=alerts_view.group(latest)[: alerts_view.OVERVIEW_ALERTS],
        open_count=open_count,
        attention=attention,
        live_after=live_after,
    )


@bp.get("/sites/<site>/rooms/<room>")
@require_role(Role.GUARD)
def room_page(site: str, room: str) -> ResponseReturnValue:
    """A room today: its occupancy curve, counted figures, crossings and corrections."""
    return _room_page(_own_room(site, room))


@bp.get("/rooms/<room>")
@require_role(Role.GUARD)
def old_room_page(room: str) -> ResponseReturnValue:
    """The room's page at its old address, sent on to its site's (one of the user's sites has ``room``).

    404 when none of them has a room ``room``, or more than one does.
    """
    try:
        found = naming.find_room_or_none(get_session(), room, scope.sites_clause(Room.site_id))
    except naming.AmbiguousRoomError:
        found = None
    if found is None:
        abort(404, _("No such room."))
    return redirect(url_for("ui.room_page", site=found.site.slug, room=found.slug), 302)


def _own_room(site: str, room: str) -> Room:
    """Room ``room`` of site ``site`` (its site loaded); 404 unless the user sees it."""
    found = naming.find_room_or_none(
        get_session(), naming.full_name(site, room), scope.sites_clause(Room.site_id)
    )
    if found is None:
        abort(404, _("No such room."))
    return found


@bp.post("/sites/<site>/rooms/<room>/correct")
@require_role(Role.SUPERVISOR)
def correct_count(site: str, room: str) -> ResponseReturnValue:
    """A supervisor corrects the room's count (+N, -N or set to N), with a reason; audited."""
    db = get_session()
    found = _own_room(site, room)
    kind, raw = request.form.get("kind", "set"), request.form.get("people", "").strip()
    try:
        amount = int(raw)
    except ValueError:
        return _room_page(found, 400, error=_("Enter a whole number of people."))
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
        found = _own_room(site, room)
        if err.needs_confirmation:
            return _room_page(found, 409, error=str(err), confirm=True)
        return _room_page(found, 400, error=str(err))
    flash(_("Count of %(room)s corrected: %(count)s.", room=found.name, count=after.occupancy_people), "ok")
    return redirect(url_for("ui.room_page", site=site, room=room))


def _room_page(found: Room, status: int = 200, **extra: object) -> ResponseReturnValue:
    db = get_session()
    live_after = live.last_id(db)
    zone_name = found.site.time_zone  # the room's day and times on its site's clock
    day = timeutil.today(zone_name)
    since, until = timeutil.day_bounds(day, zone_name)
    opening = opening_occupancy(db, found.id, since)
    chart, hours_chart = _room_charts(found, day)
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
        hours_chart=hours_chart,
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


def _room_charts(room: Room, day: date) -> tuple[Markup, Markup]:
    """A room's day: occupancy against near and the limit (and yesterday, a week ago), in/out per hour."""
    db = get_session()
    since, until = timeutil.day_bounds(day)
    others = []
    for days_back, css, label in ((7, "compare-week", _("a week ago")), (1, "compare-day", _("yesterday"))):
        before = day - timedelta(days=days_back)
        start_before, _end = timeutil.day_bounds(before)
        points = chart_data.day_curve(db, room.id, before, since - start_before)
        others.append(charts.Series(label, css, points, through=until))
    near_share = current_app.config["NEAR_SHARE"]
    chart = charts.occupancy_curve(
        chart_data.day_curve(db, room.id, day),
        since,
        until,
        room.limit_people,
        near_share * room.limit_people,
        title=_("Occupancy of %(room)s today", room=room.name),
        now=utc_now(),
        labels=(_("today"), _("near"), _("limit")),
        others=others,
    )
    hours = chart_data.hourly(
        db, [room.id], day, current_app.config["FEVER_C"], timeutil.site_zone(room.site)
    )
    hours_chart = charts.bar_chart(
        [f"{hour:02d}" for hour in range(24)],
        [charts.Bars(_("in"), "bar-in", hours.entries), charts.Bars(_("out"), "bar-out", hours.exits)],
        title=_("Entries and exits of %(room)s per hour today", room=room.name),
    )
    return chart, hours_chart


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
    """Alerts grouped and ranked (open first, by severity), filtered; each station's health."""
    return _alerts_page()


def _alerts_page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    db = get_session()
    silent_s = current_app.config["STATION_SILENT_S"]
    jobs.check_silent(db, silent_s)
    now = utc_now()
    sites = scope.visible_sites(db)
    try:
        filters = alerts_view.AlertFilters.from_args(request.args, db)
    except alerts_view.AlertFilterError as err:
        filters, error, status = alerts_view.AlertFilters(), translated(err), 400
    rows = db.execute(filters.query(now).limit(alerts_view.PAGE_ALERTS)).scalars()
    return render_template(
        "alerts.html",
        groups=alerts_view.group(rows),
        filters=filters,
        sites=sites,
        kinds=[str(kind) for kind in AlertKind],
        states=[str(state) for state in alerts_view.AlertState],
        health=alerts_view.health(db, silent_s, now),
        error=error,
        live_after=live.last_id(db),
    ), status


def _acknowledge(ids: list[int], note: str) -> int:
    """Acknowledge the open alerts among ``ids`` with ``note``; one audit entry; return how many."""
    db = get_session()
    found = db.execute(
        select(Alert)
        .where(Alert.id.in_(ids), Alert.acknowledged_at.is_(None), scope.alerts_clause())
        .order_by(Alert.id)
    ).scalars()
    done = list(found)
    if not done:
        return 0
    now = utc_now()
    for alert in done:
        alert.acknowledged_at, alert.acknowledged_by = now, current_user.username
        alert.acknowledged_note = note
    kinds = sorted({alert.kind for alert in done})
    listed = ", ".join(str(alert.id) for alert in done)
    detail = f"alert {listed} ({', '.join(kinds)})" + (f"; note: {note}" if note else "")
    rooms = {
        alert.room_id if alert.room_id is not None else (alert.station.room_id if alert.station else None)
        for alert in done
    }
    room_id = rooms.pop() if len(rooms) == 1 else None  # the audit entry is seen by that room's site
    audit.record(db, current_user.username, "acknowledge", detail, room_id=room_id)
    db.commit()
    return len(done)


def _note() -> str:
    return " ".join(request.form.get("note", "").split())[:500]


@bp.post("/alerts/<int:alert_id>/ack")
@require_role(Role.SUPERVISOR)
def acknowledge(alert_id: int) -> ResponseReturnValue:
    """Acknowledge an alert (with the form's note, if any)."""
    found = get_session().execute(select(Alert).where(Alert.id == alert_id, scope.alerts_clause()))
    if found.scalar_one_or_none() is None:
        abort(404, _("No such alert."))
    _acknowledge([alert_id], _note())
    return redirect(_back_to_alerts())


@bp.post("/alerts/ack")
@require_role(Role.SUPERVISOR)
def acknowledge_many() -> ResponseReturnValue:
    """Acknowledge the chosen alerts (each checkbox may stand for a group) with one note."""
    try:
        only = request.args.get("only")  # a line's own button: that line, whatever else is ticked
        ids = alerts_view.parse_ids([only] if only is not None else request.form.getlist("ids"))
    except alerts_view.AlertFilterError as err:
        return _alerts_page(400, translated(err))
    done = _acknowledge(ids, _note())
    flash(ngettext("%(num)s alert acknowledged.", "%(num)s alerts acknowledged.", done), "ok")
    return redirect(_back_to_alerts())


def _back_to_alerts() -> str:
    target = request.form.get("next", "")
    if target and safe_next(target) == target:  # a path of this site (no //, backslash or control)
        return target
    return url_for("ui.alerts")


@bp.post("/account/sound")
@require_role(Role.GUARD)
def sound() -> ResponseReturnValue:
    """Turn the alert sound on or off for this user (the notice is shown either way)."""
    chosen = request.form.get("sound", "")
    if chosen not in ("on", "off"):
        abort(400, _("Choose on or off."))
    current_user.alert_sound = chosen == "on"
    get_session().commit()
    target = request.form.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else url_for("ui.overview")
    )


@bp.get("/queue")
@require_role(Role.GUARD)
def queue() -> ResponseReturnValue:
    """Each room's queue today: tickets waiting, called, served and no-shows, and the current wait.

    The current wait is how long the first ticket in line has waited so far (whole minutes).
    """
    db = get_session()
    rooms = scope.visible_rooms(db)
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
    return render_template(
        "queue.html", rooms=rooms, by_room=by_room, waits=waits, live_after=live.last_id(db)
    )


@bp.get("/corrections")
@require_role(Role.SUPERVISOR)
def corrections() -> ResponseReturnValue:
    """Today's corrections (each room's today on its site's clock), with who and why, beside its figures."""
    db = get_session()
    rooms = scope.visible_rooms(db)
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

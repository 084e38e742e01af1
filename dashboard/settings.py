"""Settings: rooms and their limits, stations and their tokens (supervisors), users (admins).

Every change here goes to the audit log (``manage`` and ``audit.record``).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from dashboard import audit, confirm, manage, naming, scope, snippet
from dashboard.auth import end_sessions, require_role
from dashboard.db import get_session
from dashboard.i18n import _n
from dashboard.manage import LOCALES, SetupError
from dashboard.models import Role, Room, Site, Station, User
from dashboard.words import label, translated

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _number(name: str, kind: type[int] | type[float]) -> int | float:
    raw = request.form.get(name, "").strip()
    try:
        return kind(raw)
    except ValueError:
        raise SetupError(
            _n("%(name)s must be a number, got %(value)s"), name=name, value=repr(raw[:20])
        ) from None


#: The time zones of Indonesia's sites, as the settings page offers them.
ZONES = (
    ("Asia/Jakarta", "Asia/Jakarta (WIB)"),
    ("Asia/Makassar", "Asia/Makassar (WITA)"),
    ("Asia/Jayapura", "Asia/Jayapura (WIT)"),
)


def _settings_page(status: int = 200, **extra: object) -> ResponseReturnValue:
    db = get_session()
    sites = scope.visible_sites(db)
    stations = (
        db.execute(
            select(Station)
            .options(joinedload(Station.room).joinedload(Room.site))
            .where(scope.stations_clause(Station.id))
            .order_by(Station.name)
        )
        .scalars()
        .all()
    )
    return render_template("settings.html", sites=sites, stations=stations, zones=ZONES, **extra), status


def _own_station(name: str) -> Station:
    """Station ``name``; 404 unless it is in one of the user's sites."""
    found = (
        get_session()
        .execute(select(Station).where(Station.name == name, scope.stations_clause(Station.id)))
        .scalar_one_or_none()
    )
    if found is None:
        abort(404, _("No such station."))
    return found


@bp.get("/")
@require_role(Role.SUPERVISOR)
def index() -> ResponseReturnValue:
    """Rooms with their capacity, share and limit; stations and when they were last heard."""
    return _settings_page()


@bp.post("/rooms")
@require_role(Role.SUPERVISOR)
def add_room() -> ResponseReturnValue:
    """Add a room (and its site, on first use: admins only; a supervisor adds rooms to their sites)."""
    db = get_session()
    ids = scope.site_ids()
    if ids is not None:
        site = db.execute(
            select(Site).where(Site.slug == request.form.get("site", "").strip())
        ).scalar_one_or_none()
        if site is None or site.id not in ids:
            return _settings_page(403, error=_("You may add rooms only to your own sites."))
    try:
        room = manage.add_room(
            db,
            request.form.get("site", "").strip(),
            request.form.get("room", "").strip(),
            int(_number("capacity", int)),
            request.form.get("share", "").strip() or 0.5,
            name=request.form.get("name", "").strip() or None,
            actor=current_user.username,
        )
    except SetupError as err:
        db.rollback()
        return _settings_page(400, error=translated(err))
    flash(_("Room %(room)s added.", room=naming.room_name(room)), "ok")
    return redirect(url_for("settings.index"))


def _own_room(site: str, room: str) -> Room:
    """Room ``room`` of site ``site``; 404 unless the user sees it."""
    found = naming.find_room_or_none(
        get_session(), naming.full_name(site, room), scope.sites_clause(Room.site_id)
    )
    if found is None:
        abort(404, _("No such room."))
    return found


@bp.post("/sites/<site>/rooms/<room>")
@require_role(Role.SUPERVISOR)
def update_room(site: str, room: str) -> ResponseReturnValue:
    """Change a room's name, capacity or share (and so its limit)."""
    db = get_session()
    found = _own_room(site, room)
    try:
        capacity = manage.check_capacity(int(_number("capacity", int)))
        share = request.form.get("share", "").strip()
        manage.check_share(share)
        manage.set_room(
            db,
            naming.room_name(found),
            capacity_people=capacity,
            share=share,
            name=request.form.get("name", ""),
            actor=current_user.username,
            near_share=current_app.config["NEAR_SHARE"],
        )
    except SetupError as err:
        db.rollback()
        return _settings_page(400, error=translated(err))
    flash(
        _("Room %(room)s saved: limit %(limit)s.", room=naming.room_name(found), limit=found.limit_people),
        "ok",
    )
    return redirect(url_for("settings.index"))


@bp.post("/sites")
@require_role(Role.ADMIN)
def add_site() -> ResponseReturnValue:
    """Add a site on its own, with its name, address and time zone (admins: sites are theirs to make)."""
    db = get_session()
    try:
        site = manage.add_site(
            db,
            request.form.get("site", "").strip(),
            request.form.get("name", ""),
            request.form.get("address", ""),
            request.form.get("time_zone", "").strip() or "Asia/Jakarta",
            actor=current_user.username,
        )
    except SetupError as err:
        db.rollback()
        return _settings_page(400, error=translated(err))
    flash(_("Site %(site)s added.", site=site.name), "ok")
    return redirect(url_for("settings.index"))


@bp.post("/sites/<site>")
@require_role(Role.SUPERVISOR)
def update_site(site: str) -> ResponseReturnValue:
    """Change a site's name, address or time zone: its days, reports and times shown follow the zone.

    A field the form leaves out stays as it is.
    """
    db = get_session()
    found = db.execute(select(Site).where(Site.slug == site)).scalar_one_or_none()
    ids = scope.site_ids()
    if found is None or (ids is not None and found.id not in ids):
        abort(404, _("No such site."))
    try:
        manage.set_site(
            db,
            site,
            time_zone=request.form.get("time_zone"),
            name=request.form.get("name"),
            address=request.form.get("address"),
            actor=current_user.username,
        )
    except SetupError as err:
        db.rollback()
        return _settings_page(400, error=translated(err))
    flash(_("Site %(site)s saved.", site=site), "ok")
    return redirect(url_for("settings.index"))


@bp.post("/stations")
@require_role(Role.SUPERVISOR)
def add_station() -> ResponseReturnValue:
    """Register a station and show its token once."""
    db = get_session()
    try:
        room = naming.find_room(db, request.form.get("room", ""), scope.sites_clause(Room.site_id))
    except naming.RoomNameError as err:
        return _settings_page(400, error=translated(err))
    try:
        station, token = manage.add_station(
            db, request.form.get("name", "").strip(), naming.room_name(room), actor=current_user.username
        )
    except SetupError as err:
        db.rollback()
        return _settings_page(400, error=translated(err))
    return _token_page(station, token)


def _token_page(station: Station, token: str, *, rotated: bool = False) -> ResponseReturnValue:
    """The page showing a station's token once, with its configuration ready to paste (never cached)."""
    url = snippet.dashboard_url(current_app.config["PUBLIC_URL"], request.url_root)
    response = render_template(
        "station_token.html",
        station=station,
        token=token,
        rotated=rotated,
        config_snippet=snippet.station_toml(station, url),
        env_snippet=snippet.station_env(token),
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/stations/<station>/token")
@require_role(Role.SUPERVISOR)
def rotate_token(station: str) -> ResponseReturnValue:
    """Give a station a new token and show it once; the old one stops working at once.

    Asked first (``confirm``): without ``confirm=yes`` only the question is shown.
    """
    db = get_session()
    found = _own_station(station)
    if not confirm.confirmed():
        if found.revoked_at is not None:
            question = _(
                "Give station %(name)s a new token? It is revoked now: with the new token in its "
                "configuration it is let in again.",
                name=station,
            )
        else:
            question = _(
                "Give station %(name)s a new token? Its current token stops working at once: "
                "the station is refused until the new token is in its configuration.",
                name=station,
            )
        return confirm.ask(
            title=_("New token for station %(name)s", name=station),
            question=question,
            confirm_label=_("New token"),
            cancel_url=url_for("settings.index"),
        )
    try:
        token = manage.rotate_token(db, station, actor=current_user.username)
    except SetupError as err:
        db.rollback()
        abort(404, translated(err))
    found = db.execute(
        select(Station).options(joinedload(Station.room).joinedload(Room.site)).where(Station.name == station)
    ).scalar_one()
    return _token_page(found, token, rotated=True)


@bp.post("/stations/<station>/revoke")
@require_role(Role.SUPERVISOR)
def revoke_station(station: str) -> ResponseReturnValue:
    """Refuse a station from now on; a new token lets it in again.

    Asked first (``confirm``): without ``confirm=yes`` only the question is shown.
    """
    db = get_session()
    found = _own_station(station)
    if not confirm.confirmed() and found.revoked_at is None:  # revoked already: refused below, not asked
        return confirm.ask(
            title=_("Revoke station %(name)s", name=station),
            question=_(
                "Revoke station %(name)s? It will be refused until its token is rotated.", name=station
            ),
            confirm_label=_("Revoke"),
            cancel_url=url_for("settings.index"),
        )
    try:
        manage.revoke_station(db, station, actor=current_user.username)
    except SetupError as err:
        db.rollback()
        return _settings_page(400, error=translated(err))
    flash(_("Station %(name)s revoked.", name=station), "ok")
    return redirect(url_for("settings.index"))


def _users_page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    db = get_session()
    rows = db.execute(select(User).options(selectinload(User.sites)).order_by(User.username)).scalars().all()
    page = render_template(
        "users.html",
        users=rows,
        sites=db.execute(select(Site).order_by(Site.slug)).scalars().all(),
        roles=[r.value for r in Role],
        locales=LOCALES,
        min_chars=manage.MIN_PASSWORD_CHARS,
        error=error,
    )
    return page, status


def _user(username: str) -> User:
    """User ``username`` (exact name), else 404."""
    user = get_session().execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        abort(404, _("No such user."))
    return user


@bp.get("/users")
@require_role(Role.ADMIN)
def users() -> ResponseReturnValue:
    """Users, their roles, languages and sites."""
    return _users_page()


@bp.post("/users")
@require_role(Role.ADMIN)
def add_user() -> ResponseReturnValue:
    """Create a user, with the sites ticked (a guard or supervisor sees only those)."""
    db = get_session()
    role = request.form.get("role", "")
    try:
        if role not in {r.value for r in Role}:
            raise SetupError(_n("role must be one of %(choices)s"), choices=", ".join(map(label, Role)))
        user = manage.create_user(
            db,
            request.form.get("username", "").strip(),
            request.form.get("password", ""),
            Role(role),
            locale=request.form.get("locale", "id"),
            sites=request.form.getlist("site"),
            actor=current_user.username,
        )
    except SetupError as err:
        db.rollback()
        return _users_page(400, translated(err))
    flash(_("User %(name)s created.", name=user.username), "ok")
    return redirect(url_for("settings.users"))


@bp.post("/users/<username>/sites")
@require_role(Role.ADMIN)
def set_user_sites(username: str) -> ResponseReturnValue:
    """Make the ticked sites the user's (replacing the ones before; none ticked: no site)."""
    db = get_session()
    _user(username)
    try:
        manage.set_user_sites(db, username, request.form.getlist("site"), actor=current_user.username)
    except SetupError as err:
        db.rollback()
        return _users_page(400, translated(err))
    flash(_("Sites of %(name)s saved.", name=username), "ok")
    return redirect(url_for("settings.users"))


@bp.post("/users/<username>/password")
@require_role(Role.ADMIN)
def reset_password(username: str) -> ResponseReturnValue:
    """Give another user a new password (the rules of ``set-password``) and end their sessions."""
    db = get_session()
    user = _user(username)
    if user.id == current_user.id:
        return _users_page(400, _("Change your own password on your account page: it asks for the old one."))
    try:
        manage.set_password(db, username, request.form.get("password", ""), actor=current_user.username)
    except SetupError as err:
        db.rollback()
        return _users_page(400, translated(err))
    flash(_("Password of %(name)s reset: they were logged out everywhere.", name=username), "ok")
    return redirect(url_for("settings.users"))


@bp.post("/users/<username>")
@require_role(Role.ADMIN)
def update_user(username: str) -> ResponseReturnValue:
    """Change a user's role or language, or disable them (asked first: ``confirm=yes`` disables)."""
    db = get_session()
    user = _user(username)
    role = request.form.get("role", user.role)
    locale = request.form.get("locale", user.locale)
    if role not in {r.value for r in Role} or locale not in LOCALES:
        abort(400, _("Unknown role or language."))
    if user.id == current_user.id and role != Role.ADMIN.value:
        abort(400, _("You cannot take away your own admin role."))
    active = request.form.get("active", "1") == "1" or user.id == current_user.id
    if user.active and not active and not confirm.confirmed():
        return confirm.ask(
            title=_("Disable user %(name)s", name=username),
            question=_(
                "Disable user %(name)s? They are logged out at once and cannot log in until "
                "an admin makes them active again.",
                name=username,
            ),
            confirm_label=_("Disable"),
            cancel_url=url_for("settings.users"),
            fields={"role": role, "locale": locale, "active": "0"},
        )
    role_changed = user.role != role
    user.role, user.locale, user.active = role, locale, active
    if (not user.active or role_changed) and user.id != current_user.id:
        end_sessions(user)  # disabled or given another role: out at once, wherever they are
    audit.record(db, current_user.username, "update-user", f"{username} role {role} active {user.active}")
    db.commit()
    flash(_("User %(name)s saved.", name=username), "ok")
    return redirect(url_for("settings.users"))

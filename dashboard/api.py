"""API v1: stations post events with their token; anyone allowed reads a room's occupancy.

Every answer is JSON, errors included (``{"error": ..., "field": ...}``); see ``openapi.py``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import text

from dashboard import live, metrics, naming, occupancy, scope, validate
from dashboard.auth import public
from dashboard.db import get_session
from dashboard.ingest import Rules, Sender, ingest, sender_for_token
from dashboard.models import Room
from dashboard.openapi import document
from station.events import API_VERSION, EventError, parse_batch, utc_now

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix=f"/api/{API_VERSION}")
TOKEN_ATTR = "gerbang_station_token"
F = TypeVar("F", bound=Callable[..., Any])


def token_hash(token: str) -> str:
    """Return the hex SHA-256 of a station token: all the database keeps of it."""
    return hashlib.sha256(token.encode()).hexdigest()


def station_token(view: F) -> F:
    """Mark a view as authenticated by a station token (for the authorization test)."""
    setattr(view, TOKEN_ATTR, True)
    return view


def _bearer_station() -> Sender | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return sender_for_token(get_session(), token_hash(token.strip()))


def _error(status: int, message: str, field: str | None = None) -> ResponseReturnValue:
    body: dict[str, str] = {"error": message}
    if field is not None:
        body["field"] = field
    return jsonify(body), status


@bp.post("/events")
@station_token
@metrics.timed_ingest
def post_events() -> ResponseReturnValue:
    """Accept a station's batch ``{"events": [...]}``: all of it or, if one event is bad, none."""
    station = _bearer_station()
    if station is None:
        return _error(401, "a valid station token is required (Authorization: Bearer TOKEN)")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # thousands of nested arrays: valid JSON, but no batch
        body = None
    if body is None:
        return _error(400, 'the body must be JSON: {"events": [...]}')
    try:
        events = parse_batch(body, max_events=current_app.config["MAX_EVENTS_PER_BATCH"])
        validate.check_batch(events)
        validate.check_times(events, utc_now(), current_app.config["PURGE_AFTER_DAYS"])
    except EventError as err:
        return _error(400, str(err), err.field)
    except OverflowError:  # a time whose zone pushes it past year 1 or 9999
        return _error(400, "a time is out of the range years 1 to 9999", "at")
    config = current_app.config
    rules = Rules(fever_c=config["FEVER_C"], near_share=config["NEAR_SHARE"])
    doors = current_app.extensions.setdefault("gerbang_door_ids", {})
    result = ingest(get_session(), station, events, rules, doors)
    metrics.current().ingested(result.accepted, result.duplicates)
    log.info(
        "station %s: %s accepted, %s duplicates", station.station_name, result.accepted, result.duplicates
    )
    response = jsonify(accepted=result.accepted, duplicates=result.duplicates)
    if result.accepted:  # the pages hear of it once the station has its answer, not before
        notifier = current_app.extensions["gerbang_notifier"]
        response.call_on_close(lambda: live.committed(notifier))
    return response


@bp.get("/rooms/<path:room>/occupancy")
@station_token
def room_occupancy(room: str) -> ResponseReturnValue:
    """Return a room's count, limit, capacity and state (station token of that room, or a user).

    ``room`` is ``SITE/ROOM`` (the slash may be sent as ``%2F``), or ``ROOM`` while only one site
    (of those the caller sees) has it; a bare name more sites have is refused with 400 naming them.
    """
    station = _bearer_station()
    if station is None and not current_user.is_authenticated:
        return _error(401, "a station token of this room or a login is required")
    session = get_session()
    try:  # a name that is not SITE/ROOM or ROOM never reaches the database
        if station is not None:  # its own room, by either name; another room is not its to read
            found = naming.find_room_or_none(session, room, Room.id == station.room_id)
            if found is None and naming.candidates(session, room):
                return _error(403, "this station's token belongs to another room")
        else:
            found = naming.find_room_or_none(session, room, scope.sites_clause(Room.site_id))
    except naming.AmbiguousRoomError as err:
        return _error(400, str(err))
    except naming.RoomNameError:
        found = None
    if found is None:
        return _error(404, f"no room {room[:130]!r}")
    return occupancy.snapshot(found, current_app.config["NEAR_SHARE"])


@bp.get("/health")
@public
def health() -> ResponseReturnValue:
    """Say whether the dashboard and its database answer."""
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:  # the database is down: say so, do not crash
        log.exception("health check: database unreachable")
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok", "version": API_VERSION}


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """Return the OpenAPI 3.1 document of API v1."""
    return document()

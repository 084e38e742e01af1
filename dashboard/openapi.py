"""The OpenAPI 3.1 document of API v1."""

from __future__ import annotations

from typing import Any

from dashboard.validate import SLUG, max_length
from station.events import EVENT_CLASSES, MAX_TEXT, Event, EventType

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "field": {"type": "string", "description": "e.g. events[1] (UUID).direction"},
    },
}
_COMMON = {
    "id": {"type": "string", "format": "uuid"},
    "at": {"type": "string", "format": "date-time", "description": "ISO 8601 with a time zone"},
}


def _limited(cls: type[Event], properties: dict[str, Any]) -> dict[str, Any]:
    """Add ``maxLength`` to text fields: the database's column, else the wire's cap."""
    out = {}
    for name, schema in properties.items():
        types = schema.get("type")
        if types == "string" or (isinstance(types, list) and "string" in types):
            schema = {**schema, "maxLength": max_length(cls, name) or MAX_TEXT}
        out[name] = schema
    return out


def _event(kind: str, required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    properties = _limited(EVENT_CLASSES[EventType(kind)], properties)
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "type", "at", *required],
        "properties": {"type": {"const": kind}, **_COMMON, **properties},
    }


_EVENTS = {
    "CrossingEvent": _event(
        "crossing",
        ["direction"],
        {
            "direction": {"enum": ["in", "out"]},
            "door": {"type": "string", "default": "main"},
            "source": {"type": "string", "default": "camera"},
        },
    ),
    "ScreeningEvent": _event(
        "screening",
        ["decision"],
        {
            "decision": {"enum": ["allow", "deny", "retest"]},
            "reason": {"type": "string", "default": "ok"},
            "raw_c": {"type": ["number", "null"]},
            "body_c": {"type": ["number", "null"]},
            "mask": {"enum": ["with_mask", "without_mask", "incorrect", None]},
            "temperature_policy": {"enum": ["hard", "soft"]},
            "mask_policy": {"enum": ["hard", "soft"]},
            "retest": {"type": "boolean"},
            "ticket": {"type": ["integer", "null"]},
            "override_by": {"type": ["string", "null"]},
            "override_reason": {"type": ["string", "null"]},
        },
    ),
    "CorrectionEvent": _event(
        "correction",
        ["by"],
        {
            "delta": {"type": ["integer", "null"]},
            "value": {"type": ["integer", "null"]},
            "by": {"type": "string"},
            "reason": {"type": "string"},
        },
    ),
    "StatusEvent": _event(
        "status",
        ["device", "state"],
        {"device": {"type": "string"}, "state": {"type": "string"}, "detail": {"type": "string"}},
    ),
    "QueueEvent": _event(
        "queue",
        ["ticket", "action"],
        {"ticket": {"type": "integer"}, "action": {"enum": ["issued", "called", "served", "cancelled"]}},
    ),
}


_PAGE_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "description": "items per page (default 100)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500},
    },
    {
        "name": "after",
        "in": "query",
        "description": "the next_after of the page before",
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
    },
]
#: A room's name: ``SITE/ROOM``, or ``ROOM`` alone while only one of the caller's sites has it.
ROOM_NAME = {
    "type": "string",
    "maxLength": 129,
    "pattern": f"^(?:(?:{SLUG.pattern})/)?(?:{SLUG.pattern})$",
}
_ROOM_NAME_TEXT = (
    "SITE/ROOM (site and room slugs), or ROOM alone while only one of your sites has a room by that "
    "name (400 when more do)"
)
_ROOM_PARAMETER = {
    "name": "room",
    "in": "query",
    "description": f"one room: {_ROOM_NAME_TEXT}",
    "schema": ROOM_NAME,
}
_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_READ_ITEMS: dict[str, dict[str, Any]] = {
    "Room": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "site": {"type": "string"},
        "room": {"type": "string"},
        "occupancy": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer"},
        "capacity": {"type": "integer"},
        "state": {"enum": ["open", "near", "full"]},
    },
    "Crossing": {
        "id": {"type": "integer"},
        "at": _TIME,
        "site": {"type": "string"},
        "room": {"type": "string"},
        "door": {"type": "string"},
        "direction": {"enum": ["in", "out"]},
        "counted": {"type": "boolean"},
        "occupancy_after": {"type": "integer"},
    },
    "Screening": {
        "id": {"type": "integer"},
        "at": _TIME,
        "site": {"type": "string"},
        "room": {"type": "string"},
        "station": {"type": "string"},
        "decision": {"enum": ["allow", "deny", "retest"]},
        "reason": {"type": "string"},
        "mask": {"type": ["string", "null"]},
        "retest": {"type": "boolean"},
        "ticket": {"type": ["integer", "null"]},
        "body_c": {"type": ["number", "null"], "description": "supervisors and admins only"},
        "raw_c": {"type": ["number", "null"], "description": "supervisors and admins only"},
    },
    "Alert": {
        "id": {"type": "integer"},
        "at": _TIME,
        "kind": {"type": "string"},
        "severity": {"enum": ["high", "medium", "low"]},
        "site": {"type": ["string", "null"], "description": "the room's site, or the station's"},
        "room": {"type": ["string", "null"]},
        "station": {"type": ["string", "null"]},
        "detail": {"type": "string"},
        "acknowledged_at": _NULLABLE_TIME,
        "acknowledged_by": {"type": ["string", "null"]},
    },
    "RoomQueue": {
        "id": {"type": "integer"},
        "site": {"type": "string"},
        "room": {"type": "string"},
        "tickets": {
            "type": "object",
            "description": "today's ticket numbers by state",
            "additionalProperties": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "StationHealth": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "site": {"type": "string"},
        "room": {"type": "string"},
        "last_seen_at": _NULLABLE_TIME,
        "heard": {"type": "boolean"},
        "ok": {"type": "boolean"},
        "devices": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "device": {"type": "string"},
                    "state": {"type": "string"},
                    "detail": {"type": "string"},
                    "at": _TIME,
                },
            },
        },
    },
}
# (path, item schema, summary, extra parameters)
_READS: list[tuple[str, str, str, list[dict[str, Any]]]] = [
    ("/rooms", "Room", "The rooms of your sites with live occupancy against the limit", []),
    ("/crossings", "Crossing", "Door crossings of your rooms, oldest first", [_ROOM_PARAMETER]),
    (
        "/screenings",
        "Screening",
        "Screening decisions of your rooms; temperatures for supervisors and admins",
        [_ROOM_PARAMETER],
    ),
    (
        "/alerts",
        "Alert",
        "Alerts of your rooms and stations (supervisors and admins)",
        [
            _ROOM_PARAMETER,
            {"name": "state", "in": "query", "schema": {"enum": ["open", "acknowledged", "all"]}},
        ],
    ),
    ("/queue", "RoomQueue", "Each room's queue today, tickets by state", []),
    ("/stations", "StationHealth", "Stations' health: heard lately, each device's state (supervisors)", []),
]


def _page_schema(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_after"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "next_after": {"type": ["integer", "null"], "description": "the cursor of the next page"},
        },
    }


def _read_paths(error: dict[str, Any]) -> dict[str, Any]:
    return {
        path: {
            "get": {
                "summary": summary,
                "security": [{"session": []}, {"user": []}],
                "parameters": [*_PAGE_PARAMETERS, *extra],
                "responses": {
                    "200": {"description": "a page", **_json(_page_schema(item))},
                    "400": error,
                    "401": error,
                    "403": error,
                },
            }
        }
        for path, item, summary, extra in _READS
    }


def _json(schema: dict[str, Any] | str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    return {"content": {"application/json": {"schema": ref}}}


def document() -> dict[str, Any]:
    """Return the document as a JSON-ready dict."""
    error = {"description": "error", **_json("Error")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Gerbang dashboard API", "version": "v1"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "station": {"type": "http", "scheme": "bearer", "description": "a station's token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "user": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a user's API token (gerbang dashboard api-token NAME), for reading",
                },
            },
            "schemas": {
                "Error": _ERROR,
                **_EVENTS,
                **{name: {"type": "object", "properties": props} for name, props in _READ_ITEMS.items()},
                "Batch": {
                    "type": "object",
                    "required": ["events"],
                    "additionalProperties": False,
                    "properties": {
                        "events": {
                            "type": "array",
                            "maxItems": 500,
                            "items": {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in _EVENTS]},
                        }
                    },
                },
                "Occupancy": {
                    "type": "object",
                    "required": ["site", "room", "occupancy", "limit", "capacity", "state"],
                    "properties": {
                        "site": {"type": "string"},
                        "room": {"type": "string"},
                        "occupancy": {"type": "integer", "minimum": 0},
                        "limit": {"type": "integer"},
                        "capacity": {"type": "integer"},
                        "state": {"enum": ["open", "near", "full"]},
                    },
                },
            },
        },
        "paths": {
            "/events": {
                "post": {
                    "summary": "Ingest a station's batch; one invalid event rejects the whole batch",
                    "security": [{"station": []}],
                    "requestBody": {"required": True, **_json("Batch")},
                    "responses": {
                        "200": {
                            "description": "applied; ids seen before count as duplicates",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "accepted": {"type": "integer"},
                                        "duplicates": {"type": "integer"},
                                    },
                                }
                            ),
                        },
                        "400": error,
                        "401": error,
                        "413": error,
                        "503": {"description": "the database is unavailable; retry", **_json("Error")},
                    },
                }
            },
            "/rooms/{room}/occupancy": {
                "get": {
                    "summary": "A room's live occupancy against its limit",
                    "security": [{"station": []}, {"session": []}],
                    "parameters": [
                        {
                            "name": "room",
                            "in": "path",
                            "required": True,
                            "description": f"{_ROOM_NAME_TEXT}; the slash may be sent as %2F",
                            "schema": ROOM_NAME,
                        }
                    ],
                    "responses": {
                        "200": {"description": "the room", **_json("Occupancy")},
                        "400": error,
                        "401": error,
                        "403": error,
                        "404": error,
                    },
                }
            },
            "/health": {
                "get": {"summary": "Liveness and database check", "responses": {"200": {"description": "ok"}}}
            },
            **_read_paths(error),
        },
    }

"""The wire schema shared by the station and the dashboard's API."""

import pytest

from station.events import (
    CorrectionEvent,
    CrossingEvent,
    Decision,
    Direction,
    EventError,
    Mask,
    QueueAction,
    QueueEvent,
    ScreeningEvent,
    StatusEvent,
    parse_batch,
    parse_event,
)

ID = "0b9e6c1e-8a64-4f57-9d0c-2f1c5b1b7e01"
AT = "2026-11-28T08:00:00+07:00"


@pytest.mark.parametrize(
    "event",
    [
        # every event type survives the round trip through JSON
        CrossingEvent(direction=Direction.IN, door="east"),
        ScreeningEvent(
            decision=Decision.RETEST, reason="fever", raw_c=35.9, body_c=37.6, mask=Mask.WITH_MASK
        ),
        CorrectionEvent(delta=-1, by="guard1", reason="counted twice"),
        CorrectionEvent(value=12, by="guard1", reason="recount"),
        StatusEvent(device="thermometer", state="offline", detail="unplugged"),
        QueueEvent(ticket=7, action=QueueAction.CALLED),
    ],
)
def test_round_trip(event):
    assert parse_event(event.to_json()) == event


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        # not an object
        ([], "event", "expected a JSON object"),
        # an unknown type
        ({"type": "party", "id": ID, "at": AT}, "type", "expected one of crossing"),
        # a missing required field
        ({"type": "crossing", "id": ID, "at": AT}, "direction", "missing"),
        # a direction that is neither in nor out
        ({"type": "crossing", "id": ID, "at": AT, "direction": "up"}, "direction", "expected one of in, out"),
        # a list where a direction belongs (found by schemathesis: was a TypeError, a 500)
        (
            {"type": "crossing", "id": ID, "at": AT, "direction": ["in"]},
            "direction",
            "expected one of in, out",
        ),
        # an unknown type given as an object
        ({"type": {"a": 1}, "id": ID, "at": AT}, "type", "expected one of crossing"),
        # an id that is not a UUID
        ({"type": "crossing", "id": "42", "at": AT, "direction": "in"}, "id", "expected a UUID"),
        # a time without a zone
        ({"type": "crossing", "id": ID, "at": "2026-11-28T08:00:00", "direction": "in"}, "at", "time zone"),
        # a temperature as text
        (
            {"type": "screening", "id": ID, "at": AT, "decision": "allow", "body_c": "36.6"},
            "body_c",
            "number",
        ),
        # NaN is not a temperature
        (
            {"type": "screening", "id": ID, "at": AT, "decision": "allow", "raw_c": float("nan")},
            "raw_c",
            "number",
        ),
        # an unknown field (a typo) is refused, not ignored
        ({"type": "crossing", "id": ID, "at": AT, "direction": "in", "dor": "x"}, "dor", "unknown field"),
        # a correction with both delta and value
        (
            {"type": "correction", "id": ID, "at": AT, "by": "g", "delta": 1, "value": 3},
            "delta",
            "exactly one",
        ),
        # a boolean is not a count
        ({"type": "correction", "id": ID, "at": AT, "by": "g", "delta": True}, "delta", "whole number"),
        # an over-long text
        ({"type": "status", "id": ID, "at": AT, "device": "x" * 501, "state": "on"}, "device", "longer than"),
    ],
)
def test_invalid_events_name_the_field(data, field, message):
    with pytest.raises(EventError, match=message) as caught:
        parse_event(data)
    assert caught.value.field == field


def test_a_bad_event_rejects_the_batch_naming_index_id_and_field():
    good = CrossingEvent(direction=Direction.IN).to_json()
    bad = {**CrossingEvent(direction=Direction.OUT, id=ID).to_json(), "direction": "sideways"}
    with pytest.raises(EventError) as caught:
        parse_batch({"events": [good, bad]})
    assert caught.value.field == f"events[1] ({ID}).direction"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # not the envelope
        ([], "expected"),
        # events is not a list
        ({"events": {}}, "expected"),
        # too many events at once
        ({"events": [{}] * 501}, "at most 500"),
    ],
)
def test_bad_batches(body, message):
    with pytest.raises(EventError, match=message):
        parse_batch(body)


def test_times_are_kept_in_utc():
    event = parse_event({"type": "crossing", "id": ID, "at": AT, "direction": "in"})
    assert event.at.isoformat() == "2026-11-28T01:00:00+00:00"

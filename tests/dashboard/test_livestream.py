"""The event-loop live stream's parts: batches encoded once, each page's share, a lagging page closed."""

from __future__ import annotations

import asyncio

import pytest

from dashboard.live import Message
from dashboard.livestream import QUEUE_BATCHES, Batch, LiveHub, Subscriber
from dashboard.scope import RIGHTS_KIND, StreamStart

LOBBY = Message(11, "occupancy", {"site": "kantor-pusat", "room": "lobby", "occupancy": 1})
GUDANG = Message(12, "occupancy", {"site": "cabang", "room": "gudang", "occupancy": 5})
SILENT = Message(13, "alert", {"kind": "station_silent", "site": None, "room": None, "station": "gate-1"})
ORPHAN = Message(14, "alert", {"kind": "events_set_aside", "site": None, "room": None, "station": None})
OTHER_LOBBY = Message(16, "occupancy", {"site": "cabang", "room": "lobby", "occupancy": 9})  # same slug
ALL = [LOBBY, GUDANG, SILENT, ORPHAN, OTHER_LOBBY]
LOBBY_AFTER = Message(15, "occupancy", {"site": "kantor-pusat", "room": "lobby", "occupancy": 2})
LOBBY_ONLY = StreamStart(0, rooms=frozenset({"kantor-pusat/lobby"}), stations=frozenset({"gate-1"}))


@pytest.mark.parametrize(
    ("start", "after_id", "ids"),
    [
        # an admin's stream carries everything after its position
        (StreamStart(0), 0, [11, 12, 13, 14, 16]),
        # ... and nothing it already has
        (StreamStart(0), 12, [13, 14, 16]),
        # a lobby guard: lobby's count, and the silent alert of its station (no room named); never
        # the count of another site's room that is also called lobby
        (LOBBY_ONLY, 0, [11, 13]),
        # a guard of no site: nothing at all
        (StreamStart(0, rooms=frozenset()), 0, []),
    ],
)
def test_a_batch_gives_each_stream_its_share(start: StreamStart, after_id: int, ids: list[int]) -> None:
    batch = Batch.of(ALL)
    expected = b"".join(m.to_sse().encode() for m in ALL if m.id in ids)
    assert batch.after(start, after_id) == expected
    assert batch.after(start, after_id) == expected  # the second stream of the audience: the same bytes


def test_the_hub_hands_each_batch_on_in_order_and_moves_its_position() -> None:
    async def scenario() -> list[bytes | None]:
        hub = LiveHub(10)
        subscriber, position = hub.subscribe(StreamStart(10))
        assert position == 10
        hub.publish([LOBBY])
        hub.publish([GUDANG])
        await asyncio.sleep(0)  # the pump's later slices
        assert hub.position == 12
        got = [subscriber.queue.get_nowait(), subscriber.queue.get_nowait()]
        hub.unsubscribe(subscriber)
        return got

    assert asyncio.run(scenario()) == [LOBBY.to_sse().encode(), GUDANG.to_sse().encode()]


def test_a_stream_that_falls_too_far_behind_is_closed_with_nothing_half_sent() -> None:
    async def scenario() -> Subscriber:
        subscriber = Subscriber(StreamStart(0), 0)
        for number in range(QUEUE_BATCHES + 1):
            subscriber.offer(Batch.of([Message(number + 1, "occupancy", {"room": "lobby"})]))
        return subscriber

    subscriber = asyncio.run(scenario())
    assert subscriber.overflowed
    # only the end is left: the page reconnects after the last id it got and is caught up
    assert subscriber.queue.get_nowait() is None
    assert subscriber.queue.empty()


def test_a_new_stream_behind_the_hub_is_told_how_far_to_catch_up() -> None:
    hub = LiveHub(40)
    subscriber, position = hub.subscribe(StreamStart(25))
    assert position == 40  # the replay covers 26..40 from the outbox, the hub brings 41 on
    assert subscriber.after_id == 40


@pytest.mark.parametrize(
    ("accepts", "written", "ended"),
    [
        # a page that reads: what was queued goes first, then each later batch straight out
        (True, [LOBBY, GUDANG, SILENT], False),
        # a page that stopped reading (the socket's buffer full): the stream ends, to be resumed
        (False, [LOBBY], True),
    ],
)
def test_once_caught_up_a_stream_writes_straight_to_its_socket(
    accepts: bool, written: list[Message], ended: bool
) -> None:
    async def scenario() -> tuple[list[bytes], Subscriber]:
        out: list[bytes] = []

        def write(data: bytes) -> bool:
            out.append(data)
            return accepts

        subscriber = Subscriber(StreamStart(0), 0)
        subscriber.offer(Batch.of([LOBBY]))
        subscriber.offer(Batch.of([GUDANG]))  # queued while the replay is sent
        subscriber.go_direct(write)
        subscriber.offer(Batch.of([SILENT]))
        return out, subscriber

    out, subscriber = asyncio.run(scenario())
    assert out == [m.to_sse().encode() for m in written]
    assert (not subscriber.queue.empty() and subscriber.queue.get_nowait() is None) is ended


def test_a_rights_message_ends_only_its_users_streams_and_reaches_no_page() -> None:
    async def scenario() -> tuple[list[bytes | None], list[bytes | None]]:
        hub = LiveHub(10)
        ended, _ = hub.subscribe(StreamStart(10, user_id=1))
        other, _ = hub.subscribe(StreamStart(10, user_id=2))
        hub.publish([Message(11, RIGHTS_KIND, {"user": 1}), LOBBY_AFTER])
        await asyncio.sleep(0)
        drained = [[q.get_nowait() for _ in range(q.qsize())] for q in (ended.queue, other.queue)]
        return drained[0], drained[1]

    ended, other = asyncio.run(scenario())
    assert ended[0] is None  # its stream ends; the browser reconnects and is checked again
    assert other == [LOBBY_AFTER.to_sse().encode()]  # the other user's: the page's message only


@pytest.mark.parametrize(
    ("start", "ends"),
    [
        # the user's own stream
        (StreamStart(0, user_id=1), True),
        # an admin's stream of another user
        (StreamStart(0, user_id=2), False),
        # a stream of no known user
        (StreamStart(0), False),
    ],
)
def test_who_a_rights_message_ends(start: StreamStart, ends: bool) -> None:
    message = Message(11, RIGHTS_KIND, {"user": 1})
    assert start.ended_by(message) is ends
    assert not start.may_see(message)  # never sent, not even to an admin

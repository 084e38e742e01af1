"""The server's own answers: a request body read whole on the loop before a thread sees it."""

from __future__ import annotations

import asyncio
import json

import pytest
from flask import Flask

from dashboard.serve import DashboardServer


def body_parts(*parts: bytes, then_wait: bool = False):
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)
    ]
    if then_wait:
        messages[-1]["more_body"] = True

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # the client sends nothing more

    return receive


@pytest.mark.parametrize(
    ("parts", "then_wait", "expected"),
    [
        # a body in three parts: handed on whole, in one message
        ((b'{"ev', b'ents"', b": []}"), False, b'{"events": []}'),
        # a body that stops coming: 408 after the timeout, no thread ever held
        ((b'{"ev',), True, 408),
        # a body over MAX_CONTENT_LENGTH (64 bytes here): 413 as soon as it is over
        ((b"x" * 40, b"x" * 40), True, 413),
    ],
)
def test_a_request_body_is_read_whole_on_the_loop(
    app: Flask, parts: tuple[bytes, ...], then_wait: bool, expected: bytes | int
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 64
    server = DashboardServer(app, threads=1, body_timeout_s=0.2)
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def scenario():
        replay = await server._whole_body(body_parts(*parts, then_wait=then_wait), send)
        return None if replay is None else await replay()

    handed_on = asyncio.run(scenario())
    server.wsgi.executor.shutdown(wait=False)
    server.live.close()
    if isinstance(expected, bytes):
        assert handed_on == {"type": "http.request", "body": expected, "more_body": False}
        assert sent == []
    else:
        assert handed_on is None
        assert sent[0]["status"] == expected
        assert "error" in json.loads(sent[1]["body"])

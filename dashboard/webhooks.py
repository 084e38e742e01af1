"""Alert webhooks signed with HMAC-SHA256, so a receiver can tell they came from this dashboard.

Each alert is POSTed as JSON with three headers:

* ``X-Gerbang-Event: alert``;
* ``X-Gerbang-Timestamp``: Unix seconds when it was signed;
* ``X-Gerbang-Signature: sha256=HEX``: HMAC-SHA256 with the shared secret over
  ``TIMESTAMP + "." + BODY`` (the exact bytes sent).

A receiver recomputes the HMAC over the bytes it got, compares in constant time, and refuses a
timestamp more than a few minutes old (a replay); ``verify`` does all three.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Protocol

from dashboard.live import Message

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Gerbang-Signature"
TIMESTAMP_HEADER = "X-Gerbang-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Return the signature header's value for ``body`` sent at ``timestamp``."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    secret: bytes, timestamp: str, body: bytes, signature: str, now_s: float, tolerance_s: float = 300
) -> bool:
    """Whether ``signature`` is this secret's over ``body`` and ``timestamp`` is recent enough."""
    try:
        age_s = abs(now_s - int(timestamp))
    except ValueError:
        return False
    return age_s <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


class Poster(Protocol):
    """Posts bytes to a URL."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST ``body``; return the HTTP status (raise ``OSError`` when unreachable)."""


class UrllibPoster:
    """``Poster`` over urllib, with a timeout."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """See ``Poster.post``."""
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code


class WebhookSink:
    """A forwarding sink that POSTs each alert, signed, retrying a few times on failure.

    Args:
        url: The receiver's address.
        secret: The shared secret (at least 16 bytes).
        poster: Does the HTTP.
        attempts: Tries per alert.
        backoff_s: Wait after the first failed try (doubled after each).
        clock: Unix seconds (a fake in tests).
        sleep: Waits (a fake in tests).
    """

    def __init__(
        self,
        url: str,
        secret: bytes,
        poster: Poster | None = None,
        *,
        attempts: int = 3,
        backoff_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the webhook secret must have at least 16 bytes")
        self.url = url
        self.secret = secret
        self.poster = poster or UrllibPoster()
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.clock = clock
        self.sleep = sleep

    def deliver(self, message: Message) -> None:
        """POST an alert (other messages are not sent); raise after the last failed try."""
        if message.kind != "alert":
            return
        body = json.dumps({"event": "alert", **message.data}, separators=(",", ":")).encode()
        wait_s = self.backoff_s
        problem = ""
        for attempt in range(1, self.attempts + 1):
            timestamp = str(int(self.clock()))
            headers = {
                "Content-Type": "application/json",
                "X-Gerbang-Event": "alert",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            }
            try:
                status = self.poster.post(self.url, body, headers)
            except OSError as err:
                problem = str(err)
            else:
                if 200 <= status < 300:
                    return
                problem = f"answered {status}"
            log.warning("webhook %s: try %s of %s %s", self.url, attempt, self.attempts, problem)
            if attempt < self.attempts:
                self.sleep(wait_s)
                wait_s *= 2
        raise OSError(f"webhook {self.url} failed after {self.attempts} tries: {problem}")

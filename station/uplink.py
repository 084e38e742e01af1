"""The uplink: ships the journal to the dashboard's ``POST /api/v1/events`` in order, with back-off."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from station.journal import Journal, JournalError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The dashboard's answer to a batch."""

    accepted: int
    duplicates: int


class BatchRejectedError(Exception):
    """The dashboard refused a batch as invalid (400); retrying the same bytes will not help.

    Attributes:
        message: The dashboard's explanation (it names the event and the field).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UplinkError(Exception):
    """The dashboard could not be reached or failed; try again later."""


class BatchTooLargeError(UplinkError):
    """The dashboard refused the request as too large (413): send fewer events at a time."""


class ServerError(UplinkError):
    """The dashboard failed on this batch (500): maybe a fault of its own, maybe one event it chokes on."""


class Sender(Protocol):
    """Delivers one batch of events."""

    def send(self, events: list[dict]) -> Receipt:
        """Deliver ``events``; raise UplinkError to retry later, BatchRejectedError for bad input."""
        ...


class HttpSender:
    """Sends batches to a dashboard over HTTP, on one kept-alive connection.

    A fleet's stations post every second or so: reusing the connection spares both sides a TCP
    (and TLS) handshake per batch. A connection the server has since closed is replaced and the
    batch sent once more (safe: the dashboard applies an event id once). The ``http_proxy`` /
    ``https_proxy`` / ``no_proxy`` environment variables are honoured as by ``urllib``.

    Args:
        base_url: The dashboard's address, such as ``http://10.0.0.5:5000`` or ``https://...``.
        token: The station's token.
        timeout_s: Time allowed for one request.
    """

    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self.url = base_url.rstrip("/") + "/api/v1/events"
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {base_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname  # without an IPv6 address's brackets
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._path = parts.path
        self._proxy = _proxy_for(parts.scheme, parts.netloc)
        if self._proxy is not None and parts.scheme == "http":
            self._path = self.url  # a plain-HTTP proxy is sent the whole address
        self._token = token
        self.timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def send(self, events: list[dict]) -> Receipt:
        """POST the batch; see ``Sender.send``."""
        body = json.dumps({"events": events}).encode()
        with self._lock:
            try:
                status, payload = self._post(body)
            except (OSError, http.client.HTTPException) as err:
                self.close()
                raise UplinkError(f"{self.url} unreachable: {err}") from err
        if status == 200:
            try:
                answer = json.loads(payload)
                return Receipt(int(answer.get("accepted", 0)), int(answer.get("duplicates", 0)))
            except (ValueError, AttributeError, TypeError) as err:
                raise UplinkError(f"{self.url} answered 200 with no receipt: {payload[:200]!r}") from err
        detail = _error_text(payload, http.client.responses.get(status, "error"))
        if status == 400:
            raise BatchRejectedError(detail)
        if status == 413:
            raise BatchTooLargeError(f"{self.url} answered 413: {detail}")
        if status == 500:
            raise ServerError(f"{self.url} answered 500: {detail}")
        raise UplinkError(f"{self.url} answered {status}: {detail}")

    def close(self) -> None:
        """Close the kept-alive connection (the next batch opens a new one).

        Safe while another thread sends: that send fails with an ``UplinkError``.
        """
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _post(self, body: bytes) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self._token}"}
        reused = self._conn is not None
        try:
            return self._exchange(body, headers)
        except (ConnectionError, http.client.RemoteDisconnected, http.client.CannotSendRequest):
            if not reused:
                raise
            self.close()  # the server closed the idle connection: once more on a new one
            return self._exchange(body, headers)

    def _exchange(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        conn = self._conn
        if conn is None:
            conn = self._conn = self._connect()
        conn.request("POST", self._path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if response.will_close:
            self.close()
        return response.status, payload

    def _connect(self) -> http.client.HTTPConnection:
        if self._proxy is None:
            kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            return kind(self._host, self._port, timeout=self.timeout_s)
        proxy_host, proxy_port = self._proxy
        if self._scheme == "https":  # a CONNECT tunnel through the proxy; TLS end to end
            conn = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=self.timeout_s)
            conn.set_tunnel(self._host, self._port)
            return conn
        return http.client.HTTPConnection(proxy_host, proxy_port, timeout=self.timeout_s)


def _proxy_for(scheme: str, netloc: str) -> tuple[str, int] | None:
    """Return the (host, port) of the proxy the environment names for ``scheme``, unless bypassed."""
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(netloc):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or 8080


def _error_text(payload: bytes, reason: str) -> str:
    """Return the dashboard's explanation from an error body, else ``reason``."""
    try:
        body = json.loads(payload or b"{}")
    except ValueError:
        return reason
    if not isinstance(body, dict):
        return reason
    return str(body.get("error") or body.get("message") or reason)


class Uplink:
    """Ships pending journal entries in batches, oldest first, until stopped.

    A refused batch is split to find the refused event, which is set aside (with the reason) so it
    cannot block the events behind it; the rest go on. A batch too large for the dashboard (413) is
    halved until it fits, and batches grow back after it; one event too large on its own is set
    aside. Network failures back off exponentially. A batch that keeps failing with a server error
    (500) is sent one event at a time: an event that fails while the events after it go through is
    set aside too (one string the dashboard chokes on must not stop the station's flow for good);
    when every one fails, the dashboard is down and nothing is set aside. Set-aside events stay in
    the journal (``gerbang station resend``).

    Args:
        journal: The station's journal.
        sender: Delivers batches.
        batch_size: Events per request.
        backoff_initial_s: First wait after a failure.
        backoff_max_s: Longest wait between tries.
        idle_s: Wait between looks at an empty journal.
        narrow_after: Server errors in a row on the same batch before it is sent one by one.
        on_set_aside: Called with (event id, reason) for every event set aside.
    """

    def __init__(
        self,
        journal: Journal,
        sender: Sender,
        *,
        batch_size: int = 50,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 30.0,
        idle_s: float = 0.2,
        narrow_after: int = 3,
        on_set_aside: Callable[[str, str], None] | None = None,
    ) -> None:
        self.journal = journal
        self.narrow_after = narrow_after
        self.on_set_aside = on_set_aside
        self._failing: tuple[int, int] = (0, 0)  # (first seq of the failing batch, failures in a row)
        self.sender = sender
        self.batch_size = batch_size
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._idle_s = idle_s
        self._wake = threading.Event()
        self._size_limit = batch_size  # lowered after a 413, grown back after each batch that fits
        self.online: bool | None = None
        self.sent = 0

    def wake(self) -> None:
        """Ship now (a new event was journalled)."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Ship until ``stop`` is set."""
        backoff_s = self._backoff_initial_s
        while not stop.is_set():
            try:
                shipped = self.ship_once()
            except JournalError as err:
                log.error("%s", err)
                stop.wait(backoff_s)
                continue
            except UplinkError as err:
                self._set_online(False, str(err))
                stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, self._backoff_max_s)
                continue
            backoff_s = self._backoff_initial_s
            if shipped:  # only an answer from the dashboard says it is reachable
                self._set_online(True, "")
            if not shipped:
                self._wake.wait(self._idle_s)
                self._wake.clear()

    def ship_once(self) -> int:
        """Send one batch; return how many events were confirmed (0 when none waited)."""
        entries = self.journal.pending(self._size_limit)
        if not entries:
            return 0
        first, failures = self._failing
        if first == entries[0].seq and failures >= self.narrow_after:
            return self._one_by_one(entries)
        try:
            self.sender.send([entry.body for entry in entries])
        except BatchRejectedError:
            return self._one_by_one(entries)
        except BatchTooLargeError as err:
            if len(entries) == 1:
                self._set_aside(entries[0].seq, str(entries[0].body.get("id")), str(err))
                return 1
            self._size_limit = max(1, len(entries) // 2)
            log.info(
                "the dashboard found %s events too large a batch; sending %s", len(entries), self._size_limit
            )
            return self.ship_once()
        except ServerError:
            self._failing = (entries[0].seq, failures + 1 if first == entries[0].seq else 1)
            raise
        self._size_limit = min(self.batch_size, self._size_limit * 2)
        self._failing = (0, 0)
        self.journal.mark_sent([entry.seq for entry in entries])
        self.sent += len(entries)
        return len(entries)

    def _one_by_one(self, entries: list) -> int:
        """Send each event alone, in order, setting aside those the dashboard refuses or fails on."""
        failed: list[tuple[int, str, str]] = []  # server errors not yet known to be the event's fault
        done = 0
        for entry in entries:
            try:
                self.sender.send([entry.body])
            except BatchRejectedError as refused:
                self._set_aside(entry.seq, str(entry.body.get("id")), refused.message)
            except BatchTooLargeError as err:
                self._set_aside(entry.seq, str(entry.body.get("id")), str(err))
            except ServerError as err:
                failed.append((entry.seq, str(entry.body.get("id")), str(err)))
                continue
            else:
                self.journal.mark_sent([entry.seq])
                self.sent += 1
            # This one went through (or was refused outright): the dashboard works, so the events
            # it failed on before were its own fault.
            for seq, event_id, reason in failed:
                self._set_aside(seq, event_id, reason)
            done += 1 + len(failed)
            failed = []
        if failed and done == 0:
            raise ServerError(failed[0][2])  # every one failed: the dashboard is down, keep them all
        self._failing = (0, 0)
        return done

    def _set_aside(self, seq: int, event_id: str, reason: str) -> None:
        log.error("the dashboard refused event %s: %s; set aside in the journal", event_id, reason)
        self.journal.mark_rejected(seq, reason)
        if self.on_set_aside is not None:
            self.on_set_aside(event_id, reason)

    def _set_online(self, online: bool, reason: str) -> None:
        if online == self.online:
            return
        self.online = online
        if online:
            log.info("dashboard reachable; shipping the journal")
        else:
            log.warning("dashboard unreachable (%s); events wait in the journal", reason)


@dataclass(frozen=True, slots=True)
class RoomFigures:
    """The room as the dashboard has it: its count (every door), limit and capacity."""

    occupancy_people: int
    limit_people: int
    capacity_people: int


class OccupancySource(Protocol):
    """Tells the room's figures as the dashboard has them (every door, its settings)."""

    def fetch(self) -> RoomFigures:
        """Return the room's figures; raise UplinkError when they cannot be had."""
        ...


class HttpOccupancy:
    """Asks the dashboard's ``GET /api/v1/rooms/ROOM/occupancy`` with the station's token.

    Args:
        base_url: The dashboard's address.
        room: The room's slug.
        token: The station's token.
        timeout_s: Time allowed for one request.
    """

    def __init__(self, base_url: str, room: str, token: str, timeout_s: float = 5.0) -> None:
        self.url = f"{base_url.rstrip('/')}/api/v1/rooms/{urllib.parse.quote(room)}/occupancy"
        self._token = token
        self.timeout_s = timeout_s

    def fetch(self) -> RoomFigures:
        """See ``OccupancySource.fetch``."""
        request = urllib.request.Request(self.url, headers={"Authorization": f"Bearer {self._token}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = json.load(response)
                return RoomFigures(int(body["occupancy"]), int(body["limit"]), int(body["capacity"]))
        except urllib.error.HTTPError as err:
            detail = _error_text(err.read(), str(err.reason))
            raise UplinkError(f"{self.url} answered {err.code}: {detail}") from err
        except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as err:
            raise UplinkError(f"{self.url} unreachable: {getattr(err, 'reason', err)}") from err

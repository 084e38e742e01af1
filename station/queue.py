"""The queue at a full room: numbered tickets, called in order as places free up.

A ticket's life: waiting, then called; then served when its holder walks in (the next entry or
admission after the call), or a no-show when nobody came within the call's timeout. One ticket is
called at a time; calling the next while one is still called makes that one a no-show.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class TicketStatus(StrEnum):
    """Where a ticket stands."""

    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Ticket:
    """A queue ticket."""

    number: int
    issued_at: datetime


class Queue:
    """First come, first served.

    Args:
        first_number: The number of the day's first ticket.
    """

    def __init__(self, first_number: int = 1) -> None:
        self._next = first_number
        self._waiting: deque[Ticket] = deque()
        self.called: Ticket | None = None
        self.called_at: datetime | None = None
        self.statuses: dict[int, TicketStatus] = {}

    @property
    def waiting(self) -> list[Ticket]:
        """Tickets not yet called, oldest first."""
        return list(self._waiting)

    def issue(self, at: datetime) -> Ticket:
        """Give the next ticket."""
        ticket = Ticket(self._next, at)
        self._next += 1
        self._waiting.append(ticket)
        self.statuses[ticket.number] = TicketStatus.WAITING
        return ticket

    def call_next(self, at: datetime | None = None) -> Ticket | None:
        """Call the oldest waiting ticket (None when nobody waits; then the called one stays)."""
        if not self._waiting:
            return None
        self.called = self._waiting.popleft()
        self.called_at = at
        self.statuses[self.called.number] = TicketStatus.CALLED
        return self.called

    def serve(self) -> Ticket | None:
        """The called ticket's holder walked in: return it, served (None when none was called)."""
        return self._close(TicketStatus.SERVED)

    def no_show(self) -> Ticket | None:
        """Nobody came for the called ticket: return it, a no-show (None when none was called)."""
        return self._close(TicketStatus.NO_SHOW)

    def overdue(self, now: datetime, timeout: timedelta) -> bool:
        """Whether the called ticket has waited for its holder longer than ``timeout``."""
        return self.called is not None and self.called_at is not None and now - self.called_at > timeout

    def _close(self, status: TicketStatus) -> Ticket | None:
        ticket, self.called, self.called_at = self.called, None, None
        if ticket is not None:
            self.statuses[ticket.number] = status
        return ticket

    def cancel(self, number: int) -> bool:
        """Drop a waiting ticket (the visitor left); returns whether it was waiting."""
        for ticket in self._waiting:
            if ticket.number == number:
                self._waiting.remove(ticket)
                self.statuses[number] = TicketStatus.CANCELLED
                return True
        return False

    def position(self, number: int) -> int | None:
        """1 for the next ticket to be called; None when the ticket is not waiting."""
        for index, ticket in enumerate(self._waiting):
            if ticket.number == number:
                return index + 1
        return None

    def estimated_wait_min(self, number: int, exits_per_minute: float) -> float | None:
        """Minutes until ``number`` is called, from the recent pace of people leaving.

        None when the ticket is not waiting or nobody has left lately (no pace to go by).
        """
        position = self.position(number)
        if position is None or exits_per_minute <= 0:
            return None
        return position / exits_per_minute

    def reset(self, first_number: int = 1) -> None:
        """Start a new day."""
        self._next = first_number
        self._waiting.clear()
        self.called = self.called_at = None
        self.statuses.clear()

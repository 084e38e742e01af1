"""The queue at a full room: numbered tickets, called in order as places free up."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime


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

    @property
    def waiting(self) -> list[Ticket]:
        """Tickets not yet called, oldest first."""
        return list(self._waiting)

    def issue(self, at: datetime) -> Ticket:
        """Give the next ticket."""
        ticket = Ticket(self._next, at)
        self._next += 1
        self._waiting.append(ticket)
        return ticket

    def call_next(self) -> Ticket | None:
        """Call the oldest waiting ticket (None when nobody waits)."""
        self.called = self._waiting.popleft() if self._waiting else None
        return self.called

    def cancel(self, number: int) -> bool:
        """Drop a waiting ticket (the visitor left); returns whether it was waiting."""
        for ticket in self._waiting:
            if ticket.number == number:
                self._waiting.remove(ticket)
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
        self.called = None

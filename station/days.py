"""The station's day on the site's clock: when closing time has come, and the zone's name.

Closing time (``station.closing_time``) is read on the site's time zone (``station.time_zone``),
never on the machine's own clock setting: a station in Jayapura closing at 16:00 closes at
16:00 WIT (07:00 UTC) even on a PC left at Jakarta time or UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo


def zone_name(zone: ZoneInfo, at: datetime) -> str:
    """Return the zone's short name at ``at`` (``WIB``, ``WITA``, ``WIT``)."""
    return at.astimezone(zone).tzname() or str(zone)


class Closing:
    """Says once a day, on the site's clock, that closing time has come.

    Args:
        closing_time: ``HH:MM`` on the site's clock.
        zone: The site's time zone.
        started: When the station started (aware); a station started after closing time has
            nothing of that day's to close.
    """

    def __init__(self, closing_time: str, zone: ZoneInfo, started: datetime) -> None:
        hours, minutes = (int(part) for part in closing_time.split(":"))
        self.at = time(hours, minutes)
        self.zone = zone
        local = started.astimezone(zone)
        self._closed_on: date | None = local.date() if local.time() >= self.at else None

    def due(self, now: datetime) -> bool:
        """Return True the first time ``now`` (aware) is at or past closing time on a new local day."""
        local = now.astimezone(self.zone)
        if local.time() < self.at or self._closed_on == local.date():
            return False
        self._closed_on = local.date()
        return True

"""Local days: the dashboard shows and groups by a site's clock, with the zone named ("WIT").

Each site has its time zone (``sites.time_zone``: Asia/Jakarta WIB, Asia/Makassar WITA,
Asia/Jayapura WIT); pages about one site or room use it. Pages across every site use
``TIMEZONE`` (Asia/Jakarta by default). Every function takes an optional zone name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from dashboard.i18n import _n
from dashboard.words import MessageError


def zone(name: str | None = None) -> ZoneInfo:
    """The time zone ``name`` (a site's), else the dashboard's own (``TIMEZONE``)."""
    return ZoneInfo(name or current_app.config["TIMEZONE"])


def today(zone_name: str | None = None) -> date:
    """Today's date on the site's clock."""
    return datetime.now(zone(zone_name)).date()


def day_bounds(day: date, zone_name: str | None = None) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a local day."""
    start = datetime.combine(day, time(), tzinfo=zone(zone_name))
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone(zone_name))
    return start.astimezone(UTC), end.astimezone(UTC)


def local(moment: datetime | None, zone_name: str | None = None) -> datetime | None:
    """Return ``moment`` on the site's clock."""
    return moment.astimezone(zone(zone_name)) if moment is not None else None


def zone_label(zone_name: str | None = None, at: datetime | None = None) -> str:
    """The zone's short name (``WIB``, ``WITA``, ``WIT``), as shown beside times."""
    moment = (at or datetime.now(UTC)).astimezone(zone(zone_name))
    return moment.tzname() or str(zone(zone_name))


def stamp(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S", zone_name: str | None = None) -> str:
    """Return ``moment`` on the site's clock with the zone named (``2026-12-02 16:00:00 WIT``)."""
    if moment is None:
        return ""
    shown = moment.astimezone(zone(zone_name))
    return f"{shown.strftime(fmt)} {shown.tzname() or ''}".rstrip()


#: The days a filter or report may name: far enough either way for any office, and never so far that
#: a day's bounds in the site's zone fall outside the years 1 to 9999.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def parse_day(text: str | None, default: date) -> date:
    """Parse ``YYYY-MM-DD`` (empty gives ``default``); raise ValueError with a clear message."""
    if not text:
        return default
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise MessageError(_n("expected a date as YYYY-MM-DD, got %(text)s"), text=repr(text[:20])) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise MessageError(
            _n("expected a date from %(first)s to %(last)s, got %(day)s"),
            first=FIRST_DAY,
            last=LAST_DAY,
            day=day,
        )
    return day


def site_zone(site: object | None) -> ZoneInfo:
    """The site's own zone (its ``time_zone``), else the dashboard's."""
    name = getattr(site, "time_zone", None) if site is not None else None
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError):  # an unknown zone name: the dashboard's, rather than no page
            pass
    return zone()

"""Local days: the dashboard shows and groups by the site's clock (``TIMEZONE``, Asia/Jakarta)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from dashboard.i18n import _n
from dashboard.words import MessageError


def zone() -> ZoneInfo:
    """The dashboard's time zone."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def today() -> date:
    """Today's date on the site's clock."""
    return datetime.now(zone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a local day."""
    start = datetime.combine(day, time(), tzinfo=zone())
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone())
    return start.astimezone(UTC), end.astimezone(UTC)


def local(moment: datetime | None) -> datetime | None:
    """Return ``moment`` on the site's clock."""
    return moment.astimezone(zone()) if moment is not None else None


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
    """The site's own zone when the site names one (a ``timezone`` attribute), else the dashboard's."""
    name = getattr(site, "timezone", None) if site is not None else None
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError):  # an unknown zone name: the dashboard's, rather than no page
            pass
    return zone()


def stamp(moment: datetime | None, site: object | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``moment`` on the site's clock with the zone named: ``2026-12-02 13:05 WIB``."""
    if moment is None:
        return ""
    there = moment.astimezone(site_zone(site))
    return f"{there.strftime(fmt)} {there.tzname()}"

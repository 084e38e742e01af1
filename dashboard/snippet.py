"""A new station's configuration, ready to paste: its ``[station]`` and ``[dashboard]`` tables.

The keys are the station's own (``station/config.py``, ``config/station.example.toml``): who it is
(name, site, room, the room's capacity and share, the site's clock) and where the dashboard is. The
token is no key of the file (the station reads secrets from the environment only), so it comes as
a second snippet, the line for ``/etc/gerbang/station.env``.
"""

from __future__ import annotations

import json
from decimal import Decimal

from dashboard.models import Station

#: The environment variable the station reads its token from (its ``dashboard.token_env`` default).
TOKEN_ENV = "GERBANG_STATION_TOKEN"
#: The smallest share a station accepts (``station.share``); a room's smaller one is left out.
STATION_MIN_SHARE = Decimal("0.01")


def dashboard_url(public_url: str, url_root: str) -> str:
    """The address stations reach the dashboard at: ``PUBLIC_URL`` if set, else this request's root.

    Args:
        public_url: The configured address (``GERBANG_PUBLIC_URL``), empty when not set.
        url_root: ``request.url_root``, such as ``http://10.0.0.5:5000/``.
    """
    return (public_url.strip() or url_root).rstrip("/")


def _string(value: str) -> str:
    """``value`` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def station_toml(station: Station, url: str, *, token_env: str = TOKEN_ENV) -> str:
    """The ``[station]`` and ``[dashboard]`` tables of ``station``'s configuration file.

    Args:
        station: A registered station, with its room and the room's site loadable.
        url: The dashboard's address (``dashboard_url``).
        token_env: The environment variable that will hold the token.
    """
    room = station.room
    lines = [
        "[station]",
        f"name = {_string(station.name)}",
        f"site = {_string(room.site.slug)}",
        f"room = {_string(room.slug)}",
        f"capacity_people = {room.capacity_people}",
    ]
    if Decimal(room.share) >= STATION_MIN_SHARE:
        lines.append(f"share = {room.share}")
    lines += [
        f"time_zone = {_string(room.site.time_zone)}",
        "",
        "[dashboard]",
        f"url = {_string(url)}",
        f"token_env = {_string(token_env)}",
    ]
    return "\n".join(lines) + "\n"


def station_env(token: str, *, token_env: str = TOKEN_ENV) -> str:
    """The environment line giving the station its token (``GERBANG_STATION_TOKEN=...``)."""
    return f"{token_env}={token}\n"

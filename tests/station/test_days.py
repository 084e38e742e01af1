"""The station's day on the site's clock: closing time in the site's zone, named."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from station.days import Closing, zone_name

WIT = ZoneInfo("Asia/Jayapura")


def test_a_station_in_wit_closing_at_16_closes_at_16_wit():
    started = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 09:00 WIT
    closing = Closing("16:00", WIT, started)
    assert not closing.due(datetime(2026, 12, 2, 6, 59, tzinfo=UTC))  # 15:59 WIT (16:59 WITA, 13:59 WIB)
    assert closing.due(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))  # 16:00 WIT
    assert not closing.due(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # once a day
    assert not closing.due(datetime(2026, 12, 2, 14, 59, tzinfo=UTC))  # 23:59 WIT, still that day
    assert not closing.due(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))  # 00:00 WIT the next day: not yet
    assert closing.due(datetime(2026, 12, 3, 7, 0, tzinfo=UTC))  # the next day's closing


def test_a_station_started_after_closing_time_does_not_close_that_day_again():
    closing = Closing("16:00", WIT, datetime(2026, 12, 2, 8, 0, tzinfo=UTC))  # 17:00 WIT
    assert not closing.due(datetime(2026, 12, 2, 8, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("zone", "name"),
    [
        # western Indonesia
        ("Asia/Jakarta", "WIB"),
        # central
        ("Asia/Makassar", "WITA"),
        # eastern
        ("Asia/Jayapura", "WIT"),
    ],
)
def test_the_zone_is_named(zone, name):
    assert zone_name(ZoneInfo(zone), datetime(2026, 12, 2, tzinfo=UTC)) == name

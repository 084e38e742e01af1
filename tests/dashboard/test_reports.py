"""Reports for any range of days, per room and per site: the page (with charts) and the streamed CSV."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from dashboard_wire import bearer, event, today
from flask.testing import FlaskClient

from dashboard.models import Role

TODAY = date.fromisoformat(today())
YESTERDAY = TODAY - timedelta(days=1)


def post(client: FlaskClient, token: str, *events: dict) -> None:
    response = client.post("/api/v1/events", json={"events": list(events)}, headers=bearer(token))
    assert response.status_code == 200, response.text


@pytest.fixture
def two_days(client: FlaskClient, make_room: Callable[..., str], make_station, login) -> FlaskClient:
    make_room("lobby", capacity_people=10)
    make_room("aula", capacity_people=20)
    lobby, aula = make_station("gate-1", "lobby"), make_station("gate-2", "aula")
    for day, entries in ((YESTERDAY, 2), (TODAY, 3)):
        at = f"{day.isoformat()}T08:{{:02d}}:00+07:00"
        post(client, lobby, *[event("crossing", at=at.format(n), direction="in") for n in range(entries)])
        post(
            client,
            lobby,
            event("screening", at=at.format(30), decision="allow", body_c=36.5),
            event("screening", at=at.format(31), decision="deny", reason="mask_below_nose", mask="incorrect"),
        )
    post(client, aula, event("crossing", at=f"{TODAY.isoformat()}T10:00:00+07:00", direction="in"))
    login(Role.SUPERVISOR)
    return client


def cells(page: str, room: str) -> list[str]:
    row = page.split(f'data-room="{room}">')[1].split("</tr>")[0]
    return [cell.split(">")[-1] for cell in row.split("</td>")[:-1]]


def test_a_range_sums_its_days_per_room_and_site(two_days: FlaskClient) -> None:
    page = two_days.get(f"/reports/kantor-pusat?from={YESTERDAY}&to={TODAY}").text
    # room, entries, exits, corrections, peak (the highest day), peak at, screenings, fever, no mask
    assert cells(page, "lobby")[:5] == ["lobby", "5", "0", "0", "5 / 5"]
    assert cells(page, "lobby")[6:] == ["4", "0.0 %", "50.0 %"]
    assert cells(page, "aula")[1] == "1"
    assert f'<tr data-day="{YESTERDAY}"><td>{YESTERDAY}</td><td>2</td>' in page
    assert f'<tr data-day="{TODAY}"><td>{TODAY}</td><td>4</td>' in page
    assert "Screenings per day at kantor-pusat" in page  # a chart per day for a range
    assert "WIB" in page  # the zone of the times, named


def test_one_day_has_charts_per_hour(two_days: FlaskClient) -> None:
    page = two_days.get(f"/reports/kantor-pusat?day={TODAY}").text
    assert cells(page, "lobby")[1] == "3"
    assert "Screenings per hour at kantor-pusat" in page
    assert "Occupancy of each room as a percentage of its limit" in page
    assert 'id="report-csv" href="/reports/kantor-pusat.csv?from=' in page


def test_the_room_page_compares_days_and_counts_per_hour(two_days: FlaskClient) -> None:
    page = two_days.get("/sites/kantor-pusat/rooms/lobby").text
    assert page.count('<div class="chart-box">') == 2
    assert '<li class="compare-day">yesterday</li>' in page
    assert 'class="bar-in"' in page


def test_report_csv_is_streamed_a_row_per_day_and_room(two_days: FlaskClient) -> None:
    response = two_days.get(f"/reports/kantor-pusat.csv?from={YESTERDAY}&to={TODAY}")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["day"], r["room"], r["entries"]) for r in rows] == [
        (YESTERDAY.isoformat(), "aula", "0"),
        (YESTERDAY.isoformat(), "lobby", "2"),
        (YESTERDAY.isoformat(), "*", "2"),
        (TODAY.isoformat(), "aula", "1"),
        (TODAY.isoformat(), "lobby", "3"),
        (TODAY.isoformat(), "*", "4"),
    ]
    assert rows[1]["no_mask_share"] == "0.5000"
    assert rows[1]["limit_people"] == "5"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # the end before the start
        (f"from={TODAY}&to={YESTERDAY}", "'to' is before 'from'"),
        # more than a year
        (f"from={TODAY - timedelta(days=400)}&to={TODAY}", "at most a year"),
        # not a date
        ("from=monday", "expected a date"),
    ],
)
def test_bad_ranges_get_a_message(two_days: FlaskClient, query: str, message: str) -> None:
    for path in ("/reports/kantor-pusat", "/reports/kantor-pusat.csv"):
        response = two_days.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert message in html.unescape(response.text), path


def test_the_range_form_leads_to_the_sites_report(two_days: FlaskClient) -> None:
    response = two_days.get(f"/reports?site=kantor-pusat&from={YESTERDAY}&to={TODAY}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reports/kantor-pusat?from={YESTERDAY}&to={TODAY}"
    assert two_days.get("/reports/nowhere.csv").status_code == 404

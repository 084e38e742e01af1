"""The supervisors' pages: what they show, filters, CSV, acknowledgements, settings."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dashboard_wire import bearer, correction, crossing, event, screening, today
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.db import new_session
from dashboard.models import Alert, AuditEntry, Role, Room

TODAY = today()


@pytest.fixture
def lobby(make_room: Callable[..., str], make_station: Callable[[str, str], str]) -> str:
    make_room("lobby", capacity_people=10)
    return make_station("gate-1", "lobby")


@pytest.fixture
def supervisor(login: Callable[[Role], FlaskClient]) -> FlaskClient:
    return login(Role.SUPERVISOR)


def post(client: FlaskClient, token: str, *events: dict) -> None:
    response = client.post("/api/v1/events", json={"events": list(events)}, headers=bearer(token))
    assert response.status_code == 200, response.text


def test_overview_shows_each_room_with_its_traffic_light(client: FlaskClient, lobby: str, supervisor) -> None:
    post(client, lobby, *[crossing("in") for _ in range(4)])  # 4 of limit 5: near
    page = client.get("/").text
    assert 'data-room="lobby"' in page
    assert "state-near" in page
    assert '<span class="count">4</span>' in page
    assert 'data-live-url="/live/stream?after=' in page


def test_a_script_tag_as_a_room_name_is_shown_as_text(
    app: Flask, client: FlaskClient, login: Callable[[Role], FlaskClient]
) -> None:
    login(Role.SUPERVISOR)
    name = "<script>alert(1)</script>"
    response = client.post(
        "/settings/rooms", data={"site": "kantor-pusat", "room": "aula", "name": name, "capacity": "8"}
    )
    assert response.status_code == 302
    for path in ("/", "/sites/kantor-pusat/rooms/aula", "/settings/", "/corrections", "/queue"):
        page = client.get(path).text
        assert name not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    # and as a slug it is refused with a message
    response = client.post("/settings/rooms", data={"site": "kantor-pusat", "room": name, "capacity": "8"})
    assert response.status_code == 400
    assert "slug" in response.text
    assert name not in response.text


def test_room_page_draws_the_curve_and_lists_crossings(client: FlaskClient, lobby: str, supervisor) -> None:
    post(
        client,
        lobby,
        crossing("out"),
        crossing("in"),
        crossing("in"),
        correction(delta=1, by="budi", reason="missed"),
    )
    page = client.get("/sites/kantor-pusat/rooms/lobby").text
    assert '<svg class="chart"' in page
    assert 'class="curve"' in page
    assert "no (room at 0)" in page  # the exit that found the room empty
    assert "budi" in page
    assert "missed" in page


def test_unknown_room_page_is_404(client: FlaskClient, supervisor) -> None:
    assert client.get("/rooms/nowhere").status_code == 404


@pytest.fixture
def screened(client: FlaskClient, lobby: str, make_station: Callable) -> None:
    other = make_station("gate-2", "lobby")
    post(
        client,
        lobby,
        screening("allow", body_c=36.5, mask="with_mask"),
        screening("deny", reason="no_mask", mask="without_mask", override_reason="=HYPERLINK(1)"),
    )
    post(client, other, screening("retest", reason="fever", body_c=37.9))


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        # every screening of the day
        ("", 3),
        # one station's
        ("station=gate-2", 1),
        # one decision
        ("decision=deny", 1),
        # both
        ("station=gate-1&decision=allow", 1),
        # a day with none
        ("from=2026-01-01&to=2026-01-02", 0),
    ],
)
def test_screenings_log_filters(client: FlaskClient, supervisor, screened, query: str, rows: int) -> None:
    page = client.get(f"/screenings?from={TODAY}&{query}" if "from=" not in query else f"/screenings?{query}")
    assert page.status_code == 200
    assert page.text.count('<tr class="decision-') == rows


@pytest.mark.parametrize(
    "query",
    [
        # not a date
        "from=yesterday",
        # backwards
        "from=2026-11-28&to=2026-11-01",
        # an unknown decision
        "decision=maybe",
    ],
)
def test_bad_filters_get_a_message(client: FlaskClient, supervisor, query: str) -> None:
    response = client.get(f"/screenings?{query}")
    assert response.status_code == 400
    assert 'class="flash error"' in response.text
    assert client.get(f"/screenings.csv?{query}").status_code == 400


def test_csv_export(client: FlaskClient, supervisor, screened) -> None:
    response = client.get(f"/screenings.csv?from={TODAY}&to={TODAY}")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(row["decision"] for row in rows) == ["allow", "deny", "retest"]
    assert {row["station"] for row in rows} == {"gate-1", "gate-2"}
    fever = next(row for row in rows if row["decision"] == "retest")
    assert fever["body_c"] == "37.90"
    assert fever["at"].endswith("+07:00")
    denied = next(row for row in rows if row["decision"] == "deny")
    assert denied["override_reason"] == "'=HYPERLINK(1)"  # a spreadsheet will not run it


def test_the_csv_export_is_streamed_in_chunks_with_every_row(
    client: FlaskClient, lobby: str, supervisor
) -> None:
    from dashboard.reports import CSV_CHUNK_ROWS

    count = CSV_CHUNK_ROWS * 2 + 7
    for start in range(0, count, 500):
        post(client, lobby, *[screening("allow", body_c=36.5) for _ in range(min(500, count - start))])
    response = client.get(f"/screenings.csv?from={TODAY}&to={TODAY}")
    assert response.is_streamed  # not built in memory first
    chunks = list(response.response)
    assert len(chunks) == 3  # two full chunks and the rest
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode())
        )
    )
    assert len(rows) == count


def test_alerts_are_listed_and_acknowledged(app: Flask, client: FlaskClient, supervisor, screened) -> None:
    page = client.get("/alerts").text
    assert page.count("Acknowledge</button>") == 2  # fever and no mask
    with new_session(app) as session:
        first = session.execute(select(Alert.id).order_by(Alert.id)).scalars().first()
    assert client.post(f"/alerts/{first}/ack").status_code == 302
    assert client.get("/alerts").text.count("Acknowledge</button>") == 1
    assert "acknowledged by user-supervisor" in client.get("/alerts").text
    assert client.post("/alerts/999999/ack").status_code == 404
    with new_session(app) as session:
        assert session.execute(
            select(AuditEntry.action).where(AuditEntry.action == "acknowledge")
        ).scalar_one()


def test_queue_page(client: FlaskClient, lobby: str, login) -> None:
    from datetime import UTC, datetime

    minutes_ago = (datetime.now(UTC) - timedelta(minutes=7, seconds=30)).isoformat()
    post(
        client,
        lobby,
        event("queue", at=minutes_ago, ticket=1, action="issued"),
        event("queue", at=minutes_ago, ticket=2, action="issued"),
        event("queue", at=minutes_ago, ticket=3, action="issued"),
        event("queue", at=minutes_ago, ticket=4, action="issued"),
        event("queue", ticket=1, action="called"),
        event("queue", ticket=1, action="served"),
        event("queue", ticket=2, action="called"),
        event("queue", ticket=2, action="no_show"),
        event("queue", ticket=3, action="called"),
    )
    login(Role.GUARD)
    page = client.get("/queue").text
    assert '<td class="waiting">1 (4)</td>' in page  # ticket 4 waits
    assert '<td class="called">3</td>' in page
    assert '<td class="served">1</td>' in page
    assert '<td class="no-show">1 (2)</td>' in page
    assert '<td class="wait">7 minutes</td>' in page  # the first in line has waited 7 minutes


def test_corrections_show_who_and_why_beside_the_counts(client: FlaskClient, lobby: str, supervisor) -> None:
    post(client, lobby, crossing("in"), crossing("in"), correction(value=5, by="budi", reason="group tour"))
    page = client.get("/corrections").text
    assert "2 in, 0 out" in page
    assert "now 5" in page
    assert "budi" in page
    assert "group tour" in page


EARLIER = (date.fromisoformat(TODAY) - timedelta(days=3)).isoformat()  # inside the retention window


def test_daily_report(client: FlaskClient, lobby: str, supervisor) -> None:
    post(
        client,
        lobby,
        event("crossing", at=f"{TODAY}T08:00:00+07:00", direction="in"),
        event("crossing", at=f"{TODAY}T08:05:00+07:00", direction="in"),
        event("crossing", at=f"{TODAY}T08:10:00+07:00", direction="in"),
        event("crossing", at=f"{TODAY}T09:00:00+07:00", direction="out"),
        event("screening", at=f"{TODAY}T08:00:00+07:00", decision="allow", body_c=36.4),
        event("screening", at=f"{TODAY}T08:01:00+07:00", decision="retest", reason="fever", body_c=37.8),
        event(
            "screening", at=f"{TODAY}T08:02:00+07:00", decision="deny", reason="no_mask", mask="without_mask"
        ),
        event("screening", at=f"{TODAY}T08:03:00+07:00", decision="allow", mask="with_mask"),
        # another day does not count
        event("screening", at=f"{EARLIER}T08:03:00+07:00", decision="deny", reason="fever", body_c=38.0),
    )
    page = client.get(f"/reports/kantor-pusat?day={TODAY}").text
    row = page.split('data-room="lobby">')[1].split("</tr>")[0]
    cells = [cell.split(">")[-1] for cell in row.split("</td>")[:-1]]
    # room, entries, exits, corrections, peak, peak at, screenings, fever, no mask
    assert cells == ["lobby", "3", "1", "0", "3 / 5", "08:10", "4", "25.0 %", "25.0 %"]


def test_report_errors(client: FlaskClient, supervisor) -> None:
    assert client.get("/reports/nowhere").status_code == 404
    assert client.get("/reports").status_code == 200


def test_settings_change_a_rooms_limit(app: Flask, client: FlaskClient, lobby: str, supervisor) -> None:
    response = client.post(
        "/settings/sites/kantor-pusat/rooms/lobby", data={"name": "Lobi", "capacity": "30", "share": "0.4"}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/rooms/lobby/occupancy").get_json()["limit"] == 12
    for bad in ({"capacity": "many", "share": "0.5"}, {"capacity": "10", "share": "2"}):
        assert client.post("/settings/sites/kantor-pusat/rooms/lobby", data=bad).status_code == 400
    with new_session(app) as session:
        assert session.execute(select(Room.name)).scalar_one() == "Lobi"


def test_settings_register_a_station_and_show_its_token_once(
    client: FlaskClient, lobby: str, supervisor
) -> None:
    response = client.post("/settings/stations", data={"name": "gate-9", "room": "lobby"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = response.text.split('<pre class="token">')[1].split("</pre>")[0]
    post(client, token, crossing("in"))
    assert token not in client.get("/settings/").text
    assert client.post("/settings/stations", data={"name": "gate-9", "room": "lobby"}).status_code == 400


def test_admins_manage_users(client: FlaskClient, login) -> None:
    login(Role.ADMIN)
    response = client.post(
        "/settings/users",
        data={"username": "ani", "password": "panjang-sekali", "role": "guard", "locale": "en"},
    )
    assert response.status_code == 302
    assert ">ani<" in client.get("/settings/users").text
    assert (
        client.post("/settings/users", data={"username": "ani", "password": "x", "role": "boss"}).status_code
        == 400
    )
    assert client.post("/settings/users/ani", data={"role": "supervisor", "locale": "id"}).status_code == 302
    # an admin cannot demote themself
    assert client.post("/settings/users/user-admin", data={"role": "guard"}).status_code == 400


@pytest.mark.parametrize(
    ("form", "status", "count"),
    [
        # set to 3 (from 2): taken, audited
        ({"kind": "set", "people": "3", "reason": "recount"}, 302, 3),
        # -1: taken
        ({"kind": "delta", "people": "-1", "reason": "left by the side door"}, 302, 1),
        # 999 in a room of capacity 10 without confirming: asked, nothing changes
        ({"kind": "set", "people": "999", "reason": "recount"}, 409, 2),
        # confirmed: taken (and over the limit: the one over-limit alert)
        ({"kind": "set", "people": "999", "reason": "recount", "confirm": "yes"}, 302, 999),
        # no reason
        ({"kind": "set", "people": "3", "reason": " "}, 400, 2),
        # not a number
        ({"kind": "set", "people": "tiga", "reason": "recount"}, 400, 2),
        # a negative count
        ({"kind": "set", "people": "-4", "reason": "recount"}, 400, 2),
    ],
)
def test_a_supervisor_corrects_the_count_on_the_room_page(
    app: Flask, client: FlaskClient, lobby: str, supervisor, form: dict, status: int, count: int
) -> None:
    post(client, lobby, crossing("in"), crossing("in"))
    response = client.post("/sites/kantor-pusat/rooms/lobby/correct", data=form)
    assert response.status_code == status, response.text
    with new_session(app) as session:
        assert session.execute(select(Room.occupancy_people)).scalar_one() == count
        audited = session.execute(select(AuditEntry).where(AuditEntry.action == "correction")).scalars().all()
        alerts = session.execute(select(Alert.kind)).scalars().all()
    assert len(audited) == (1 if status == 302 else 0)
    if audited:
        assert audited[0].actor == "user-supervisor"  # the supervisor who corrected
        assert "on the dashboard" in audited[0].detail
    assert alerts == (["over_limit"] if count > 5 else [])
    if status == 409:
        assert 'name="confirm"' in response.text  # the second step is offered
    if status == 302:
        page = client.get("/sites/kantor-pusat/rooms/lobby").text
        assert "recount" in page or "side door" in page  # listed with the others, marked as the dashboard's


def test_a_guard_cannot_correct_from_the_dashboard(
    client: FlaskClient, lobby: str, login: Callable[[Role], FlaskClient]
) -> None:
    login(Role.GUARD)
    response = client.post(
        "/sites/kantor-pusat/rooms/lobby/correct", data={"kind": "set", "people": "3", "reason": "x"}
    )
    assert response.status_code == 403


def test_a_site_in_wit_reports_its_day_and_times_on_its_own_clock(
    app: Flask, client: FlaskClient, lobby: str, supervisor
) -> None:
    from datetime import UTC, datetime

    from dashboard import manage

    with new_session(app) as session:
        manage.set_site(session, "kantor-pusat", time_zone="Asia/Jayapura")
    wit_day = datetime.now(UTC).astimezone(ZoneInfo("Asia/Jayapura")).date()
    # 23:30 WIT the evening before is the previous day there (though 21:30 WIB is too); 00:30 WIT is today
    evening = datetime.combine(wit_day - timedelta(days=1), time(23, 30), ZoneInfo("Asia/Jayapura"))
    morning = datetime.combine(wit_day, time(0, 30), ZoneInfo("Asia/Jayapura"))
    post(client, lobby, crossing("in", at=evening.isoformat()), crossing("in", at=morning.isoformat()))
    page = client.get(f"/reports/kantor-pusat?day={wit_day}").text
    assert '<td class="peak">2 / 5</td>' in page  # the count carried over from the evening, plus one
    assert "Peak at (WIT)" in page
    assert "<td>00:30</td>" in page  # the peak, on the site's clock
    room = client.get("/sites/kantor-pusat/rooms/lobby").text
    assert "· WIT" in room
    assert "00:30:00" in room
    settings = client.get("/settings/").text
    assert "WIT</td>" in settings  # "last heard", on the site's clock with its zone named


@pytest.mark.parametrize(
    ("zone", "status", "stored"),
    [
        # eastern Indonesia
        ("Asia/Jayapura", 302, "Asia/Jayapura"),
        # an abbreviation is not a zone: a clear 400, nothing changes
        ("WIT", 400, "Asia/Jakarta"),
    ],
)
def test_a_supervisor_sets_a_sites_time_zone(
    app: Flask, client: FlaskClient, lobby: str, supervisor, zone: str, status: int, stored: str
) -> None:
    response = client.post("/settings/sites/kantor-pusat", data={"time_zone": zone})
    assert response.status_code == status
    with new_session(app) as session:
        from dashboard.models import Site

        assert session.execute(select(Site.time_zone)).scalar_one() == stored
    if status == 400:
        assert "is not a time zone" in response.text


def test_a_supervisor_names_a_site_and_gives_its_address(
    app: Flask, client: FlaskClient, lobby: str, supervisor
) -> None:
    form = {
        "name": "Kantor Pusat Jakarta",
        "address": "Jl. Medan Merdeka 9, Jakarta",
        "time_zone": "Asia/Jakarta",
    }
    assert client.post("/settings/sites/kantor-pusat", data=form).status_code == 302
    overview = client.get("/").text
    assert "<h2>Kantor Pusat Jakarta</h2>" in overview
    assert "Jl. Medan Merdeka 9, Jakarta" in overview
    room = client.get("/sites/kantor-pusat/rooms/lobby").text
    assert "<small>Kantor Pusat Jakarta ·" in room
    assert "Jl. Medan Merdeka 9, Jakarta" in room
    assert 'value="Jl. Medan Merdeka 9, Jakarta"' in client.get("/settings/").text
    # adding a site is an admin's: a supervisor sees no form and is refused
    assert 'id="add-site"' not in client.get("/settings/").text
    assert client.post("/settings/sites", data={"site": "cabang"}).status_code == 403


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        # a site with its name, address and zone
        (
            {
                "site": "cabang",
                "name": "Cabang Jayapura",
                "address": "Jl. Ahmad Yani 1",
                "time_zone": "Asia/Jayapura",
            },
            302,
            None,
        ),
        # a zone that is none: a clear message
        (
            {"site": "cabang", "time_zone": "WIT"},
            400,
            "&#39;WIT&#39; is not a time zone; use Asia/Jakarta (WIB)",
        ),
        # a slug that is none
        ({"site": "Cabang Satu"}, 400, "SITE must be a slug"),
        # a site that exists
        ({"site": "kantor-pusat"}, 400, "site &#39;kantor-pusat&#39; exists already"),
    ],
)
def test_an_admin_adds_a_site_on_its_own(
    app: Flask, client: FlaskClient, login, lobby: str, form: dict, status: int, words: str | None
) -> None:
    login(Role.ADMIN)
    assert 'id="add-site"' in client.get("/settings/").text
    response = client.post("/settings/sites", data=form)
    assert response.status_code == status, response.text[:500]
    if words is not None:
        assert words in response.text
        return
    with new_session(app) as session:
        from dashboard.models import Site

        site = session.execute(select(Site).where(Site.slug == "cabang")).scalar_one()
        assert (site.name, site.address, site.time_zone) == (
            "Cabang Jayapura",
            "Jl. Ahmad Yani 1",
            "Asia/Jayapura",
        )
    assert "Cabang Jayapura" in client.get("/settings/").text
    # rooms come later, to the site made here
    room = {"site": "cabang", "room": "lobby", "capacity": "8"}
    assert client.post("/settings/rooms", data=room).status_code == 302
    assert client.get("/sites/cabang/rooms/lobby").status_code == 200

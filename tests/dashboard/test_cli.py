"""``gerbang dashboard ...``: set-up commands on the test database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from dashboard_wire import bearer, crossing
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard import jobs
from dashboard.db import new_session, utc_now
from dashboard.models import Alert, AuditEntry, Room, Screening, Station, StationStatus


def test_set_up_a_room_a_station_and_a_user(runner, app: Flask, client: FlaskClient) -> None:
    assert runner.invoke(["init-db"]).output == "database ready\n"  # idempotent on a migrated database
    result = runner.invoke(["add-room", "kantor-pusat", "loket-1", "--capacity", "40"])
    assert result.exit_code == 0, result.output
    assert "limit 20" in result.output
    result = runner.invoke(["add-station", "gate-1", "--room", "loket-1"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    response = client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(token))
    assert response.get_json() == {"accepted": 1, "duplicates": 0}
    with new_session(app) as session:
        stored = session.execute(select(Station.token_sha256)).scalar_one()
    assert token not in stored  # only the hash is kept
    result = runner.invoke(["create-user", "siti", "--role", "supervisor"], stdin="rahasia-sekali\n")
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"username": "siti", "password": "rahasia-sekali"})
    assert response.status_code == 302


def test_share_is_applied(runner, app: Flask) -> None:
    assert runner.invoke(["add-room", "kantor", "aula", "--capacity", "30", "--share", "0.3"]).exit_code == 0
    with new_session(app) as session:
        room = session.execute(select(Room)).scalar_one()
    assert (room.capacity_people, room.limit_people) == (30, 9)


def test_set_room_changes_the_limit_and_prints_it(runner, app: Flask) -> None:
    assert runner.invoke(["add-room", "kantor", "aula", "--capacity", "30"]).exit_code == 0
    result = runner.invoke(["set-room", "aula", "--capacity", "1000", "--share", "0.3335", "--name", "Aula"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("limit 333")  # exact: not 334 as per-mille rounding gave
    with new_session(app) as session:
        room = session.execute(select(Room)).scalar_one()
    assert (room.capacity_people, room.share, room.name, room.limit_people) == (1000, "0.3335", "Aula", 333)
    result = runner.invoke(["set-room", "aula", "--share", "0.0995", "--capacity", "10"])
    assert (result.exit_code, result.output.strip()[-7:]) == (0, "limit 0")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # no such room
        (["set-room", "nowhere", "--capacity", "10"], "no room"),
        # a share over the whole room
        (["set-room", "aula", "--share", "1.5"], "share"),
        # a share that is no number
        (["set-room", "aula", "--share", "half"], "share"),
        # an empty room
        (["set-room", "aula", "--capacity", "0"], "capacity"),
    ],
)
def test_set_room_refuses_bad_values(runner, args: list[str], message: str) -> None:
    assert runner.invoke(["add-room", "kantor", "aula", "--capacity", "30"]).exit_code == 0
    result = runner.invoke(args)
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        # a script tag is not a slug
        (["add-room", "kantor", "<script>alert(1)</script>", "--capacity", "10"], None, "slug"),
        # neither is an upper-case site
        (["add-room", "Kantor", "aula", "--capacity", "10"], None, "slug"),
        # a share over 1
        (["add-room", "kantor", "aula", "--capacity", "10", "--share", "1.5"], None, "share"),
        # no capacity
        (["add-room", "kantor", "aula", "--capacity", "0"], None, "capacity"),
        # a station in a room that does not exist
        (["add-station", "gate-9", "--room", "nowhere"], None, "no room"),
        # a short password
        (["create-user", "budi", "--role", "guard"], "short\n", "10 characters"),
        # nine characters are still too few
        (["create-user", "budi", "--role", "guard"], "123456789\n", "10 characters"),
        # long enough, but the first a guesser tries
        (["create-user", "budi", "--role", "guard"], "qwertyuiop\n", "most common"),
        # a common one in capitals is as common
        (["create-user", "budi", "--role", "guard"], "Password123\n", "most common"),
        # the user's own name
        (["create-user", "budi.santoso", "--role", "guard"], "Budi.Santoso\n", "not be the user name"),
        # the name again and again
        (["create-user", "budi", "--role", "guard"], "budibudibudi\n", "not be the user name"),
        # a new password for a user that does not exist
        (["set-password", "budi"], "qwertyuiop\n", "no user"),
    ],
)
def test_bad_set_up_requests_fail_with_a_message(
    runner, args: list[str], stdin: str | None, message: str
) -> None:
    result = runner.invoke(args, stdin=stdin)
    assert result.exit_code == 1
    assert message in result.output


def test_duplicates_are_refused(runner) -> None:
    assert runner.invoke(["add-room", "kantor", "aula", "--capacity", "10"]).exit_code == 0
    assert "exists already" in runner.invoke(["add-room", "kantor", "aula", "--capacity", "10"]).output
    assert runner.invoke(["add-station", "gate-1", "--room", "aula"]).exit_code == 0
    assert "exists already" in runner.invoke(["add-station", "gate-1", "--room", "aula"]).output
    assert runner.invoke(["create-user", "budi", "--role", "guard"], stdin="panjang-sekali\n").exit_code == 0
    assert "exists already" in runner.invoke(["create-user", "budi", "--role", "guard"], stdin="x" * 9).output
    # a name that differs only in capitals is taken too
    result = runner.invoke(["create-user", "BUDI", "--role", "admin"], stdin="panjang-sekali\n")
    assert result.exit_code == 1
    assert "exists already (as 'budi'" in result.output


@pytest.mark.parametrize(
    ("password", "message"),
    [
        # too short
        ("pendek\n", "10 characters"),
        # a common one
        ("1234567890\n", "most common"),
        # the name
        ("siti-rahayu\n", "not be the user name"),
    ],
)
def test_set_password_refuses_a_weak_one(runner, client: FlaskClient, password: str, message: str) -> None:
    runner.invoke(["create-user", "siti-rahayu", "--role", "guard"], stdin="panjang-sekali\n")
    result = runner.invoke(["set-password", "siti-rahayu"], stdin=password)
    assert result.exit_code == 1
    assert message in result.output
    # the old password still works
    response = client.post("/login", data={"username": "siti-rahayu", "password": "panjang-sekali"})
    assert response.status_code == 302


def test_set_password_changes_it_and_ends_every_session(runner, app: Flask, client: FlaskClient) -> None:
    runner.invoke(["create-user", "siti", "--role", "supervisor"], stdin="panjang-sekali\n")
    assert client.post("/login", data={"username": "siti", "password": "panjang-sekali"}).status_code == 302
    assert client.get("/screenings").status_code == 200
    result = runner.invoke(["set-password", "siti"], stdin="lebih-panjang-lagi\n")
    assert result.exit_code == 0, result.output
    assert result.output == "password of user siti changed; their sessions ended\n"
    assert client.get("/screenings").status_code == 302  # the session from before has ended
    other = app.test_client()
    assert other.post("/login", data={"username": "siti", "password": "panjang-sekali"}).status_code == 401
    assert (
        other.post("/login", data={"username": "siti", "password": "lebih-panjang-lagi"}).status_code == 302
    )
    with new_session(app) as session:
        actions = session.execute(select(AuditEntry.action)).scalars().all()
    assert "set-password" in actions


def _screening(session, days_old: float, room: Room, station: Station) -> None:
    session.add(
        Screening(
            event_id=f"00000000-0000-4000-8000-{int(days_old * 1000):012d}",
            room_id=room.id,
            station_id=station.id,
            at=utc_now() - timedelta(days=days_old),
            decision="allow",
            reason="ok",
            temperature_policy="hard",
            mask_policy="hard",
            retest=False,
        )
    )


def test_purge_deletes_only_old_screenings(runner, app: Flask, make_room, make_station) -> None:
    make_room("aula")
    make_station("gate-1", "aula")
    with new_session(app) as session:
        room = session.execute(select(Room)).scalar_one()
        station = session.execute(select(Station)).scalar_one()
        for days_old in (0.5, 29.9, 30.1, 90):
            _screening(session, days_old, room, station)
        session.commit()
    result = runner.invoke(["purge"])
    assert result.output.splitlines()[0] == "deleted 2 screenings"
    assert runner.invoke(["purge", "--days", "1"]).output.splitlines()[0] == "deleted 1 screenings"
    with new_session(app) as session:
        remaining = session.execute(select(Screening.at)).scalars().all()
    assert len(remaining) == 1
    assert remaining[0] > utc_now() - timedelta(days=1)


def test_a_silent_station_alerts_once(app: Flask, client: FlaskClient, make_room, make_station) -> None:
    make_room("aula")
    token = make_station("gate-1", "aula")
    make_station("gate-never-seen", "aula")
    client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(token))
    with new_session(app) as session:
        assert jobs.check_silent(session, silent_s=120) == []  # just heard from
        later = utc_now() + timedelta(seconds=121)
        assert [a.kind for a in jobs.check_silent(session, silent_s=120, now=later)] == ["station_silent"]
        assert jobs.check_silent(session, silent_s=120, now=later + timedelta(minutes=5)) == []
        assert len(session.execute(select(Alert)).scalars().all()) == 1


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from dashboard import create_app
    from dashboard.db import get_engine

    monkeypatch.setenv("GERBANG_NEAR_SHARE", "0.75")
    monkeypatch.setenv("GERBANG_PURGE_AFTER_DAYS", "14")
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"})
    get_engine(app).dispose()
    assert (app.config["NEAR_SHARE"], app.config["PURGE_AFTER_DAYS"]) == (0.75, 14)


def test_forward_refuses_a_position_file_that_is_not_one(runner, tmp_path, monkeypatch) -> None:
    position = tmp_path / "forward.position"
    position.write_text("not an id")
    monkeypatch.setenv("GERBANG_WEBHOOK_SECRET", "s" * 32)
    result = runner.invoke(["forward", "--webhook", "http://127.0.0.1:9/hook", "--position", str(position)])
    assert result.exit_code == 1
    assert "forward.position should hold the id of an outbox message" in result.output


def _aged(days_old: float) -> datetime:
    return utc_now() - timedelta(days=days_old)


def test_purge_removes_health_data_from_every_table_and_says_how_much(
    runner, app: Flask, make_room, make_station
) -> None:
    make_room("aula")
    make_station("gate-1", "aula")
    with new_session(app) as session:
        room = session.execute(select(Room)).scalar_one()
        station = session.execute(select(Station)).scalar_one()
        for days_old in (1, 31):
            _screening(session, days_old, room, station)
            session.add(Alert(kind="fever", room_id=room.id, station_id=station.id, at=_aged(days_old)))
            session.add(
                StationStatus(
                    event_id=f"00000000-0000-4000-9000-{days_old:012d}",
                    station_id=station.id,
                    at=_aged(days_old),
                    device="thermometer",
                    state="online",
                    detail="",
                )
            )
            for action in ("override", "acknowledge", "update-room"):
                session.add(AuditEntry(at=_aged(days_old), actor="siti", action=action, detail="38.4 °C"))
        session.commit()
    result = runner.invoke(["purge"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "deleted 1 screenings",
        "deleted 1 alerts",
        "deleted 2 audit entries",  # the override and the acknowledgement; a settings change stays
        "deleted 1 station statuses",
    ]
    with new_session(app) as session:
        assert len(session.execute(select(Alert)).scalars().all()) == 1
        assert len(session.execute(select(StationStatus)).scalars().all()) == 1
        kept = session.execute(select(AuditEntry.action, AuditEntry.at)).all()
    old = {action for action, at in kept if at < _aged(30)}
    assert old == {"update-room"}
    assert runner.invoke(["purge"]).output.splitlines()[:4] == [
        "deleted 0 screenings",
        "deleted 0 alerts",
        "deleted 0 audit entries",
        "deleted 0 station statuses",
    ]


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        # one site: the guard works there
        (["--site", "kantor"], "user budi: guard, sites kantor"),
        # several, given in any order, kept sorted
        (["--site", "kantor", "--site", "cabang"], "user budi: guard, sites cabang, kantor"),
        # every site taken away
        (["--no-sites"], "user budi: guard, sites none"),
    ],
)
def test_user_sets_the_sites_a_user_sees(runner, args: list[str], shown: str) -> None:
    for site, room in (("kantor", "aula"), ("cabang", "gudang")):
        assert runner.invoke(["add-room", site, room, "--capacity", "10"]).exit_code == 0
    made = runner.invoke(
        ["create-user", "budi", "--role", "guard", "--site", "cabang"], stdin="panjang-sekali\n"
    )
    assert made.output == "user budi created as guard at cabang\n"
    assert runner.invoke(["user", "budi"]).output == "user budi: guard, sites cabang\n"
    result = runner.invoke(["user", "budi", *args])
    assert result.exit_code == 0
    assert result.output == shown + "\n"
    assert runner.invoke(["user", "budi"]).output == shown + "\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # a site that does not exist (a typo) is named, nothing changes
        (["user", "budi", "--site", "kantr"], "no site 'kantr'"),
        # no such user
        (["user", "nobody", "--site", "kantor"], "no user 'nobody'"),
        # both at once
        (["user", "budi", "--site", "kantor", "--no-sites"], "not both"),
    ],
)
def test_user_refuses_what_it_cannot_do(runner, args: list[str], message: str) -> None:
    assert runner.invoke(["add-room", "kantor", "aula", "--capacity", "10"]).exit_code == 0
    runner.invoke(["create-user", "budi", "--role", "guard", "--site", "kantor"], stdin="panjang-sekali\n")
    result = runner.invoke(args)
    assert result.exit_code == 1
    assert message in result.output
    assert runner.invoke(["user", "budi"]).output == "user budi: guard, sites kantor\n"


def test_an_admin_sees_every_site_whatever_its_list(runner) -> None:
    runner.invoke(["create-user", "ani", "--role", "admin"], stdin="panjang-sekali\n")
    assert (
        runner.invoke(["user", "ani"]).output == "user ani: admin, sites none (an admin: sees every site)\n"
    )


def test_set_site_gives_the_site_its_time_zone(runner, app: Flask) -> None:
    assert runner.invoke(["add-room", "jayapura", "loket", "--capacity", "10"]).exit_code == 0
    result = runner.invoke(["set-site", "jayapura", "--time-zone", "Asia/Jayapura"])
    assert (result.exit_code, result.output.strip()) == (0, "site jayapura: time zone Asia/Jayapura (WIT)")
    result = runner.invoke(["set-site", "jayapura", "--time-zone", "WIT"])
    assert result.exit_code != 0
    assert "is not a time zone; use Asia/Jakarta (WIB)" in result.output


@pytest.mark.parametrize(
    ("args", "code", "output"),
    [
        # a site on its own, with its name, address and zone
        (
            [
                "add-site",
                "jayapura",
                "--name",
                "Kantor Jayapura",
                "--address",
                "Jl. Ahmad Yani 1",
                "--time-zone",
                "Asia/Jayapura",
            ],
            0,
            "site jayapura (Kantor Jayapura): time zone Asia/Jayapura\n",
        ),
        # only its slug: named by it, on Jakarta's clock
        (["add-site", "bandung"], 0, "site bandung (bandung): time zone Asia/Jakarta\n"),
        # a zone that is none: said clearly
        (
            ["add-site", "bandung", "--time-zone", "WIB"],
            1,
            "'WIB' is not a time zone; use Asia/Jakarta (WIB)",
        ),
        # not a slug
        (["add-site", "Kantor Bandung"], 1, "SITE must be a slug"),
    ],
)
def test_add_site_adds_a_site_on_its_own(runner, app: Flask, args: list, code: int, output: str) -> None:
    result = runner.invoke(args)
    assert result.exit_code == code, result.output
    assert output in result.output


def test_a_site_added_on_its_own_takes_rooms_and_an_address_later(runner, app: Flask) -> None:
    from dashboard.models import Site

    assert runner.invoke(["add-site", "jayapura", "--time-zone", "Asia/Jayapura"]).exit_code == 0
    assert runner.invoke(["add-site", "jayapura"]).output.endswith("site 'jayapura' exists already\n")
    assert runner.invoke(["add-room", "jayapura", "loket", "--capacity", "10"]).exit_code == 0
    result = runner.invoke(["set-site", "jayapura", "--address", "Jl. Sentani 2", "--name", "Jayapura"])
    assert (result.exit_code, result.output) == (0, "site jayapura: time zone Asia/Jayapura (WIT)\n")
    with new_session(app) as session:
        site = session.execute(select(Site)).scalar_one()
        assert (site.name, site.address, [room.slug for room in site.rooms]) == (
            "Jayapura",
            "Jl. Sentani 2",
            ["loket"],
        )
    # add-room still makes a site it has not met (named by its slug, no address)
    assert runner.invoke(["add-room", "sorong", "loket", "--capacity", "10"]).exit_code == 0
    with new_session(app) as session:
        made = session.execute(select(Site).where(Site.slug == "sorong")).scalar_one()
        assert (made.name, made.address) == ("sorong", "")


def test_a_lowered_limit_that_leaves_the_room_over_it_raises_the_alert_once(
    runner, app: Flask, client
) -> None:
    assert runner.invoke(["add-room", "kantor", "aula", "--capacity", "20"]).exit_code == 0  # limit 10
    token = runner.invoke(["add-station", "gate-1", "--room", "aula"]).output.strip()
    client.post("/api/v1/events", json={"events": [crossing("in") for _ in range(8)]}, headers=bearer(token))
    assert runner.invoke(["set-room", "aula", "--capacity", "10"]).exit_code == 0  # limit 5: 8 is over
    assert runner.invoke(["set-room", "aula", "--capacity", "12"]).exit_code == 0  # limit 6: still over
    client.post(
        "/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(token)
    )  # the same excursion
    with new_session(app) as session:
        assert session.execute(select(Alert.kind)).scalars().all() == ["over_limit"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # a client certificate without its key
        (["--mqtt-cert", "{pem}"], "give --mqtt-cert and --mqtt-key together"),
        # a key without its certificate
        (["--mqtt-key", "{pem}"], "give --mqtt-cert and --mqtt-key together"),
        # a CA file that is not there
        (["--mqtt-ca", "{missing}"], "does not exist"),
    ],
)
def test_forward_checks_its_tls_options_before_connecting(runner, tmp_path, options, message) -> None:
    pem = tmp_path / "client.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    args = [o.format(pem=pem, missing=tmp_path / "missing.pem") for o in options]
    result = runner.invoke(["forward", "--mqtt", "127.0.0.1:9", *args])
    assert result.exit_code != 0
    assert message in result.output

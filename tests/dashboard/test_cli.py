"""``gerbang dashboard ...``: set-up commands on the test database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dashboard_wire import bearer, crossing
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard import jobs
from dashboard.db import new_session, utc_now
from dashboard.models import Alert, Room, Screening, Station


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
        (["create-user", "budi", "--role", "guard"], "short\n", "8 characters"),
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
    assert result.output == "deleted 2 screenings\n"
    assert runner.invoke(["purge", "--days", "1"]).output == "deleted 1 screenings\n"
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

"""A station whose dashboard refuses one event keeps shipping the others; the refused one shows on both."""

import json
import time
import urllib.request

from click.testing import CliRunner
from sqlalchemy import select

from dashboard.db import new_session
from dashboard.models import Alert, StationStatus
from station.config import load
from station.events import Direction
from station.run_cli import station as station_cli
from station.runner import Runner


def wait_for(predicate, timeout_s=15.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_one_refused_event_is_set_aside_the_rest_flow_and_both_screens_say_so(
    tmp_path, dashboard_for, monkeypatch
):
    app, url, token = dashboard_for(20, "loket-1")
    monkeypatch.setenv("GERBANG_STATION_TOKEN", token)
    config_path = tmp_path / "station.toml"
    config_path.write_text(
        f'[station]\nname = "loket-1"\nroom = "loket"\njournal = "{tmp_path / "journal.sqlite3"}"\n'
        f'[dashboard]\nurl = "{url}"\noccupancy_poll_s = 600\n[kiosk]\nport = 0\n',
        encoding="utf-8",
    )
    runner = Runner(load(config_path))
    runner.start()
    try:
        # a device name longer than the dashboard keeps: that one event is refused (400)
        runner.station.device("x" * 80, "online")
        for _ in range(3):
            runner.station.crossing(Direction.IN, door="utama")
        assert wait_for(lambda: runner.journal.pending_count() == 0)
        assert wait_for(lambda: runner.station.state.set_aside == 1)
        with urllib.request.urlopen(runner.kiosk_url + "state", timeout=5) as response:
            assert json.load(response)["set_aside"] == 1  # the kiosk's notice
        request = urllib.request.Request(
            f"{url}/api/v1/rooms/loket/occupancy", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response)["occupancy"] == 3  # everything after the refused one arrived

        def dashboard_knows():
            with new_session(app) as session:
                alerts = session.scalars(select(Alert).where(Alert.kind == "events_set_aside")).all()
                states = session.scalars(select(StationStatus.state).where(StationStatus.device == "uplink"))
                return len(alerts) == 1 and list(states) == ["set_aside"]

        assert wait_for(dashboard_knows)
    finally:
        runner.close()
    # the guard's technician lists it, and can send it again (here it is refused again)
    cli = CliRunner()
    listed = cli.invoke(station_cli, ["set-aside", "--config", str(config_path), "--json"])
    assert listed.exit_code == 0, listed.output
    (held,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert held["type"] == "status"
    assert "device" in held["reason"]
    again = cli.invoke(station_cli, ["resend", "--config", str(config_path), held["id"]])
    assert again.exit_code == 0, again.output
    assert "1 event(s) put back in the queue" in again.stdout
    missing = cli.invoke(station_cli, ["resend", "--config", str(config_path)])
    assert missing.exit_code == 2
    assert "or give --all" in missing.output

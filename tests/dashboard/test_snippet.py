"""The configuration shown with a new station token: a station's own loader accepts it as it is."""

from __future__ import annotations

import html
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_support import PASSWORD, app_settings
from dashboard_wire import bearer, crossing
from flask import Flask
from flask.testing import FlaskClient

from dashboard import create_app, snippet
from dashboard.db import get_engine
from dashboard.models import Role
from station import config as station_config

EXAMPLE = Path(__file__).parents[2] / "config" / "station.example.toml"


def shown(page: str, element_id: str) -> str:
    """The text of ``<pre id=element_id>`` on the token page."""
    return html.unescape(page.split(f'<pre id="{element_id}" class="verbatim">')[1].split("</pre>")[0])


def load_station(tmp_path: Path, toml_text: str) -> station_config.StationConfig:
    path = tmp_path / "station.toml"
    path.write_text(toml_text, encoding="utf-8")
    return station_config.load(path)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        # a station registered on the settings page
        ("/settings/stations", {"name": "gate-9", "room": "aula"}),
        # a station given a new token (confirmed)
        ("/settings/stations/gate-9/token", {"confirm": "yes"}),
    ],
)
def test_the_token_page_gives_a_configuration_the_station_loads(
    app: Flask,
    client: FlaskClient,
    login: Callable,
    make_room: Callable,
    make_station: Callable,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    form: dict[str, str],
) -> None:
    make_room("aula", capacity_people=40, share=0.3335)
    if path.endswith("/token"):
        make_station("gate-9", "aula")
    login(Role.SUPERVISOR)
    page = client.post(path, data=form)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    token = page.text.split('<pre class="token">')[1].split("</pre>")[0]
    toml_text, env_line = shown(page.text, "config-snippet"), shown(page.text, "env-snippet")
    tomllib.loads(toml_text)  # TOML as it is
    config = load_station(tmp_path, toml_text)  # and through the station's own loader
    who = config.station
    assert (who.name, who.site, who.room) == ("gate-9", "kantor-pusat", "aula")
    assert (config.station.capacity_people, config.station.share) == (40, 0.3335)
    assert config.station.time_zone == "Asia/Jakarta"
    assert config.dashboard.url == "http://localhost"  # the address the page was opened by
    # the token: not in the file (the station refuses secrets there), in the environment line
    assert token not in toml_text
    name, value = env_line.strip().split("=", 1)
    assert (name, value) == (config.dashboard.token_env, token)
    monkeypatch.setenv(name, value)
    assert config.secret(config.dashboard.token_env) == token
    # and that token is the station's: the dashboard takes its events
    response = client.post("/api/v1/events", json={"events": [crossing("in")]}, headers=bearer(token))
    assert response.status_code == 200


def test_pasted_into_the_example_file_in_place_of_its_tables_it_loads(
    app: Flask, make_room: Callable, make_station: Callable, tmp_path: Path
) -> None:
    from dashboard.db import new_session
    from dashboard.models import Station

    make_room("aula")
    make_station("gate-9", "aula")
    with new_session(app) as session:
        station = session.query(Station).filter_by(name="gate-9").one()
        toml_text = snippet.station_toml(station, "https://gerbang.example.go.id")
    example = EXAMPLE.read_text(encoding="utf-8")
    # the example's [station] and [dashboard] tables replaced by the snippet (they are the first two)
    rest = example[example.index("\n[thermometer]") :]
    head = example[: example.index("[station]")]
    config = load_station(tmp_path, head + toml_text + rest)
    assert config.station.name == "gate-9"
    assert config.dashboard.url == "https://gerbang.example.go.id"
    assert config.thermometer.protocol == "gy-mcu90614"  # the example's other tables kept


@pytest.mark.parametrize(
    ("public_url", "url_root", "expected"),
    [
        # no public address set: the address the page was opened by, without the trailing slash
        ("", "http://10.0.0.5:5000/", "http://10.0.0.5:5000"),
        # a dashboard behind a path prefix keeps it
        ("", "https://kantor.example/gerbang/", "https://kantor.example/gerbang"),
        # a configured public address wins (a proxy's name the stations use)
        ("https://gerbang.example.go.id/", "http://127.0.0.1:5000/", "https://gerbang.example.go.id"),
        # blanks are no address
        ("  ", "http://10.0.0.5:5000/", "http://10.0.0.5:5000"),
    ],
)
def test_the_dashboard_address(public_url: str, url_root: str, expected: str) -> None:
    assert snippet.dashboard_url(public_url, url_root) == expected


def test_a_configured_public_url_is_used_on_the_token_page(
    database_url: str, tmp_path: Path, make_room: Callable, make_user: Callable
) -> None:
    make_room("aula")
    make_user("sri", Role.ADMIN)
    app = create_app(app_settings(database_url, tmp_path, PUBLIC_URL="https://gerbang.example.go.id"))
    try:
        client = app.test_client()
        assert client.post("/login", data={"username": "sri", "password": PASSWORD}).status_code == 302
        page = client.post("/settings/stations", data={"name": "gate-9", "room": "aula"})
        assert page.status_code == 200
        toml_text = shown(page.text, "config-snippet")
        assert tomllib.loads(toml_text)["dashboard"]["url"] == "https://gerbang.example.go.id"
    finally:
        close = getattr(app.extensions["gerbang_notifier"], "close", None)
        if close is not None:
            close()
        get_engine(app).dispose()


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        # the room's share, exact
        (0.5, 0.5),
        # all of the capacity: 1, read as a number by the station
        (1.0, 1.0),
        # smaller than a station takes (0.01): left out, so the file still loads (the station's default)
        (0.005, 0.5),
    ],
)
def test_the_rooms_share_goes_in_when_a_station_takes_it(
    app: Flask, make_room: Callable, make_station: Callable, tmp_path: Path, share: float, expected: float
) -> None:
    from dashboard.db import new_session
    from dashboard.models import Station

    make_room("aula", capacity_people=1000, share=share)
    make_station("gate-9", "aula")
    with new_session(app) as session:
        station = session.query(Station).filter_by(name="gate-9").one()
        toml_text = snippet.station_toml(station, "http://10.0.0.5:5000")
    assert load_station(tmp_path, toml_text).station.share == expected


def test_the_environment_line() -> None:
    assert snippet.station_env("abc-123_XY") == "GERBANG_STATION_TOKEN=abc-123_XY\n"

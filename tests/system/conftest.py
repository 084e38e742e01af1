"""A real dashboard on 127.0.0.1 for the system tests: SQLite, migrated, one room, one station."""

import threading

import pytest
import waitress.server

from dashboard import create_app
from dashboard.db import get_engine, new_session
from dashboard.manage import add_room, add_station
from dashboard.migrate import upgrade


@pytest.fixture
def dashboard_for(tmp_path):
    """Return ``make(capacity_people, station)``: a served dashboard with room ``loket`` (share 0.5).

    ``make`` returns ``(app, url, token)``: the Flask app, its address and the station's token.
    """
    served = []

    def make(capacity_people, station):
        url = f"sqlite:///{tmp_path / 'dashboard.sqlite3'}"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test"})
        with new_session(app) as session:
            add_room(session, "kantor", "loket", capacity_people, 0.5)
            _, token = add_station(session, station, "loket")
        server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        served.append((server, app))
        return app, f"http://127.0.0.1:{server.effective_port}", token

    yield make
    for server, app in served:
        server.close()
        get_engine(app).dispose()

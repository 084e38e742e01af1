"""The schemathesis command against a served dashboard (waitress on 127.0.0.1): no server errors.

``test_security_fuzz.py`` fuzzes the app in-process; this runs the tool an operator would, over the
network, through the whole OpenAPI document, with the station's token and the room's real name.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard.db import new_session
from dashboard.manage import create_user
from dashboard.models import Role, User
from dashboard.read_api import make_token

pytest.importorskip("schemathesis")


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_on_a_served_dashboard(dashboard_for, tmp_path: Path) -> None:
    app, url, token = dashboard_for(10, "gate-1")
    with new_session(app) as session:
        create_user(session, "sari", "correct horse battery", Role.SUPERVISOR, sites=["kantor"])
        with app.test_request_context():
            user = session.execute(select(User).where(User.username == "sari")).scalar_one()
            user_token = make_token(user)
    # the station's token for what stations call, a supervisor's API token for the read API
    (tmp_path / "schemathesis.toml").write_text(
        "[[operations]]\n"
        'include-path-regex = "^/rooms/"\n'
        'parameters = { room = "loket" }\n'
        f'headers = {{ Authorization = "Bearer {token}" }}\n'
        "[[operations]]\n"
        'include-path = "/events"\n'
        f'headers = {{ Authorization = "Bearer {token}" }}\n'
        "[[operations]]\n"
        'include-path-regex = "^/(rooms|crossings|screenings|alerts|queue|stations)$"\n'
        f'headers = {{ Authorization = "Bearer {user_token}" }}\n',
        encoding="utf-8",
    )
    tool = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    run = subprocess.run(
        [
            tool,
            "run",
            f"{url}/api/v1/openapi.json",
            "--url",
            f"{url}/api/v1",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "60",
            "--seed",
            "1",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "9 passed" in run.stdout  # every operation of the document was reached

"""API v1 fuzzed with schemathesis from its own OpenAPI document: no input makes a server error.

The app runs in-process (WSGI) on a fresh database: SQLite, and PostgreSQL when it answers (there
a NUL character or a too-long text would be a database error, so it is the stricter half). Each
operation gets valid cases (the schema's own shapes: they must be accepted or refused cleanly) and
invalid ones (schemathesis breaks the schema on purpose). The number of examples is bounded and
the generation derandomised, so the run takes seconds and fails the same way twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from postgres_support import POSTGRES_URL, postgres_problem
from sqlalchemy import create_engine, select, text

from dashboard import create_app, manage, read_api
from dashboard.db import get_engine, new_session
from dashboard.migrate import upgrade
from dashboard.models import Role, User

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402

POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# (path, method, generation mode, examples)
OPERATIONS = [
    # the station's batch, shaped as the schema says: accepted, or refused with a 4xx
    ("/events", "POST", POSITIVE, 100),
    # the batch broken on purpose: wrong types, missing fields, extra fields
    ("/events", "POST", NEGATIVE, 100),
    # a room's occupancy, any room name
    ("/rooms/{room}/occupancy", "GET", POSITIVE, 25),
    # the health check (no parameters, so nothing to break)
    ("/health", "GET", POSITIVE, 3),
    # the read API as a supervisor (API token): pages and filters as the schema says...
    *(
        (path, "GET", POSITIVE, 25)
        for path in ("/rooms", "/crossings", "/screenings", "/alerts", "/queue", "/stations")
    ),
    # ...and broken on purpose: negative and huge cursors, words for numbers, rooms that are no slug
    *(
        (path, "GET", NEGATIVE, 25)
        for path in ("/rooms", "/crossings", "/screenings", "/alerts", "/queue", "/stations")
    ),
]
READS = {"/rooms", "/crossings", "/screenings", "/alerts", "/queue", "/stations"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The app on a migrated database with one room, a station that sent a batch, a supervisor:
    (app, station token, the supervisor's API token)."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    else:
        problem = postgres_problem()
        if problem:
            pytest.skip(problem)
        schema = f"gerbang_fuzz_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "fuzz", "TESTING": True, "LIVE_NOTIFY": False})
    with new_session(app) as session:
        manage.add_room(session, "kantor", "lobby", 10, 0.5)
        token = manage.add_station(session, "gate-1", "lobby")[1]
        manage.create_user(session, "sari", "correct horse battery", Role.SUPERVISOR, sites=["kantor"])
        with app.test_request_context():
            user = session.execute(select(User).where(User.username == "sari")).scalar_one()
            user_token = read_api.make_token(user)
    batch = [
        {"id": str(uuid.uuid4()), "at": datetime.now(UTC).isoformat(), **fields}
        for fields in (
            {"type": "crossing", "direction": "in"},
            {"type": "screening", "decision": "deny", "reason": "fever", "body_c": 38.5},
            {"type": "queue", "ticket": 1, "action": "issued"},
            {"type": "status", "device": "camera", "state": "error", "detail": "no frames"},
        )
    ]
    answer = app.test_client().post(
        "/api/v1/events", json={"events": batch}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    yield app, token, user_token
    get_engine(app).dispose()
    if schema is not None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize(("path", "method", "mode", "examples"), OPERATIONS)
def test_no_input_makes_a_server_error(
    fuzzed: tuple, path: str, method: str, mode: GenerationMode, examples: int
) -> None:
    app, station_token, user_token = fuzzed
    token = user_token if path in READS else station_token
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = api[path][method]
    statuses: dict[int, int] = {}
    server_errors: list[str] = []

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: object) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            server_errors.append(f"{response.status_code} for {case.body!r:.300}: {response.text[:300]}")

    call()
    assert server_errors == []
    assert sum(statuses.values()) >= 1
    if mode is POSITIVE and (path == "/events" or path in READS):
        assert statuses.get(200, 0) >= 1, statuses  # valid batches get in; valid reads are answered

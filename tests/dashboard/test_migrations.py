"""The Alembic migrations build exactly the models' schema, and come back down cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import LargeBinary, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from dashboard.db import Base, make_engine
from dashboard.migrate import downgrade, upgrade


# SQLite's reflection skips expression indexes (users' lower(username)); the clash test below proves it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_match_the_models(fresh_databases, kind: str) -> None:
    url = fresh_databases.make(kind)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
    downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_no_column_can_hold_an_image() -> None:
    for table in Base.metadata.tables.values():
        for column in table.columns:
            assert not isinstance(column.type, LargeBinary), f"{table.name}.{column.name}"
            assert not {"image", "photo", "face", "snapshot"} & set(column.name.split("_")), column.name


@pytest.mark.parametrize(
    ("pool_size", "max_overflow"),
    [
        # the defaults: as many kept connections as a process serves requests at once
        (20, 5),
        # a small database server: fewer per process
        (4, 0),
    ],
)
def test_the_postgresql_pool_is_sized_by_the_settings(fresh_databases, pool_size, max_overflow) -> None:
    engine = make_engine(fresh_databases.make("postgresql"), pool_size, max_overflow)
    assert engine.pool.size() == pool_size
    assert engine.pool._max_overflow == max_overflow  # no public reader
    engine.dispose()


def test_postgresql_ids_of_growing_tables_are_64_bit(fresh_databases) -> None:
    url = fresh_databases.make("postgresql")
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT setval('live_events_id_seq', 3000000000)"))  # past 32 bits
        conn.execute(text("INSERT INTO live_events (at, kind, payload) VALUES (now(), 'alert', '{}')"))
        newest = conn.execute(text("SELECT max(id) FROM live_events")).scalar_one()
    engine.dispose()
    assert newest == 3_000_000_001


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_events_ingested_before_0009_stay_and_stay_idempotent(fresh_databases, kind: str) -> None:
    from sqlalchemy.orm import Session

    from dashboard import manage
    from dashboard.api import token_hash
    from dashboard.ingest import Rules, ingest, sender_for_token
    from dashboard.models import Crossing, IngestedEvent
    from station.events import CrossingEvent, Direction

    url = fresh_databases.make(kind)
    upgrade(url)
    engine = make_engine(url)
    entered = CrossingEvent(direction=Direction.IN)
    with Session(engine) as session:
        manage.add_room(session, "kantor", "aula", 10)
        first = manage.add_station(session, "gate-1", "aula")[1]
        second = manage.add_station(session, "gate-2", "aula")[1]
        ingest(session, sender_for_token(session, token_hash(first)), [entered], Rules())
    downgrade(url, "0008")  # keyed on the id alone, as before
    upgrade(url)
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(IngestedEvent)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(Crossing)).scalar_one() == 1
        # the station's own id is still known; another station's use of it is another event
        assert ingest(session, sender_for_token(session, token_hash(first)), [entered], Rules()).accepted == 0
        assert (
            ingest(session, sender_for_token(session, token_hash(second)), [entered], Rules()).accepted == 1
        )
    primary_key = inspect(engine).get_pk_constraint("ingested_events")["constrained_columns"]
    engine.dispose()
    assert primary_key == ["station_id", "event_id"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_user_names_that_clash_ignoring_case_stop_the_upgrade_and_are_named(
    fresh_databases, kind: str
) -> None:
    url = fresh_databases.make(kind)
    upgrade(url, "0009")
    engine = make_engine(url)
    insert = text(
        "INSERT INTO users (username, password_hash, role, locale, active, created_at, session_gen,"
        " alert_sound) VALUES (:name, 'x', 'admin', 'en', :yes, CURRENT_TIMESTAMP, 0, :yes)"
    )
    with engine.begin() as conn:
        for name in ("adm", "ADM", "budi"):
            conn.execute(insert, {"name": name, "yes": True})
    with pytest.raises(RuntimeError, match="differ only in capitals: 'ADM', 'adm'"):
        upgrade(url)
    with engine.begin() as conn:  # the admin renames one of the two
        conn.execute(text("UPDATE users SET username = 'adm-lama' WHERE username = 'ADM'"))
    upgrade(url)
    with engine.begin() as conn, pytest.raises(IntegrityError):  # now held by the database itself
        conn.execute(insert, {"name": "Budi", "yes": True})
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sites_and_rooms_made_before_0011_stay_and_rooms_are_unique_per_site(
    fresh_databases, kind: str
) -> None:
    url = fresh_databases.make(kind)
    upgrade(url, "0010")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sites (id, slug, name, time_zone) VALUES (1, 'a', 'Kantor A', 'Asia/Jayapura')")
        )
        conn.execute(
            text(
                "INSERT INTO rooms (id, site_id, slug, name, capacity_people, share_ppm, occupancy_people,"
                " over_limit) VALUES (1, 1, 'hall', 'Aula', 40, 500000, 7, false)"
            )
        )
    upgrade(url)
    with engine.begin() as conn:
        site = conn.execute(text("SELECT slug, name, time_zone, address FROM sites")).one()
        room = conn.execute(
            text("SELECT site_id, slug, name, capacity_people, occupancy_people FROM rooms")
        ).one()
        assert tuple(site) == ("a", "Kantor A", "Asia/Jayapura", "")
        assert tuple(room) == (1, "hall", "Aula", 40, 7)
        # another site may now have its own hall
        conn.execute(
            text("INSERT INTO sites (id, slug, name, time_zone) VALUES (2, 'b', 'Kantor B', 'Asia/Jakarta')")
        )
        conn.execute(
            text(
                "INSERT INTO rooms (id, site_id, slug, name, capacity_people, share_ppm, occupancy_people,"
                " over_limit) VALUES (2, 2, 'hall', 'Aula B', 20, 500000, 0, false)"
            )
        )
    # ...but not a second hall of its own
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rooms (id, site_id, slug, name, capacity_people, share_ppm, occupancy_people,"
                " over_limit) VALUES (3, 2, 'hall', 'Aula lagi', 20, 500000, 0, false)"
            )
        )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rooms WHERE id = 2"))
    downgrade(url, "0010")  # one hall left: slugs unique across sites again, the data kept
    with engine.begin() as conn:
        assert conn.execute(text("SELECT slug, occupancy_people FROM rooms")).all() == [("hall", 7)]
    uniques = [c["column_names"] for c in inspect(engine).get_unique_constraints("rooms")]
    engine.dispose()
    assert ["slug"] in uniques

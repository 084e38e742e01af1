"""The Alembic migrations build exactly the models' schema, and come back down cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import LargeBinary, inspect, text

from dashboard.db import Base, make_engine
from dashboard.migrate import downgrade, upgrade


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

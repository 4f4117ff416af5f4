"""The throwaway PostgreSQL cluster really starts, serves SQL and cleans up after itself."""

from __future__ import annotations

import psycopg
import pytest
from pgcluster import PostgresCluster, find_pg_bin


def test_cluster_roundtrip() -> None:
    # Fail, not skip: the project's setup installs PostgreSQL, so missing binaries are a setup bug.
    if find_pg_bin() is None:
        pytest.fail("PostgreSQL server binaries (initdb/pg_ctl) not found; install the postgresql package")

    cluster = PostgresCluster()
    with cluster:
        url = cluster.create_database("duban_test")
        assert url == f"postgresql+psycopg://duban@127.0.0.1:{cluster.port}/duban_test"
        data_dir = cluster.data_dir
        assert data_dir.is_dir()

        # psycopg wants a plain libpq URL, without SQLAlchemy's "+psycopg" driver suffix.
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            assert conn.execute("select current_database()").fetchone() == ("duban_test",)
            conn.execute("create table t(x int)")
            conn.execute("insert into t values (1), (2), (3)")
            assert conn.execute("select x from t order by x").fetchall() == [(1,), (2,), (3,)]

    assert not data_dir.exists()
    assert cluster.root is None
    cluster.stop()  # idempotent

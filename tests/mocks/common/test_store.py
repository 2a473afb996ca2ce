"""The store's contract (`icarflex.mocks.common.store`), one module for both backends: every test
runs on a SQLite file and on a fresh database of a throw-away PostgreSQL cluster."""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import psycopg
import pytest
from icarflex.mocks.common.store import (
    Migration,
    Store,
    StoreRefused,
    StoreUnavailable,
    UniqueViolation,
    open_store,
)

FEED = [Migration(1, "CREATE TABLE feed (cursor {bigint} PRIMARY KEY, what TEXT NOT NULL);")]
ITEMS = [Migration(
    1, "CREATE TABLE items (id {id}, name TEXT NOT NULL UNIQUE, n INTEGER NOT NULL DEFAULT 0);"),
         Migration(2, "ALTER TABLE items ADD COLUMN note TEXT;")]


@pytest.fixture
def store(store_url: str) -> Store:
    opened = open_store(store_url)
    opened.migrate("items", ITEMS)
    yield opened
    opened.close()


def test_a_transaction_commits_whole(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.insert("items", {"name": "a"}, returning="id")
        second = tx.insert("items", {"name": "b"}, returning="id")
    assert second == first + 1
    assert [r["name"] for r in store.query("SELECT name FROM items ORDER BY id")] == ["a", "b"]


def test_an_error_rolls_the_whole_transaction_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.insert("items", {"name": "kept?"})
        tx.next_number("items")
        raise RuntimeError("refused")
    assert store.query("SELECT * FROM items") == []
    with store.transaction() as tx:
        assert tx.next_number("items") == 1  # the rolled-back number was never issued


def test_a_unique_index_refuses_a_duplicate(store: Store) -> None:
    with store.transaction() as tx:
        tx.insert("items", {"name": "once"})
    with pytest.raises(UniqueViolation), store.transaction() as tx:
        tx.insert("items", {"name": "once"})
    assert store.scalar("SELECT COUNT(*) FROM items") == 1


def test_counters_never_issue_a_number_twice_under_concurrency(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(2)]  # two stores: as two processes would
    stores[0].migrate("items", ITEMS)
    taken: list[int] = []
    barrier = threading.Barrier(8)

    def take(store: Store) -> None:
        barrier.wait()
        for _ in range(25):
            with store.transaction() as tx:
                taken.append(tx.next_number("police:S1"))

    threads = [threading.Thread(target=take, args=(stores[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(1, 201))
    for store in stores:
        store.close()


def test_a_locked_read_then_write_loses_no_update(store_url: str) -> None:
    """Read-modify-write of one row from 8 threads over two stores: every increment kept."""
    stores = [open_store(store_url) for _ in range(2)]
    stores[0].migrate("items", ITEMS)
    with stores[0].transaction() as tx:
        tx.insert("items", {"name": "counter"})
    barrier = threading.Barrier(8)

    def bump(store: Store) -> None:
        barrier.wait()
        for _ in range(20):
            with store.transaction() as tx:
                row = tx.one("SELECT n FROM items WHERE name = ?", ("counter",), lock=True)
                tx.execute("UPDATE items SET n = ? WHERE name = ?", (row["n"] + 1, "counter"))

    threads = [threading.Thread(target=bump, args=(stores[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stores[0].scalar("SELECT n FROM items WHERE name = 'counter'") == 160
    for store in stores:
        store.close()


def test_a_compare_and_swap_refuses_a_stale_version(store: Store) -> None:
    with store.transaction() as tx:
        tx.insert("items", {"name": "v", "n": 1})
    with store.transaction() as tx:
        assert tx.execute("UPDATE items SET n = 2 WHERE name = 'v' AND n = 1") == 1
    with store.transaction() as tx:
        assert tx.execute("UPDATE items SET n = 2 WHERE name = 'v' AND n = 1") == 0


def test_a_read_unit_sees_one_snapshot(store: Store) -> None:
    with store.transaction() as tx:
        tx.insert("items", {"name": "r"})
    with store.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM items") == 1
        assert tx.one("SELECT name FROM items")["name"] == "r"


def test_migrations_run_once_and_record_the_version(store_url: str) -> None:
    first = open_store(store_url)
    assert first.migrate("items", ITEMS[:1]) == 1
    assert first.migrate("items", ITEMS) == 2  # the step added since
    assert first.migrate("items", ITEMS) == 2
    with first.transaction() as tx:
        tx.insert("items", {"name": "x", "note": "migrated"})
    assert first.scalar("SELECT version FROM icarflex_schema WHERE component = 'items'") == 2
    first.close()


def test_a_newer_schema_is_refused_naming_its_version(store: Store, store_url: str) -> None:
    with store.transaction() as tx:
        tx.execute("UPDATE icarflex_schema SET version = 7 WHERE component = 'items'")
    with pytest.raises(StoreRefused, match="version 7"):
        open_store(store_url).migrate("items", ITEMS)
    assert store.scalar("SELECT version FROM icarflex_schema WHERE component = 'items'") == 7


def foreign_database(store_url: str, table: str) -> None:
    """A database made by someone else: one table of theirs, no icarflex_schema."""
    if store_url.startswith("postgresql://"):
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
    else:
        with sqlite3.connect(store_url) as conn:
            conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")


@pytest.mark.parametrize("table, says", [("customers", "pas une base icarflex"),
                                         ("openflex_vehicles", "icarflex 0.1")])
def test_another_applications_database_is_refused_and_left_alone(store_url: str, table: str,
                                                                 says: str) -> None:
    foreign_database(store_url, table)
    store = open_store(store_url)
    with pytest.raises(StoreRefused, match=says):
        store.migrate("items", ITEMS)
    with pytest.raises(Exception):  # noqa: B017 - nothing was created: no such table, on either backend
        store.query("SELECT * FROM icarflex_schema")
    store.close()


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database " * 100)
    with pytest.raises(StoreRefused, match="pas une base SQLite"):
        open_store(path).migrate("items", ITEMS)
    assert path.read_text() == "not a database " * 100


def test_an_unreachable_postgresql_names_host_and_cause() -> None:
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1/nothing injoignable : .+"):
        open_store("postgresql://icarflex@127.0.0.1:1/nothing")


def test_an_in_memory_sqlite_is_refused_with_a_reason() -> None:
    with pytest.raises(StoreUnavailable, match="fichier"):
        open_store(":memory:")


def test_a_temporary_store_goes_with_its_last_reference() -> None:
    store = open_store(None)
    store.migrate("items", ITEMS)
    path = Path(store.path)
    assert path.exists()
    store.close()
    del store
    import gc
    gc.collect()
    assert not path.exists()


def test_a_light_transaction_commits_too(store: Store, store_url: str) -> None:
    """`durable=False` (the journal): committed when the block returns, seen by another store."""
    with store.transaction(durable=False) as tx:
        tx.insert("items", {"name": "journaled"})
    other = open_store(store_url)
    assert other.scalar("SELECT COUNT(*) FROM items WHERE name = 'journaled'") == 1
    other.close()


def test_appended_rows_appear_in_commit_order_to_a_reader_following_the_cursor(store_url: str) -> None:
    """Writers append while a reader follows `cursor > last seen`: it never skips a row that
    committed after a higher cursor (each writer holds its transaction open a little)."""
    stores = [open_store(store_url) for _ in range(3)]
    stores[0].migrate("feed", FEED)
    done, seen = threading.Event(), []

    def write(store: Store, number: int) -> None:
        for i in range(15):
            with store.transaction() as tx:
                tx.append("feed", "cursor", [{"what": f"{number}-{i}"}])
                time.sleep(0.002)  # committed late: a later append may have started meanwhile

    def follow() -> None:
        after = 0
        while True:
            last_round = done.is_set()
            rows = stores[2].query("SELECT cursor FROM feed WHERE cursor > ? ORDER BY cursor", (after,))
            seen.extend(row["cursor"] for row in rows)
            after = rows[-1]["cursor"] if rows else after
            if last_round and not rows:
                return

    reader = threading.Thread(target=follow)
    reader.start()
    writers = [threading.Thread(target=write, args=(stores[n % 2], n)) for n in range(6)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    assert seen == list(range(1, 91))
    for store in stores:
        store.close()

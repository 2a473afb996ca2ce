"""The SQLite store: one serving process per file, the write generation caches trust, deferred
writes (read by every reader at once, written by the background writer or at exit), and the
clean-up of temporary stores.

Another process is a real one (a subprocess holding a store open); `icarflex serve` on a
file already served exits 2 naming the holder, as for a busy port.
"""
from __future__ import annotations

import gc
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from icarflex.mocks.common.store import Store, StoreInUse

SCHEMA = "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT);"
ROOT = Path(__file__).resolve().parents[3]


def holding(db: Path) -> subprocess.Popen[str]:
    """Another process with a store open on `db`, until its stdin closes."""
    code = textwrap.dedent(f"""
        import sys
        from icarflex.mocks.common.store import Store
        store = Store({str(db)!r}, {SCHEMA!r})
        print("ready", flush=True)
        sys.stdin.read()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=10)


def test_a_file_served_by_another_process_is_refused_naming_it(tmp_path: Path):
    db = tmp_path / "shared.sqlite3"
    other = holding(db)
    try:
        with pytest.raises(StoreInUse) as refused:
            Store(db, SCHEMA)
        assert f"PID {other.pid}" in str(refused.value) and str(db) in str(refused.value)
    finally:
        release(other)
    Store(db, SCHEMA).write("INSERT INTO items (name) VALUES ('free again')")  # its exit freed the file


def test_serve_on_a_file_already_served_exits_2_naming_the_holder(tmp_path: Path):
    db = tmp_path / "served.sqlite3"
    other = holding(db)
    try:
        run = subprocess.run([sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", "0",
                              "--icar-port", "0", "--db", str(db)], cwd=ROOT, capture_output=True, text=True,
                             timeout=60)
    finally:
        release(other)
    assert run.returncode == 2, run.stderr
    assert f"PID {other.pid}" in run.stderr and "--db" in run.stderr


def test_stores_of_one_process_share_the_file_and_its_generation(tmp_path: Path):
    first, second = Store(tmp_path / "one.sqlite3", SCHEMA), Store(tmp_path / "one.sqlite3", SCHEMA)
    seen = first.generation
    written = second.write("INSERT INTO items (name) VALUES ('a')")
    assert (written.rowcount, written.generation) == (1, seen + 1) and first.generation == seen + 1
    with first.transaction() as conn:
        conn.execute("INSERT INTO items (name) VALUES ('b')")
    assert second.generation == seen + 2
    second.write("INSERT INTO items (name) VALUES ('c')", invalidates=False)  # a journal's append
    assert first.generation == seen + 2
    assert [r["name"] for r in first.query("SELECT name FROM items ORDER BY id")] == ["a", "b", "c"]


def test_a_refused_transaction_leaves_nothing(tmp_path: Path):
    store = Store(tmp_path / "t.sqlite3", SCHEMA)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("INSERT INTO items (name) VALUES ('gone')")
        raise RuntimeError("refused")
    assert store.query("SELECT * FROM items") == []


def test_a_temporary_store_removes_its_files_when_dropped():
    store = Store(None, SCHEMA)
    store.write("INSERT INTO items (name) VALUES ('x')")
    path = Path(store.path)
    assert path.exists() and Path(f"{path}.lock").exists()
    del store
    gc.collect()
    assert not path.exists() and not Path(f"{path}.lock").exists()


def test_memory_is_not_a_store():
    with pytest.raises(ValueError, match="file"):
        Store(":memory:", SCHEMA)


# -- deferred writes: answered before they are in the file, never lost to a reader -------------

def defer_insert(store: Store, key: str, names: list[str], taken: list[str]) -> None:
    """Defer (the caller holds the state lock) the insert of what `names` holds when it is taken."""
    def take():
        taken.append(key)
        rows, names[:] = list(names), []
        return lambda conn: conn.executemany("INSERT INTO items (name) VALUES (?)", [(n,) for n in rows])
    store.defer(key, take)


def test_a_deferred_write_is_read_by_any_reader_of_the_process_at_once(tmp_path: Path):
    store, other = Store(tmp_path / "d.sqlite3", SCHEMA), Store(tmp_path / "d.sqlite3", SCHEMA)
    taken: list[str] = []
    for i in range(50):
        with store.state_lock:
            defer_insert(store, f"k{i}", [f"n{i}"], taken)
        # read at once, by another store of the process: it waits for the write, whoever runs it
        assert other.one("SELECT COUNT(*) AS n FROM items")["n"] == i + 1
    assert len(taken) == 50


def test_deferrals_of_one_key_are_one_write_and_a_writer_comes_after_them(tmp_path: Path):
    store = Store(tmp_path / "k.sqlite3", SCHEMA)
    names: list[str] = []
    taken: list[str] = []
    with store.state_lock:  # the background writer cannot take them while the lock is held
        for name in ("a", "b", "c"):
            names.append(name)
            defer_insert(store, "same", names, taken)
    with pytest.raises(RuntimeError), store.transaction() as conn:  # a writer: after them, and alone
        assert [r["name"] for r in conn.execute("SELECT name FROM items ORDER BY id")] == ["a", "b", "c"]
        conn.execute("INSERT INTO items (name) VALUES ('refused')")
        raise RuntimeError("refused")
    assert taken == ["same"]  # three deferrals of one key: one write
    assert [r["name"] for r in store.query("SELECT name FROM items ORDER BY id")] == ["a", "b", "c"]


def test_the_background_writer_stores_deferred_writes_with_no_reader(tmp_path: Path):
    db = tmp_path / "b.sqlite3"
    store = Store(db, SCHEMA)
    with store.state_lock:
        defer_insert(store, "k", ["alone"], [])
    deadline = time.monotonic() + 5
    while True:  # another connection, not the store's: it never waits for deferred writes
        with sqlite3.connect(db) as conn:
            if conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 1:
                break
        assert time.monotonic() < deadline, "the deferred write never reached the file"
        time.sleep(0.01)


def test_the_end_of_the_process_writes_what_was_deferred(tmp_path: Path):
    db = tmp_path / "exit.sqlite3"
    code = textwrap.dedent(f"""
        import icarflex.mocks.common.store as store_module
        from icarflex.mocks.common.store import Store
        store_module._GATHER_S = 60  # the background writer would come too late: the exit writes them
        store = Store({str(db)!r}, {SCHEMA!r})
        with store.state_lock:
            store.defer("k", lambda: lambda conn: conn.execute("INSERT INTO items (name) VALUES ('kept')"))
    """)
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM items").fetchall() == [("kept",)]

"""The SQLite store: one serving process per file, the write generation caches trust, and
the clean-up of temporary stores.

Another process is a real one (a subprocess holding a store open); `icarflex serve` on a
file already served exits 2 naming the holder, as for a busy port.
"""
from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mocks.common.store import Store, StoreInUse

SCHEMA = "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT);"
ROOT = Path(__file__).resolve().parents[3]


def holding(db: Path) -> subprocess.Popen[str]:
    """Another process with a store open on `db`, until its stdin closes."""
    code = textwrap.dedent(f"""
        import sys
        from mocks.common.store import Store
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
        run = subprocess.run([sys.executable, "-m", "scenarios.cli", "serve", "--openflex-port", "0",
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

"""Schema versions, the same on both backends: the `icarflex_schema` table and `migrate`.

Each component (openflex, icar, a journal…) brings its tables to its last `Migration` at
start, in one transaction (DDL is transactional on SQLite and PostgreSQL), under a lock that
makes concurrent starts (several workers) wait for each other: one migrates, the others
find it done. What is refused, never altered: a database that holds tables but no
`icarflex_schema` (another application's, or an icarflex store made before schema versions),
and a component whose stored version is newer than this icarflex knows.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from icarflex.mocks.common.store import Migration, Params, StoreRefused, Transaction

SCHEMA_TABLE = "icarflex_schema"
# Tables of icarflex before schema versions (0.1): named to tell the user what the file is.
LEGACY_TABLES = ("openflex_vehicles", "icar_records", "journal_openflex", "journal_icar")
CORE = [Migration(1, """
CREATE TABLE icarflex_schema (
    component TEXT PRIMARY KEY, version INTEGER NOT NULL, migrated_at TEXT NOT NULL
);
CREATE TABLE icarflex_counters (name TEXT PRIMARY KEY, value {bigint} NOT NULL);
""")]


def statements(ddl: str) -> list[str]:
    """The statements of a DDL text (each ends with `;` at the end of a line)."""
    out, current = [], []
    for line in ddl.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().rstrip(";").strip()
            if statement:
                out.append(statement)
            current = []
    tail = "\n".join(current).strip()
    if tail:
        out.append(tail)
    return out


def migrate(tx: Transaction, component: str, migrations: list[Migration], tables: Callable[[], set[str]],
            location: str) -> int:
    """Bring `component` to its last migration (the caller holds the schema lock); its version."""
    present = tables()
    if SCHEMA_TABLE not in present:
        _refuse_foreign(present, location)
        for step in CORE:
            tx.script(step.ddl)
        _set_version(tx, "store", CORE[-1].version)
    current = int(tx.scalar(f"SELECT version FROM {SCHEMA_TABLE} WHERE component = ?", (component,)) or 0)
    latest = max((m.version for m in migrations), default=0)
    if current > latest:
        raise StoreRefused(f"{location} : schéma {component} en version {current}, écrit par un icarflex "
                           f"plus récent (celui-ci connaît la version {latest}) ; base laissée intacte")
    for step in sorted(migrations, key=lambda m: m.version):
        if step.version > current:
            tx.script(step.ddl)
            current = step.version
    _set_version(tx, component, current)
    return current


def _refuse_foreign(present: set[str], location: str) -> None:
    if not present:
        return
    legacy = sorted(set(LEGACY_TABLES) & present)
    if legacy:
        raise StoreRefused(f"{location} : base d'un icarflex 0.1 (schéma non versionné, tables "
                           f"{', '.join(legacy)}) ; elle n'est pas migrée : choisissez une autre base (--db) "
                           "ou supprimez celle-ci")
    shown = ", ".join(sorted(present)[:5]) + (" …" if len(present) > 5 else "")
    raise StoreRefused(f"{location} : cette base n'est pas une base icarflex (tables : {shown}) ; "
                       "refusée, rien n'y a été modifié")


def _set_version(tx: Transaction, component: str, version: int) -> None:
    tx.execute(f"INSERT INTO {SCHEMA_TABLE} (component, version, migrated_at) VALUES (?, ?, ?) "
               "ON CONFLICT (component) DO UPDATE SET version = excluded.version, "
               "migrated_at = excluded.migrated_at",
               (component, version, datetime.now(UTC).isoformat(timespec="seconds")))


def append(tx: Transaction, table: str, key: str, rows: list[dict[str, Any]],
           counter: str | None = None) -> int:
    """`Transaction.append` on both backends. An identity column would number rows in the order
    transactions started, not the order they commit (PostgreSQL); a counter row, locked until
    this commit, numbers them in commit order."""
    last = tx.next_number(counter or f"{table}.{key}", len(rows))
    columns = [key, *rows[0]]
    tx.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                   [(last - len(rows) + 1 + i, *row.values()) for i, row in enumerate(rows)])
    return last


COUNTER_SQL = ("INSERT INTO icarflex_counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
               "DO UPDATE SET value = icarflex_counters.value + excluded.value RETURNING value")


class SqlUnit:
    """What both backends' units of work derive from their one `_run(sql, params)` (a cursor
    whose rows are dicts): scalar reads, inserts, counters and appends, written once."""

    def _run(self, sql: str, params: Params) -> Any:
        raise NotImplementedError

    def scalar(self, sql: str, params: Params = ()) -> Any:
        row = self._run(sql, params).fetchone()
        return None if row is None else next(iter(row.values()))

    def insert(self, table: str, values: dict[str, Any], *, returning: str | None = None) -> Any:
        sql = f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
        if returning is None:
            self._run(sql, tuple(values.values()))
            return None
        return self.scalar(f"{sql} RETURNING {returning}", tuple(values.values()))

    def next_number(self, name: str, count: int = 1) -> int:
        return int(self.scalar(COUNTER_SQL, (name, count)))

    def append(self, table: str, key: str, rows: list[dict[str, Any]], counter: str | None = None) -> int:
        return append(self, table, key, rows, counter)  # type: ignore[arg-type] - a Transaction

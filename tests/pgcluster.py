"""A throw-away PostgreSQL cluster for the tests and the benchmark: Debian's binaries, a
temporary folder, a free loopback port; run as the `postgres` user when we are root
(initdb and pg_ctl refuse root). Never a system service, never left running.

`Cluster.start()` → the cluster; `cluster.create_database()` → the URL of a fresh database.
`binaries()` is None where PostgreSQL is not installed (the tests then skip, saying so).
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

USER = "icarflex"


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path
    as_postgres: bool

    @classmethod
    def start(cls, max_connections: int = 300) -> Cluster:
        bin_dir = binaries()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) not found")
        as_postgres = os.geteuid() == 0
        folder = Path(tempfile.mkdtemp(prefix="icarflex-pg-"))
        if as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        cluster = cls(folder, free_port(), bin_dir, as_postgres)
        cluster._run("initdb", "-D", str(folder / "data"), "-U", USER, "--auth=trust", "-E", "UTF8",
                     "--no-sync", "--locale=C")
        options = (f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 "
                   f"-c max_connections={max_connections} -c shared_buffers=32MB")
        for _ in range(3):  # the free port may be taken meanwhile: another one
            try:
                cluster._run("pg_ctl", "-D", str(folder / "data"), "-o", options, "-w", "-t", "60",
                             "-l", str(folder / "log"), "start")
                return cluster
            except subprocess.CalledProcessError:
                cluster.port = free_port()
                options = (f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 "
                           f"-c max_connections={max_connections} -c shared_buffers=32MB")
        log = (folder / "log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start: {log}")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.folder)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        for _ in range(20):
            try:
                shutil.rmtree(self.folder)
                return
            except OSError:
                time.sleep(0.1)

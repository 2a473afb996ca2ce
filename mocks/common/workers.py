"""`icarflex serve --workers N`: gunicorn's arbiter, N worker processes, each serving both fakes.

gunicorn (the field's standard on Unix) binds the two listening sockets (OpenFlex, ICAR),
forks the workers, restarts one that dies and stops them on SIGINT / SIGTERM. Each worker
serves the sockets it inherited with waitress (`WaitressWorker`), as `serve` does with one
process: waitress reads requests asynchronously (an idle keep-alive connection or a request
still arriving holds no thread), which gunicorn's sync and gthread workers do not. Each
worker builds its own apps after the fork, so every worker has its own connections to the
one store they share; correctness comes from the store (`icarflex.mocks.common.store`), never
from being the only process on it. A worker whose arbiter is gone (kill -9) stops within a
round of its loop.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker
from icarflex.mocks.common.server import serve_rounds, waitress_server

BuildApps = Callable[[Sequence[tuple[str, int]]], Sequence[Any]]  # bound addresses → one app each


class WaitressWorker(Worker):
    """A gunicorn worker serving its inherited listening sockets with waitress, one app each."""

    def run(self) -> None:
        addresses = [listener.sock.getsockname()[:2] for listener in self.sockets]
        apps = self.wsgi(addresses)
        channels: dict[int, Any] = {}
        servers = [waitress_server(app, threads=self.cfg.threads, sock=listener.sock, channels=channels)
                   for listener, app in zip(self.sockets, apps, strict=True)]
        self.notify()
        serve_rounds(servers[0], channels, lambda: not self.alive or self.ppid != os.getppid(), self.notify)
        for server in servers:
            server.task_dispatcher.shutdown(timeout=2)


class FakesApplication(BaseApplication):
    """gunicorn's application: the settings given, and `build` called in each worker."""

    def __init__(self, build: BuildApps, settings: dict[str, Any]) -> None:
        self.build, self.settings = build, settings
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.settings.items():
            self.cfg.set(name, value)

    def load(self) -> BuildApps:
        return self.build


def run_workers(build: BuildApps, binds: Sequence[str], workers: int, threads: int,
                when_ready: Callable[[Sequence[tuple[str, int]]], None]) -> None:
    """Serve under gunicorn until it is stopped; `when_ready` gets the bound addresses, in order."""
    def ready(arbiter: Any) -> None:
        when_ready([listener.sock.getsockname()[:2] for listener in arbiter.LISTENERS])

    FakesApplication(build, {
        "bind": list(binds), "workers": workers, "threads": threads,
        "worker_class": f"{__name__}.WaitressWorker", "timeout": 60, "graceful_timeout": 5,
        "keepalive": 5, "proc_name": "icarflex", "when_ready": ready, "loglevel": "warning",
        "accesslog": None, "preload_app": False, "reuse_port": False,
    }).run()

"""Serve a WSGI app under waitress (the server `icarflex serve` uses) on loopback.

`waitress_server` builds the one waitress setup every path uses (the settings in
`SERVER_SETTINGS`), on a host and port or on a listening socket inherited from gunicorn
(`serve --workers N`: `icarflex.mocks.common.workers`); `serve_rounds` runs its loop.
`LiveServer` runs one in a background thread on a free port (port 0) for tests, the
in-process runner and the demo; `url` is where it answers. waitress's "Task queue depth"
warning, written for every request that waits for a thread (that is, all the time under
load), is kept for real trouble only: it cost ~5% of the requests/s of a loaded fake.

No client starves the others (issue 15): waitress reads every request in its event loop and
hands a thread only a request it has whole, so idle keep-alive connections and half-sent
requests cost a socket each, never a thread. `SERVING` lifts waitress's limit of 100
connections far above any load we expect (with `poll()`, as `select()` stops at descriptor
1,024, and the process's descriptor limit raised to match), and closes a connection silent
for `channel_timeout` seconds, whether idle or half-sent.
"""
from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

from waitress.server import create_server
from waitress.trigger import trigger

_ROUND_S = 0.1  # how long one round of the server loop may wait for activity
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
CONNECTION_LIMIT = 4_096
_SPARE_DESCRIPTORS = 256  # for the store, the journal, the connector's own connections
SERVING: dict[str, Any] = {
    "channel_timeout": 30,   # seconds a connection may stay silent (idle, or in a half-sent request)
    "cleanup_interval": 5,   # how often silent connections are looked for
    "asyncore_use_poll": True,
}


def serving_options() -> dict[str, Any]:
    """waitress's options against hostile clients, the connection limit within the descriptors
    this process may open (its soft limit raised to the hard one when needed)."""
    limit = CONNECTION_LIMIT
    if resource is not None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = CONNECTION_LIMIT + _SPARE_DESCRIPTORS
        if soft != resource.RLIM_INFINITY and soft < wanted:
            soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        if soft != resource.RLIM_INFINITY:
            limit = min(limit, soft - _SPARE_DESCRIPTORS)
    return {**SERVING, "connection_limit": max(limit, 100)}
# waitress's adjustments for every fake, whichever way it is served.
SERVER_SETTINGS: dict[str, Any] = {"ident": "icarflex", "clear_untrusted_proxy_headers": True}


def waitress_server(app: Any, *, threads: int, host: str = "127.0.0.1", port: int = 0,
                    sock: socket.socket | None = None, channels: dict[int, Any] | None = None,
                    **options: Any) -> Any:
    """A waitress server for `app` on `host:port`, or on a listening `sock` given (inherited);
    several servers may share one loop (`channels`, waitress's socket map); `options`: more
    waitress settings over `SERVER_SETTINGS` and `serving_options()`."""
    where: dict[str, Any] = {"sockets": [sock]} if sock is not None else {"host": host, "port": port}
    settings = {**SERVER_SETTINGS, **serving_options(), **options}
    return create_server(app, map=channels, threads=threads, **settings, **where)


def serve_rounds(server: Any, channels: dict[int, Any], stopping: Callable[[], bool],
                 each_round: Callable[[], None] | None = None) -> None:
    """waitress's loop over `channels` in short rounds until `stopping()`; then the channels it
    owns (listening sockets, open keep-alive connections) closed, in this thread. Triggers stay
    open: a task thread still finishing a response pulls one."""
    while not stopping() and channels:
        server.asyncore.loop(timeout=_ROUND_S, map=channels, use_poll=server.adj.asyncore_use_poll, count=1)
        if each_round is not None:
            each_round()
    for channel in list(channels.values()):
        if not isinstance(channel, trigger):
            channel.close()


class LiveServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 8,
                 **options: Any) -> None:
        """`options`: more waitress settings, laid over `SERVING` (the proxy keeps the client's
        X-Forwarded-* headers; tests shorten the timeouts)."""
        self.app = app
        self._server = waitress_server(app, threads=threads, host=host, port=port, **options)
        self.host = host
        self.port = self._server.effective_port  # type: ignore[union-attr]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"icarflex:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        """waitress's loop, in short rounds so `stop()` is seen within one round; everything the
        loop owns (listening socket, trigger, open keep-alive connections) is closed here, in
        the loop's own thread, never from another one."""
        server: Any = self._server
        serve_rounds(server, server._map, self._stopping.is_set)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        else:
            self._server.close()  # type: ignore[union-attr]
        self._server.task_dispatcher.shutdown(timeout=1)  # type: ignore[union-attr]

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

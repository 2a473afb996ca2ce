"""Serve a WSGI app under waitress (the server `icarflex serve` uses) on loopback.

`LiveServer` runs one in a background thread on a free port (port 0) for tests, the
in-process runner and the demo; `url` is where it answers. waitress's "Task queue depth"
warning, written for every request that waits for a thread (that is, all the time under
load), is kept for real trouble only: it cost ~5% of the requests/s of a loaded fake.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from waitress.server import create_server

_ROUND_S = 0.1  # how long one round of the server loop may wait for activity
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class LiveServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 8,
                 **options: Any) -> None:
        self.app = app
        # `options`: more waitress settings (the proxy keeps the client's X-Forwarded-* headers).
        settings = {"ident": "icarflex", "clear_untrusted_proxy_headers": True, **options}
        self._server = create_server(app, host=host, port=port, threads=threads, **settings)
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
        while not self._stopping.is_set() and server._map:
            server.asyncore.loop(timeout=_ROUND_S, map=server._map,
                                 use_poll=server.adj.asyncore_use_poll, count=1)
        for channel in list(server._map.values()):
            if channel is not server and channel is not server.trigger:
                channel.close()
        server.close()

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

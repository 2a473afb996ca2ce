"""Serve a WSGI app under waitress (the server `icarflex serve` uses) on loopback.

`LiveServer` runs one in a background thread on a free port (port 0) for tests, the
in-process runner and the demo; `url` is where it answers.
"""
from __future__ import annotations

import threading
from typing import Any

from waitress.server import create_server


import os as _os0, traceback as _tb0
_CLOSES = {}
_WATCH = set()
_real_close = _os0.close
def _dbg_close(fd):
    if fd in _WATCH:
        _CLOSES[fd] = _tb0.format_stack(limit=12)
    return _real_close(fd)
_os0.close = _dbg_close


class LiveServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> None:
        self.app = app
        self._server = create_server(app, host=host, port=port, threads=threads,
                                     ident="icarflex", clear_untrusted_proxy_headers=True)
        self.host = host
        _WATCH.update(self._server.trigger._fds)
        self.port = self._server.effective_port  # type: ignore[union-attr]
        self._thread = threading.Thread(target=self._server.run, name=f"icarflex:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket and every open (keep-alive) connection, from the server's
        own loop thread, so the loop ends at once instead of waiting for clients to hang up."""
        server: Any = self._server
        if not self._thread.is_alive():
            server.close()
            return

        def shutdown() -> None:
            for channel in list(server._map.values()):
                if channel is not server and channel is not server.trigger:
                    channel.close()
            server.close()

        import os as _os
        try:
            _os.fstat(server.trigger.trigger)
        except OSError:
            raise RuntimeError("DEBUGTRIGGER fd %r closed by: %s" % (server.trigger._fds, "".join(_CLOSES.get(server.trigger.trigger, ["?"]))))
        server.trigger.pull_trigger(shutdown)
        self._thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=1)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""What the loopback servers of the sandbox share: a threaded HTTP/1.1 server run in a background thread,
started and stopped (or used as a context manager), quiet about clients that hang up.

Threads are fine here: these serve real processes (the sandbox, the HTTP conformance transport), never a
simulated world.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

log = logging.getLogger("fakes.loopback")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or fails the TLS handshake is its own business, not a traceback on stderr.
        log.debug("connection from %s failed", client_address, exc_info=True)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, and the access log at debug level instead of on stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class LoopbackServer:
    """Serves `handler` on (host, port) from a daemon thread; port 0 picks a free port."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, host: str, port: int, name: str) -> None:
        self._httpd = _Server((host, port), handler)
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close the socket; requests in flight finish in their own threads."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

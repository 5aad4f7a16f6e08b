"""The controller's HTTP endpoints on one port: `/metrics` for Prometheus, `/healthz` and `/readyz` for the
Deployment's liveness and readiness probes.

`/healthz` answers 200 while the event loop beats (a task marks it every few seconds; a loop stuck for a
minute fails the probe, and the kubelet restarts the pod); `/readyz` answers 200 once the manager runs and its
informer has synced its first list, 503 before. Served by the standard library's WSGI server on a thread, as
prometheus_client serves `/metrics` itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any, Final
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

#: Seconds without a beat of the event loop after which `/healthz` fails.
STALE_AFTER: Final = 60.0


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Probes:
    """Serve the endpoints on `port` (0 picks a free one: `port` says which) until `stop()`."""

    def __init__(self, registry: CollectorRegistry, ready: Callable[[], bool], *, port: int,
                 host: str = "0.0.0.0") -> None:
        self._ready = ready
        self._beat = time.monotonic()
        metrics = make_wsgi_app(registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path in ("/healthz", "/livez"):
                alive = time.monotonic() - self._beat < STALE_AFTER
                return _text(start_response, alive, "ok" if alive else "the event loop has not run for a minute")
            if path == "/readyz":
                ready = self._ready()
                return _text(start_response, ready, "ok" if ready else "not ready: the informer has not synced")
            result: Iterable[bytes] = metrics(environ, start_response)
            return result

        self._server = make_server(host, port, app, server_class=_Server, handler_class=_Quiet)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="notifier-probes", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        """The event loop ran: called from a task on it."""
        self._beat = time.monotonic()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _text(start_response: Callable[..., Any], ok: bool, text: str) -> list[bytes]:
    start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode() + b"\n"]

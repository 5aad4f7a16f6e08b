"""The fake Slack, PagerDuty and Teams on a loopback socket, for a controller process of its own.

The same `Backends` as in the simulator (scripts, defaults, receipts, PagerDuty de-duplication), reached over
real HTTP: each request is turned into an `httpx.Request` and answered by the respx router, on the wall
clock. A reset or TLS failure closes the connection unanswered; a lost response holds the connection until the
client gives up. `GET /receipts` lists what was received, as JSON, for tests and curious users.

Threads are fine here: this serves the sandbox, never a simulated world.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from fakes._loopback import LoopbackServer, QuietHandler
from fakes.backends import Backends, Receipt
from notifier.adapters import AsyncioRuntime

log = logging.getLogger("fakes.backends.http")
#: How long a "timeout-after-receive" answer keeps the connection before closing it unanswered.
LOST_RESPONSE_HOLD = 30.0


class HttpBackends(LoopbackServer):
    """`Backends` served at `http://host:port` (port 0 picks a free one); add endpoints with `add`.

    Args:
        on_receipt: called with every receipt, after it is recorded (the sandbox prints them).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 on_receipt: Callable[[Receipt], None] | None = None) -> None:
        super().__init__(_handler(self), host=host, port=port, name="fake-backends-http")
        self.url = "http://{}:{}".format(*self.address)
        self.backends = Backends(AsyncioRuntime(), base_url=self.url)
        self.lock = threading.Lock()
        self._on_receipt = on_receipt

    def add(self, service: str, name: str, *, default: int = 200) -> Any:
        endpoint = self.backends.add(service, name, default=default)
        if self._on_receipt is not None:
            endpoint.on_receipt.append(self._on_receipt)
        return endpoint

    def receipts(self) -> list[Receipt]:
        with self.lock:
            return self.backends.receipts()

    def answer(self, request: httpx.Request) -> httpx.Response:
        """The router's answer; raises `httpx.TransportError` for the outcomes that have no answer."""
        with self.lock:
            return asyncio.run(self.backends.router.async_handler(request))


def _handler(front: HttpBackends) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        server_version = "notifier-sim-backends"

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/receipts":
                self._reply(200, json.dumps([dataclasses.asdict(r) for r in front.receipts()]).encode(),
                            "application/json")
            elif self.path == "/healthz":
                self._reply(200, b"ok", "text/plain")
            else:
                self._reply(404, b'{"error": "not found"}', "application/json")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request("POST", front.url + self.path, headers=list(self.headers.items()), content=body)
            try:
                response = front.answer(request)
            except httpx.ReadTimeout:
                self.close_connection = True
                threading.Event().wait(LOST_RESPONSE_HOLD)  # received, but the answer never comes
                return
            except httpx.TransportError:
                self.close_connection = True  # reset, or a TLS failure: nothing comes back
                return
            except Exception as error:  # no route: respx refuses an unknown URL
                self._reply(404, json.dumps({"error": f"no fake endpoint at {self.path}: {error}"}).encode(),
                            "application/json")
                return
            headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length",)}
            self._reply(response.status_code, response.content, headers.pop("content-type", "text/plain"),
                        headers)

        def _reply(self, code: int, data: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler

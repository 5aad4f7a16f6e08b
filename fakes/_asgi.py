"""An ASGI app on a loopback socket, served by uvicorn from a background thread: started and stopped, or used
as a context manager. The socket is bound when the server is made, so its port is known before it starts
(port 0 picks a free one).

Threads are fine here: these serve real processes (the sandbox, the HTTP conformance transport), never a
simulated world.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from typing import Any, Self

import uvicorn


class AsgiLoopback:
    """Serve the ASGI `app` on (host, port), with `tls` if given (an SSL context, not files)."""

    def __init__(self, app: Any, *, host: str, port: int, name: str, tls: ssl.SSLContext | None = None) -> None:
        self._socket = socket.create_server((host, port))
        self._name = name
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", http="h11",
                                loop="asyncio", timeout_graceful_shutdown=1, timeout_keep_alive=30)
        config.load()
        # uvicorn builds its SSL context from files; ours is made already (`load` has run, so it is kept).
        config.ssl = tls
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self._name} did not start")
            time.sleep(0.01)
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._uvicorn.serve(sockets=[self._socket]))
            # A client that kept its connection open past the graceful shutdown is cut off; the connections
            # closed at shutdown finish closing (a TLS one says goodbye first), before the loop goes.
            for connection in list(self._uvicorn.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
            loop.run_until_complete(asyncio.sleep(0.01))
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        """Stop accepting, end the open streams, and close the socket."""
        self._uvicorn.should_exit = True
        self._uvicorn.force_exit = True  # no wait for idle keep-alive connections: `_serve` cuts them off
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""The fake API server on a loopback socket, for clients nobody here wrote: the official `kubernetes` client
and kubectl.

A threaded HTTP/1.1 server: every request is checked for the bearer token (401 without it), then answered by
`Rest` under one lock, so the single-threaded `ApiServer` never sees two callers at once. A watch is streamed
as chunked JSON lines: the events after `resourceVersion`, then live ones, a bookmark every
`bookmark_every` seconds when asked for (queued behind the events it covers), until `timeoutSeconds`, the
client leaves, or the server stops. A watch below the compaction horizon gets an `ERROR` event with a 410
`Status`, as from a real API server.

Threads are fine here: this is the sandbox and the conformance transport, never a simulated world.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import queue
import select
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, Self

from fakes._loopback import LoopbackServer, QuietHandler
from fakes.apiserver._rbac import Subject, attributes, authorize
from fakes.apiserver._rest import Request, Response, Rest, WatchRequest, error_response, status
from fakes.apiserver._server import ApiServer
from notifier import KubeApiError, WatchEvent

log = logging.getLogger("fakes.apiserver.http")
_MAX_BODY = 3 * 1024 * 1024  # the API server's request size limit


class HttpApiServer(LoopbackServer):
    """Serve `server` at `https://host:port` (with `tls`; `http` without) to clients holding `token`.

    Port 0 picks a free port. Use as a context manager, or `start()` and `stop()`.
    """

    def __init__(self, server: ApiServer, *, token: str, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None, clock: Callable[[], float] = time.time,
                 bookmark_every: float = 30.0, collect_garbage_every: float | None = None) -> None:
        self.server = server
        self.token = token
        #: Who each bearer token is: the admin's `token` may do anything; `add_user` adds Role-bound ones.
        self.subjects: dict[str, Subject] = {token: Subject("system:admin")}
        #: Every request RBAC refused: (user, verb, resource, namespace, name); and who hears of each (its
        #: message).
        self.denied: list[tuple[str, str, str, str, str]] = []
        self.on_denied: Callable[[str], None] | None = None
        self.lock = threading.RLock()
        self.rest = Rest(server, clock=clock)
        self.bookmark_every = bookmark_every
        #: How often the garbage collector runs (seconds), as kube-controller-manager's would; None: never.
        self.collect_garbage_every = collect_garbage_every
        self.stopping = threading.Event()
        self.requests = 0
        self._shed: list[int] = []  # the Retry-After of each request still to shed
        super().__init__(_handler(self), host=host, port=port, name="fake-apiserver-http")
        self.scheme = "http"
        if tls is not None:
            # The handshake happens in the request's thread, so a slow client cannot stall the others.
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True,
                                                 do_handshake_on_connect=False)
            self.scheme = "https"

    @property
    def url(self) -> str:
        host, port = self.address
        return f"{self.scheme}://{host}:{port}"

    def start(self) -> Self:
        super().start()
        if self.collect_garbage_every is not None:
            threading.Thread(target=self._collect_garbage, name="fake-apiserver-gc", daemon=True).start()
        return self

    def _collect_garbage(self) -> None:
        assert self.collect_garbage_every is not None
        while not self.stopping.wait(self.collect_garbage_every):
            with self.lock:
                self.server.collect_garbage()

    def stop(self) -> None:
        """Stop accepting, end every open watch, and close the socket."""
        self.stopping.set()
        super().stop()

    def add_user(self, token: str, subject: Subject) -> None:
        """Let `token` in as `subject`, allowed what its rules allow (a ServiceAccount bound to a Role)."""
        self.subjects[token] = subject

    def kubeconfig(self, *, ca_pem: bytes | None = None, namespace: str = "default",
                   name: str = "notifier-sim", token: str | None = None) -> str:
        """A kubeconfig for this server: its URL, its CA (when serving TLS), a token (the admin's by default),
        a default namespace."""
        cluster: dict[str, Any] = {"server": self.url}
        if ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
        config = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": name, "cluster": cluster}],
            "users": [{"name": name, "user": {"token": token or self.token}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
            "current-context": name,
        }
        return json.dumps(config, indent=2) + "\n"

    def authenticated(self, header: str) -> Subject | None:
        """Who a bearer token is, or None (a 401)."""
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return next((subject for token, subject in self.subjects.items()
                     if hmac.compare_digest(presented.strip().encode(), token.encode())), None)

    def shed(self, count: int, retry_after: int = 1) -> None:
        """Answer the next `count` requests 429 unprocessed, as max-in-flight and API Priority and Fairness do:
        `http.Error`'s plain text and a `Retry-After` header, no `Status` body (apiserver `server/filters`)."""
        with self.lock:
            self._shed += [retry_after] * count

    def answer(self, request: Request) -> Response | WatchRequest:
        with self.lock:
            self.requests += 1
            if self._shed:
                return Response(429, "Too many requests, please try again later.\n", "text/plain; charset=utf-8",
                                 retry_after=self._shed.pop(0))
            try:
                return self.rest.handle(request)
            except Exception as error:  # a bug of ours: a 500 for this request, never a dead server
                log.exception("%s %s failed", request.method, request.target)
                return status(500, "InternalError", f"an error on the server ({type(error).__name__}: {error}) "
                              f"has prevented the request from succeeding")


def _handler(front: HttpApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        server_version = "notifier-sim-apiserver"

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                self._send(status(413, "RequestEntityTooLarge", "the request is too large"))
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            subject = front.authenticated(self.headers.get("Authorization", ""))
            if subject is None:
                self._send(status(401, "Unauthorized", "Unauthorized"))
                return
            wanted = attributes(self.command, self.path)
            try:
                authorize(subject, wanted)
            except KubeApiError as error:
                with front.lock:
                    front.denied.append((subject.name, wanted.verb, wanted.resource + (
                        f"/{wanted.subresource}" if wanted.subresource else ""), wanted.namespace, wanted.name))
                if front.on_denied is not None:
                    front.on_denied(error.full_message)
                self._send(error_response(error))
                return
            request = Request(self.command, self.path, body, dict(self.headers.items()))
            answer = front.answer(request)
            if isinstance(answer, WatchRequest):
                self._watch(answer)
            else:
                self._send(answer)

        def _send(self, response: Response) -> None:
            data = response.body.encode() if isinstance(response.body, str) else response.encoded()
            self.send_response(response.code)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-cache, private")
            for warning in response.warnings:
                self.send_header("Warning", warning)
            if response.retry_after:
                self.send_header("Retry-After", str(response.retry_after))
            self.end_headers()
            self.wfile.write(data)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _watch(self, watch: WatchRequest) -> None:
            events: queue.SimpleQueue[WatchEvent] = queue.SimpleQueue()
            opened = None
            with front.lock:
                try:
                    opened = watch.open(front.server)
                    for event in opened.pending:
                        events.put(event)
                    opened.pending.clear()
                    opened.on_event = events.put
                except KubeApiError as error:
                    failure = error_response(error).body
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            try:
                if opened is None:
                    self._chunk(json.dumps({"type": "ERROR", "object": failure}).encode() + b"\n")
                else:
                    self._stream(watch, events)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                self.close_connection = True
            finally:
                if opened is not None:
                    with front.lock:
                        front.server.close(opened)

        def _stream(self, watch: WatchRequest, events: queue.SimpleQueue[WatchEvent]) -> None:
            started = time.monotonic()
            deadline = None if watch.timeout_seconds is None else started + watch.timeout_seconds
            next_bookmark = started + front.bookmark_every
            while not front.stopping.is_set():
                now = time.monotonic()
                if (deadline is not None and now >= deadline) or self._client_left():
                    return
                if watch.bookmarks and now >= next_bookmark:
                    next_bookmark = now + front.bookmark_every
                    # Into the same queue as the events, under the lock every change is committed and queued
                    # under: it leaves after every event it covers (as the cacher's bookmark does).
                    with front.lock:
                        events.put(WatchEvent(type="BOOKMARK", object={
                            "apiVersion": watch.resource.api_version, "kind": watch.resource.kind,
                            "metadata": {"resourceVersion": str(front.server.revision)}}))
                wait = min(0.2, *(t - now for t in (deadline, next_bookmark) if t is not None))
                try:
                    event = events.get(timeout=max(0.0, wait))
                except queue.Empty:
                    continue
                self._event(watch, event)

        def _client_left(self) -> bool:
            """A watching client sends nothing more, so anything readable is its goodbye (EOF or close_notify)."""
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            try:
                self.connection.recv(1)
            except ssl.SSLWantReadError:
                return False
            except OSError:
                pass
            self.close_connection = True
            return True

        def _event(self, watch: WatchRequest, event: WatchEvent) -> None:
            obj: Any = event.object
            if watch.as_table and event.type != "BOOKMARK":
                with front.lock:
                    obj = front.rest.table(watch.resource, [obj], obj["metadata"]["resourceVersion"],
                                           headers=False)
            self._chunk(json.dumps({"type": event.type, "object": obj}, separators=(",", ":")).encode() + b"\n")

    return Handler

"""The fake API server on a loopback socket, for clients nobody here wrote: the official `kubernetes` client,
kubectl, lightkube, kopf.

An ASGI app (Starlette) served by uvicorn: every request is checked for its bearer token (401 without one)
and for what the token's Role allows (403), then answered by `Rest` under one lock, so the single-threaded
`ApiServer` never sees two callers at once. A watch is a stream of JSON lines from an async generator: the
events after `resourceVersion`, then live ones, a bookmark every `bookmark_every` seconds when asked for, until
`timeoutSeconds`, the client leaves, or the server stops. Events and bookmarks go through one queue, each put
under the lock that commits the change, so a bookmark leaves after every event it covers. A watch below the
compaction horizon gets an `ERROR` event with a 410 `Status`, as from a real API server.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Self

from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse
from starlette.responses import StreamingResponse
from starlette.routing import Route

from fakes._asgi import AsgiLoopback
from fakes.apiserver._rbac import Subject, attributes, authorize
from fakes.apiserver._rest import Request, Response, Rest, WatchRequest, error_response, status
from fakes.apiserver._server import ApiServer
from notifier import KubeApiError, WatchEvent

log = logging.getLogger("fakes.apiserver.http")
_MAX_BODY = 3 * 1024 * 1024  # the API server's request size limit


class HttpApiServer(AsgiLoopback):
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
        app = Starlette(routes=[Route("/{path:path}", self._endpoint,
                                      methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])])
        super().__init__(app, host=host, port=port, name="fake-apiserver-http", tls=tls)
        self.scheme = "https" if tls is not None else "http"

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

    async def _endpoint(self, request: StarletteRequest) -> StarletteResponse:
        body = await request.body()
        if len(body) > _MAX_BODY:
            return _starlette(status(413, "RequestEntityTooLarge", "the request is too large"))
        subject = self.authenticated(request.headers.get("authorization", ""))
        if subject is None:
            return _starlette(status(401, "Unauthorized", "Unauthorized"))
        raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        query = request.scope.get("query_string", b"").decode("latin-1")
        target = f"{raw}?{query}" if query else raw
        wanted = attributes(request.method, target)
        try:
            authorize(subject, wanted)
        except KubeApiError as error:
            with self.lock:
                self.denied.append((subject.name, wanted.verb, wanted.resource + (
                    f"/{wanted.subresource}" if wanted.subresource else ""), wanted.namespace, wanted.name))
            if self.on_denied is not None:
                self.on_denied(error.full_message)
            return _starlette(error_response(error))
        answer = self.answer(Request(request.method, target, body, dict(request.headers.items())))
        if isinstance(answer, WatchRequest):
            return StreamingResponse(self._stream(answer), media_type="application/json",
                                     headers={"Cache-Control": "no-cache, private"})
        return _starlette(answer)

    async def _stream(self, watch: WatchRequest) -> AsyncIterator[bytes]:
        """A watch's lines. Changes reach the queue from whichever thread commits them, in commit order (each
        is put under the lock it is committed under); so does each bookmark, after every event it covers."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[WatchEvent] = asyncio.Queue()

        def put(event: WatchEvent) -> None:
            loop.call_soon_threadsafe(events.put_nowait, event)

        failure: Any = None
        with self.lock:
            try:
                opened = watch.open(self.server)
            except KubeApiError as error:
                failure = error_response(error).body
            else:
                for event in opened.pending:
                    events.put_nowait(event)
                opened.pending.clear()
                opened.on_event = put
        if failure is not None:
            yield _line({"type": "ERROR", "object": failure})  # (sent with the lock let go)
            return
        try:
            started = time.monotonic()
            deadline = None if watch.timeout_seconds is None else started + watch.timeout_seconds
            next_bookmark = started + self.bookmark_every
            while not self.stopping.is_set():
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return
                if watch.bookmarks and now >= next_bookmark:
                    next_bookmark = now + self.bookmark_every
                    with self.lock:
                        put(WatchEvent(type="BOOKMARK", object={
                            "apiVersion": watch.resource.api_version, "kind": watch.resource.kind,
                            "metadata": {"resourceVersion": str(self.server.revision)}}))
                wait = min(0.2, *(t - now for t in (deadline, next_bookmark) if t is not None))
                try:
                    event = await asyncio.wait_for(events.get(), timeout=max(0.0, wait))
                except TimeoutError:
                    continue
                yield self._event(watch, event)
        finally:
            with self.lock:
                self.server.close(opened)

    def _event(self, watch: WatchRequest, event: WatchEvent) -> bytes:
        obj: Any = event.object
        if watch.as_table and event.type != "BOOKMARK":
            with self.lock:
                obj = self.rest.table(watch.resource, [obj], obj["metadata"]["resourceVersion"], headers=False)
        return _line({"type": event.type, "object": obj})

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


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


def _starlette(response: Response) -> StarletteResponse:
    """The REST layer's answer as Starlette sends it: its headers, `Warning` as many times as there are."""
    data = response.body.encode() if isinstance(response.body, str) else response.encoded()
    answer = StarletteResponse(data, status_code=response.code, media_type=response.content_type,
                               headers={"Cache-Control": "no-cache, private"})
    for warning in response.warnings:
        answer.raw_headers.append((b"warning", warning.encode("latin-1")))
    if response.retry_after:
        answer.headers["Retry-After"] = str(response.retry_after)
    return answer

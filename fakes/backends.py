"""Fake channel backends: Slack, PagerDuty, Teams and generic webhooks as respx routes.

Each endpoint records every request it *received* (time, body, replica, fencing token, attempt identity) and
answers from a per-request script, then a default: a status code (with Retry-After for 429), latency, a TLS
failure or a connection reset (nothing received), or the ambiguous one: the message is received and the
response is lost (the client sees a timeout). PagerDuty de-duplicates by `dedup_key`, as the Events API does.
The controller reaches them only through `httpx.MockTransport`, so it cannot tell them from the real thing.
"""

from __future__ import annotations

import json
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import respx

from notifier import Runtime
from notifier.assembly import PAGERDUTY_URL

Outcome = Literal["status", "timeout-after-receive", "reset", "tls-error"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Behavior:
    """How an endpoint answers one request."""

    outcome: Outcome = "status"
    status: int = 200
    latency: float = 0.0
    retry_after: float | None = None
    body: str = "ok"


OK = Behavior()


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """One request an endpoint received."""

    time: float
    service: str
    endpoint: str
    notification: str
    channel: str
    attempt: int
    replica: str
    fencing_token: str
    payload: dict[str, Any]
    answered: int
    deduplicated: bool = False
    #: The answer was sent and never arrived (`timeout-after-receive`): the sender cannot know it landed.
    lost: bool = False


@dataclass(eq=False)
class Endpoint:
    """One webhook URL: its script of behaviors, its default, and what it received."""

    service: str
    name: str
    url: str
    #: What the controller's credential file holds: the webhook URL, or PagerDuty's routing key.
    secret: str
    default: Behavior = OK
    script: deque[Behavior] = field(default_factory=deque)
    received: list[Receipt] = field(default_factory=list)
    calls: int = 0
    #: Called with each receipt as it is recorded (the harness crashes or pauses senders here).
    on_receipt: list[Callable[[Receipt], None]] = field(default_factory=list)

    def answer_with(self, *behaviors: Behavior | int, then: Behavior | int | None = None) -> None:
        """Answer the next requests with `behaviors` in order (ints are status codes), then `then`."""
        self.script.extend(_behavior(b) for b in behaviors)
        if then is not None:
            self.default = _behavior(then)


def _behavior(value: Behavior | int) -> Behavior:
    return value if isinstance(value, Behavior) else Behavior(status=value)


class Backends:
    """The world's fake external services, served by one respx router.

    Args:
        runtime: whose clock stamps receipts and whose sleeps are the latencies.
    """

    def __init__(self, runtime: Runtime, *, base_url: str | None = None) -> None:
        self._runtime = runtime
        #: Where the endpoints live: fake hosts by default; a real loopback server's URL for `HttpBackends`.
        self.base_url = base_url
        self.pagerduty_url = f"{base_url}/pagerduty/v2/enqueue" if base_url else PAGERDUTY_URL
        self.router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True, using=None)
        self.endpoints: dict[str, Endpoint] = {}
        self._dedup_keys: dict[str, None] = {}
        self._by_routing_key: dict[str, Endpoint] = {}
        self._pagerduty_routed = False

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.router.async_handler)

    def add(self, service: str, name: str, *, default: Behavior | int = 200) -> Endpoint:
        """A new endpoint. Slack and Teams get a URL of their own (the secret); PagerDuty endpoints share the
        Events API URL and are told apart by their routing key (the secret)."""
        token = f"T0K3N-{len(self.endpoints):04d}"
        if service == "pagerduty":
            url, secret = self.pagerduty_url, f"routing-key-{name}-{token}"
        else:
            url = f"{self.base_url}/{service}/hooks/{name}/{token}" if self.base_url else \
                f"https://{service}.fake.invalid/hooks/{name}/{token}"
            secret = url
        endpoint = Endpoint(service, name, url, secret, default=_behavior(default))
        self.endpoints[f"{service}:{name}"] = endpoint
        if service == "pagerduty":
            self._by_routing_key[secret] = endpoint
            if not self._pagerduty_routed:
                self._pagerduty_routed = True
                self.router.post(self.pagerduty_url).mock(side_effect=self._pagerduty)
        else:
            self.router.post(url).mock(side_effect=lambda request: self._handle(endpoint, request))
        return endpoint

    async def _pagerduty(self, request: httpx.Request) -> httpx.Response:
        key = str(json.loads(request.content or b"{}").get("routing_key", ""))
        endpoint = self._by_routing_key.get(key)
        if endpoint is None:
            return httpx.Response(400, json={"status": "invalid event", "message": "Event object is invalid",
                                             "errors": ["Invalid routing key"]})
        return await self._handle(endpoint, request)

    def receipts(self) -> list[Receipt]:
        """Every request received, across endpoints, in the order received."""
        out = [r for endpoint in self.endpoints.values() for r in endpoint.received]
        return sorted(out, key=lambda r: r.time)

    async def _handle(self, endpoint: Endpoint, request: httpx.Request) -> httpx.Response:
        endpoint.calls += 1
        behavior = endpoint.script.popleft() if endpoint.script else endpoint.default
        if behavior.latency > 0:
            await self._runtime.sleep(behavior.latency)
        if behavior.outcome == "reset":
            raise httpx.ConnectError("connection reset by peer", request=request)
        if behavior.outcome == "tls-error":
            error = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", request=request)
            error.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
            raise error
        payload = json.loads(request.content or b"{}")
        headers = request.headers
        deduplicated = False
        if endpoint.service == "pagerduty":
            dedup = f"{payload.get('routing_key', '')}/{payload.get('dedup_key', '')}"
            deduplicated = dedup in self._dedup_keys
            self._dedup_keys[dedup] = None
        status = behavior.status if behavior.outcome == "status" else 200
        endpoint.received.append(Receipt(
            time=self._runtime.now(), service=endpoint.service, endpoint=endpoint.name,
            notification=headers.get("X-Notifier-Notification", ""), channel=headers.get("X-Notifier-Channel", ""),
            attempt=int(headers.get("X-Notifier-Attempt", "0") or 0), replica=headers.get("X-Notifier-Replica", ""),
            fencing_token=headers.get("X-Notifier-Fencing-Token", ""), payload=payload, answered=status,
            deduplicated=deduplicated, lost=behavior.outcome == "timeout-after-receive",
        ))
        for hook in endpoint.on_receipt:
            hook(endpoint.received[-1])
        if behavior.outcome == "timeout-after-receive":
            raise httpx.ReadTimeout("timed out waiting for the response", request=request)
        extra = {"Retry-After": f"{behavior.retry_after:g}"} if behavior.retry_after is not None else {}
        return httpx.Response(status, text=behavior.body, headers=extra)

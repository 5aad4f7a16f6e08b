"""The controller the way teams test one today: on real asyncio, with respx answering for the backends and
real sleeps between retries. The same assembly as production (`notifier.assembly.assemble`), an in-process fake
API server, and nothing simulated: time is the wall clock.

Used to prove that the simulated controller ends as the real one does, and to measure what the simulator saves.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
from prometheus_client import CollectorRegistry

from fakes.apiserver import ApiServer, FakeKubeApi, ResourceRules
from fakes.backends import Backends
from notifier import NOTIFICATIONS, KubeObject, Manager, clone
from notifier.adapters import AsyncioRuntime
from notifier.assembly import ControllerConfig, LocalChannels, MemoryAuditSink, assemble


def _server(runtime: AsyncioRuntime, min_backoff: int | None) -> ApiServer:
    server = ApiServer(clock=runtime.now)
    if min_backoff is None:
        return server
    rules = server.rules(NOTIFICATIONS)
    schema = clone(rules.schema)
    assert schema is not None
    policy = schema["properties"]["spec"]["properties"]["retryPolicy"]["properties"]
    policy["initialBackoffSeconds"]["minimum"] = min_backoff
    server.register(NOTIFICATIONS, ResourceRules(schema=schema, status_subresource=True, track_generation=True,
                                                 allow_unconditional_update=False))
    return server


async def deliver_on_asyncio(
    body: KubeObject,
    *,
    routing: str,
    endpoints: Callable[[Backends, dict[str, str]], object],
    min_backoff: int | None = None,
    poll: float = 0.005,
    deadline: float = 60.0,
) -> KubeObject:
    """Create `body`, run one controller until the notification completes (or `deadline` wall seconds pass),
    and return it as stored.

    Args:
        endpoints: sets up the fake backends and fills in the credentials (`kind-name` -> secret).
        min_backoff: lowers the CRD's minimum `initialBackoffSeconds` (0 makes retries instant); None keeps
            the shipped schema.
    """
    runtime = AsyncioRuntime()
    server = _server(runtime, min_backoff)
    api = FakeKubeApi(server, runtime)
    backends = Backends(runtime)
    credentials: dict[str, str] = {}
    endpoints(backends, credentials)
    meta = body["metadata"]
    manager: Manager
    async with httpx.AsyncClient(transport=backends.transport()) as http:
        reconciler, _ = assemble(
            api=api, runtime=runtime, cache=lambda ns, name: manager.informer.get(ns, name), http=http,
            rng=random.Random(1), audit=MemoryAuditSink(), registry=CollectorRegistry(),
            credentials=lambda: credentials, config=ControllerConfig(identity="real"),
            local=LocalChannels(console_write=lambda line: None, log_write=lambda line: None), routing_text=routing)
        manager = Manager(api=api, runtime=runtime, reconciler=reconciler, namespace=meta["namespace"], workers=2)
        running = runtime.spawn(manager.run(), name="manager")
        await api.create(NOTIFICATIONS, meta["namespace"], body)
        give_up = runtime.now() + deadline
        while True:
            await runtime.sleep(poll)
            obj = await api.get(NOTIFICATIONS, meta["namespace"], meta["name"])
            if obj.get("status", {}).get("completionTime") or runtime.now() > give_up:
                break
        manager.stop()
        await running
    return obj

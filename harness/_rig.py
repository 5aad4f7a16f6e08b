"""The notifier controller installed in a world: each replica incarnation gets the production assembly,
wired to the world's fake API server, fake backends (through the fault-injecting transport), seeded RNG,
in-memory audit store and its own metrics registry. Only the edges are swapped; and a few faults act there:
`informer.stale-view` on the cache reader, `file.write-error` on the file writer, `routing.reload` on the
router.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from harness._choices import derive_seed
from harness._faults import FaultyTransport, faulty_writer
from harness._world import Replica, World
from harness.mutants import Host, Mutant
from notifier import KubeObject, Reconciler, clone
from notifier.assembly import (
    PRODUCTION,
    ControllerConfig,
    LocalChannels,
    LockMode,
    MemoryAuditSink,
    NotificationReconciler,
    Router,
    assemble,
)
from notifier.model import EXTERNAL_KINDS

#: (resourceVersion, object) as a replica's cache reader returned it.
Snapshot = tuple[str, KubeObject]


@dataclass(slots=True, kw_only=True)
class Rig:
    """What a world's controller replicas share: the routing file, credentials, audit store, file sink."""

    routing: str = ""
    reload_routing: str = ""
    credentials: dict[str, str] = field(default_factory=dict)
    lock: LockMode = "lease"
    guarantees: Mapping[str, str] = field(default_factory=dict)
    lease_duration: float = 30.0
    audit: MemoryAuditSink = field(default_factory=MemoryAuditSink)
    console: list[str] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    reconcilers: dict[str, NotificationReconciler] = field(default_factory=dict)
    routers: dict[str, Router] = field(default_factory=dict)
    #: Bug-zoo mutants, built into every replica (see `harness.mutants`).
    mutations: list[Mutant] = field(default_factory=list)

    def install(self, world: World) -> None:
        """Hook the rig's world-level faults (routing reloads) into the world."""
        world.on_routing_reload = self._reload_all
        for mutant in self.mutations:
            if mutant.informer is not None:
                world.informer = mutant.informer

    def _reload_all(self) -> None:
        text = self.reload_routing or self.routing
        for router in self.routers.values():
            router.load_text(text)

    def reconciler(self, replica: Replica) -> Reconciler:
        """The reconciler factory a World takes: the production assembly, with the mutants' seams and wraps."""
        world = replica.world
        injector = world.injector
        transport = FaultyTransport(world.backends.transport(), injector, replica)
        http = httpx.AsyncClient(transport=transport)
        history: dict[str, list[Snapshot]] = {}

        def cache(namespace: str, name: str) -> KubeObject | None:
            current = replica.manager.informer.get(namespace, name)
            seen = history.setdefault(f"{namespace}/{name}", [])
            if current is not None and (not seen or seen[-1][0] != current["metadata"]["resourceVersion"]):
                if seen and seen[-1][1]["metadata"].get("uid") != current["metadata"].get("uid"):
                    # The name was taken by another object: an informer's store holds one object per key, so
                    # once it has the new one it never serves the deleted one again (a lagging watch still can,
                    # before the new one arrives: that is `watch.delay`).
                    seen.clear()
                seen.append((current["metadata"]["resourceVersion"], current))
            if len(seen) > 1 and injector.fires("informer.stale-view", replica.name, place=f"cache.read {name}",
                                                        key=f"{namespace}/{name}"):
                back = world.choices.draw("informer.stale-view.depth", 1, len(seen) - 1,
                                          at=f"{replica.name}, cache.read {name}")
                return clone(seen[-1 - back][1])
            return current

        def write(path: Path, data: bytes) -> None:
            self.files.append((path.name, data.decode()))

        host = Host(api=replica.api, runtime=replica.runtime, cache=cache)
        seams = PRODUCTION
        for mutant in self.mutations:
            if mutant.seams is not None:
                seams = mutant.seams(seams, host)
        reconciler, router = assemble(
            api=replica.api, runtime=replica.runtime, cache=cache, http=http,
            rng=random.Random(derive_seed(world.seed, replica.name, replica.incarnation, "rng")),
            audit=self.audit, registry=CollectorRegistry(), credentials=lambda: self.credentials,
            config=ControllerConfig(identity=replica.name, lock=self.lock, guarantees=self.guarantees,
                                    lease_duration=self.lease_duration, intent_timeout=self.lease_duration),
            local=LocalChannels(console_write=self.console.append, log_write=lambda line: None,
                                file_dir=Path("/notifications"), file_writer=faulty_writer(injector, replica, write)),
            routing_text=self.routing, seams=seams,
        )
        self.reconcilers[replica.name] = reconciler
        self.routers[replica.name] = router
        wrapped: Reconciler = reconciler
        for mutant in self.mutations:
            if mutant.wrap is not None:
                wrapped = mutant.wrap(wrapped, host)
        return wrapped


def routing_for(*receivers: tuple[str, list[str]], default: str = "console-only") -> str:
    """A routing file with one route per receiver, chosen by `extensions.test-channel-set` (the Go suite's way).

    Each receiver is (name, channel kinds) where kinds are `slack`, `pagerduty`, `teams`, `console`, `file`,
    `log`; credentialed kinds use the credential ref `<kind>-<name>`.
    """
    lines = ["route:", f"  receiver: {default}", "  routes:" if receivers else "  routes: []"]
    for name, _ in receivers:
        lines += [f"    - match: {{test-channel-set: {name}}}", f"      receiver: {name}"]
    lines += ["receivers:", f"  - name: {default}", "    consoleConfigs: [{}]"]
    for name, kinds in receivers:
        lines.append(f"  - name: {name}")
        for kind in kinds:
            if kind in EXTERNAL_KINDS:
                lines.append(f"    {kind}Configs: [{{credentialRef: {kind}-{name}}}]")
            else:
                lines.append(f"    {kind}Configs: [{{}}]")
    return "\n".join(lines) + "\n"

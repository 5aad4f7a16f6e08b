"""The notifier controller installed in a world: each replica gets the production assembly, wired to the
world's fake API server, fake backends, seeded RNG, in-memory audit store and its own metrics registry.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from prometheus_client import CollectorRegistry

from harness._choices import derive_seed
from harness._world import Replica
from notifier._app import LocalChannels, assemble
from notifier._observe import MemoryAuditSink
from notifier._reconciler import ControllerConfig, LockMode, NotificationReconciler
from notifier._routing import Router


@dataclass(slots=True, kw_only=True)
class Rig:
    """What a world's controller replicas share: the routing file, credentials, backends and audit store."""

    routing: str = ""
    credentials: dict[str, str] = field(default_factory=dict)
    lock: LockMode = "lease"
    guarantees: Mapping[str, str] = field(default_factory=dict)
    audit: MemoryAuditSink = field(default_factory=MemoryAuditSink)
    console: list[str] = field(default_factory=list)
    reconcilers: dict[str, NotificationReconciler] = field(default_factory=dict)
    routers: dict[str, Router] = field(default_factory=dict)

    def reconciler(self, replica: Replica) -> NotificationReconciler:
        """The reconciler factory a World takes."""
        world = replica.world
        http = httpx.AsyncClient(transport=world.backends.transport())
        reconciler, router = assemble(
            api=replica.api, runtime=replica.runtime,
            cache=lambda ns, name: replica.manager.informer.get(ns, name),
            http=http, rng=random.Random(derive_seed(world.seed, replica.name, "rng")),
            audit=self.audit, registry=CollectorRegistry(), credentials=lambda: self.credentials,
            config=ControllerConfig(identity=replica.name, lock=self.lock, guarantees=self.guarantees),
            local=LocalChannels(console_write=self.console.append, log_write=lambda line: None),
            routing_text=self.routing,
        )
        self.reconcilers[replica.name] = reconciler
        self.routers[replica.name] = router
        return reconciler


def slack_routing(*receivers: tuple[str, list[str]], default: str = "console-only") -> str:
    """A routing file with one route per receiver, chosen by `extensions.test-channel-set` (the Go suite's way).

    Each receiver is (name, channel kinds) where kinds are `slack`, `pagerduty`, `teams`, `console`, `file`,
    `log`; credentialed kinds use the credential ref `<kind>-<name>`.
    """
    lines = ["route:", f"  receiver: {default}", "  routes:"]
    for name, _ in receivers:
        lines += [f"    - match: {{test-channel-set: {name}}}", f"      receiver: {name}"]
    lines += ["receivers:", f"  - name: {default}", "    consoleConfigs: [{}]"]
    for name, kinds in receivers:
        lines.append(f"  - name: {name}")
        for kind in kinds:
            if kind in ("slack", "pagerduty", "teams"):
                lines.append(f"    {kind}Configs: [{{credentialRef: {kind}-{name}}}]")
            else:
                lines.append(f"    {kind}Configs: [{{}}]")
    return "\n".join(lines) + "\n"

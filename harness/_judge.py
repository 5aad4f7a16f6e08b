"""Judging a finished world: the evidence the invariants read, and the scenario's expected outcomes."""

from __future__ import annotations

from harness._invariants import Evidence, Violation
from harness._rig import Rig
from harness._scenario import Scenario
from harness._world import World
from notifier import NOTIFICATIONS, parse_time


def evidence_of(world: World, rig: Rig, scenario: Scenario) -> Evidence:
    receipts = world.backends.receipts()
    names = {c.object["metadata"].get("uid", ""): c.object["metadata"]["name"] for c in world.changes
             if c.resource == NOTIFICATIONS}
    healthy = frozenset(
        key for key in scenario.endpoint_keys() if scenario.behaviors(key)[0].outcome == "status"
        and 200 <= scenario.behaviors(key)[0].status < 300)
    served: dict[str, tuple[str, str]] = {}
    for change in world.changes:
        if change.resource == NOTIFICATIONS:
            meta = change.object["metadata"]
            key = f"{meta.get('namespace', '')}/{meta['name']}"
            if change.type == "DELETED":
                served.pop(key, None)
            else:
                served[key] = (str(meta.get("uid", "")), str(meta.get("resourceVersion", "")))
    return Evidence(server_objects=served, caches=world.caches,
                    changes=world.changes, receipts=receipts, steps=world.trace.steps, audit=rig.audit.events,
                    lock=scenario.world.lock, quiet_start=scenario.phases.fault,
                    end=scenario.phases.fault + scenario.phases.quiet, bound=scenario.phases.bound,
                    lease_duration=scenario.world.lease_duration, healthy=healthy, names=names,
                    no_progress=world.no_progress.message() if world.no_progress else None,
                    no_progress_name=world.no_progress.name if world.no_progress else "")


def expectations(world: World, scenario: Scenario) -> list[Violation]:
    """The scenario's expected outcomes, as violations of `expected-outcome` where they differ."""
    out = []
    for expect in scenario.expect:
        for spec in scenario.notifications:
            for name in spec.names():
                if not expect.matches(name):
                    continue
                obj = world.server.get(NOTIFICATIONS, world.namespace, name)
                status = obj.get("status") or {}
                seen = {"phase": status.get("phase"), "reason": status.get("reason"),
                        "total_attempts": status.get("totalAttempts"), "successful": status.get("successfulDeliveries"),
                        "failed": status.get("failedDeliveries")}
                for key, value in seen.items():
                    wanted = getattr(expect, key)
                    if wanted is not None and wanted != value:
                        out.append(Violation(invariant="expected-outcome", notification=name,
                                             message=f"{key} is {value!r}, expected {wanted!r}"))
                if expect.completed_within is not None:
                    took = (parse_time(status["completionTime"]) - parse_time(obj["metadata"]["creationTimestamp"])
                            if status.get("completionTime") else float("inf"))
                    if took > expect.completed_within:
                        out.append(Violation(invariant="expected-outcome", notification=name,
                                             message=f"completed {took:g} s after creation, expected within "
                                                     f"{expect.completed_within:g} s"))
    return out

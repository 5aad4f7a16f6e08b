"""Section 9: what the controller itself costs the API server per notification. On the bench scenarios, the
API calls the replicas make, and the writes the server committed: status writes, Events, Lease writes, each
divided by the notifications of the run. Read from the server's own record of changes, so a write the
controller tried and the server refused (a conflict, an injected error) is a call but not a write."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench._common import judge, scenario
from harness import run
from notifier import NOTIFICATIONS

#: (scenario, seeds): the one-notification world with one retry, and the 3-replica world under every fault.
SCENARIOS = (("single", 20), ("three-replicas-all-faults", 10))
QUICK = (("single", 2), ("three-replicas-all-faults", 1))


def _count(result: Any) -> Counter[str]:
    world = result.world
    counts: Counter[str] = Counter()
    for change in world.changes:
        plural = change.resource.plural
        if plural == "notificationrequests":
            if change.type == "MODIFIED" and change.previous is not None and (
                    change.previous.get("status") != change.object.get("status")):
                counts["status writes"] += 1
        elif plural == "events":
            counts["Event writes"] += 1
            counts["Events"] += change.type == "ADDED"
        elif plural == "leases":
            counts["Lease writes"] += 1
    counts["API calls"] += sum(replica.api.calls for replica in [*world.retired, *world.replicas])
    for obj in world.server.list_objects(NOTIFICATIONS, None)[0]:
        counts["notifications"] += 1
        counts["delivered"] += obj.get("status", {}).get("phase") in ("Sent", "PartiallySent")
    return counts


def measure(name: str, seeds: int) -> dict[str, Any]:
    spec = scenario(name)
    total: Counter[str] = Counter()
    for seed in range(seeds):
        result = run(spec, seed, strategy=spec.campaign.strategy, keep=True)
        judge(spec, result)
        total += _count(result)
    per = max(1, total["notifications"])
    return {"scenario": spec.name, "replicas": spec.world.replicas, "seeds": seeds,
            "notifications": total["notifications"], "delivered": total["delivered"],
            **{f"{what} per notification": round(total[what] / per, 2)
               for what in ("API calls", "status writes", "Events", "Event writes", "Lease writes")}}


def section(quick: bool = False) -> dict[str, Any]:
    return {"scenarios": [measure(name, seeds) for name, seeds in (QUICK if quick else SCENARIOS)],
            "goal": "keep the write-ahead intent and the fencing; cut the rest where nothing is lost"}

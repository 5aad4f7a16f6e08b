"""Section 1: seeds and simulated API calls per second on three scenarios of growing size, and how much
faster than the wall clock their virtual time runs."""

from __future__ import annotations

import itertools
import time
from typing import Any

from bench._common import judge, scenario
from harness import runs

#: (scenario file, wall budget in seconds, most seeds): every scenario runs at least one seed.
SCENARIOS = (("single", 10.0, 2000), ("three-replicas-all-faults", 40.0, 400), ("five-replicas-500", 30.0, 3))
QUICK = (("single", 1.0, 20), ("three-replicas-all-faults", 1.0, 1), ("five-replicas-500", 0.0, 0))


def api_calls(result: Any) -> int:
    world = result.world
    replicas = [*world.retired, *world.replicas]
    return int(world.client_api.calls + sum(replica.api.calls for replica in replicas))


def measure(name: str, budget: float, most: int) -> dict[str, Any]:
    spec = scenario(name)
    seeds = calls = steps = violations = 0
    virtual = 0.0
    started = time.perf_counter()
    for outcome in runs(spec, itertools.count(), strategy=spec.campaign.strategy, keep=True):
        result = outcome.result
        calls += api_calls(result)
        steps += result.steps
        virtual += result.virtual_time
        violations += bool(result.violations)
        judge(spec, result)
        result.world = result.rig = None
        seeds += 1
        if seeds >= most or time.perf_counter() - started >= budget:
            break
    wall = time.perf_counter() - started
    notifications = sum(n.count for n in spec.notifications)
    return {
        "scenario": spec.name, "replicas": spec.world.replicas, "notifications": notifications,
        "faults": len(spec.faults), "strategy": spec.campaign.strategy, "seeds": seeds,
        "wall_seconds": round(wall, 2), "seeds_per_second": round(seeds / wall, 2),
        "api_calls_per_second": round(calls / wall), "api_calls_per_seed": round(calls / seeds),
        "trace_steps_per_second": round(steps / wall), "virtual_over_wall": round(virtual / wall, 1),
        "violating_seeds": violations,
    }


def section(quick: bool = False) -> dict[str, Any]:
    rows = [measure(name, budget, most) for name, budget, most in (QUICK if quick else SCENARIOS) if most]
    return {"scenarios": rows,
            "goal": "at least 50 seeds per second per core on the 3-replica scenario; virtual time at least "
                    "1,000x faster than wall time on the 5-replica scenario"}

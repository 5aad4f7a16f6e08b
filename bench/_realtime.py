"""Sections 3 and 4: virtual against wall time on the default retry policy, and the same notification run the
way teams test a controller today (real asyncio, respx, real sleeps) against the simulator."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench._common import judge, median, scenario
from fakes.backends import Backends
from harness import Scenario, deliver_on_asyncio, notification_body, run
from notifier import NOTIFICATIONS, parse_time

#: The default policy scaled down as far as the CRD allows: 1 s is the least initial backoff it admits.
SCALED = {"maxAttempts": 5, "initialBackoffSeconds": 1, "backoffMultiplier": 2, "maxBackoffSeconds": 60}


def _to_terminal(spec: Scenario, seed: int) -> tuple[float, float, str]:
    """(virtual seconds from creation to completion, wall seconds of the whole run, final phase)."""
    started = time.perf_counter()
    result = run(spec, seed, strategy="random", keep=True)
    wall = time.perf_counter() - started
    judge(spec, result)
    assert result.world is not None
    obj = result.world.server.get(NOTIFICATIONS, "default", "alert")
    status = obj.get("status", {})
    virtual = parse_time(status["completionTime"]) - parse_time(obj["metadata"]["creationTimestamp"])
    return virtual, wall, str(status.get("phase"))


def virtual_vs_wall(seeds: int) -> dict[str, Any]:
    spec = scenario("default-policy")
    runs = [_to_terminal(spec, seed) for seed in range(seeds)]
    virtual = median([r[0] for r in runs])
    wall = median([r[1] for r in runs])
    run_virtual = spec.phases.fault + spec.phases.quiet
    return {"scenario": spec.name, "seeds": seeds, "phase": sorted({r[2] for r in runs}),
            "virtual_seconds_to_terminal": round(virtual, 1), "wall_seconds_per_run": round(wall, 4),
            "virtual_seconds_per_run": run_virtual, "virtual_over_wall": round(run_virtual / wall),
            "terminal_virtual_over_wall": round(virtual / wall)}


def _scaled(spec: Scenario, policy: dict[str, int]) -> Scenario:
    """The scenario under another retry policy, expecting what that policy gives: console once, and Slack
    (503 every time) `maxAttempts` times."""
    notification = spec.notifications[0].model_dump(by_alias=True, exclude_none=True)
    expect = [{**e.model_dump(exclude_none=True), "total_attempts": 1 + policy["maxAttempts"]} for e in spec.expect]
    return spec.model_validate({**spec.model_dump(by_alias=True),
                                "notifications": [{**notification, "retryPolicy": policy}], "expect": expect})


def _endpoints(backends: Backends, credentials: dict[str, str]) -> None:
    endpoint = backends.add("slack", "console-slack", default=503)
    credentials["slack-console-slack"] = endpoint.secret


def real_vs_simulated(runs: int, policy: dict[str, int]) -> dict[str, Any]:
    spec = _scaled(scenario("default-policy"), policy)
    spec_n = spec.notifications[0]
    body = notification_body(spec_n, "alert")
    real_walls, phases = [], set()
    for _ in range(runs):
        started = time.perf_counter()
        obj = asyncio.run(deliver_on_asyncio(body, routing=spec.routing(), endpoints=_endpoints))
        real_walls.append(time.perf_counter() - started)
        phases.add(str(obj.get("status", {}).get("phase")))
    simulated = [_to_terminal(spec, seed) for seed in range(max(runs, 5))]
    sim_phases = {r[2] for r in simulated}
    real, sim = median(real_walls), median([r[1] for r in simulated])
    return {"retry_policy": policy, "runs": runs, "real_phase": sorted(phases), "simulated_phase": sorted(sim_phases),
            "real_wall_seconds": round(real, 2), "simulated_wall_seconds": round(sim, 4),
            "real_over_simulated": round(real / sim)}


def section(quick: bool = False) -> dict[str, Any]:
    return {"virtual_vs_wall": virtual_vs_wall(1 if quick else 5),
            "real_asyncio_vs_simulator": real_vs_simulated(1 if quick else 2,
                                                           {**SCALED, "maxAttempts": 2} if quick else SCALED),
            "goal": "virtual time at least 1,000x faster than wall time"}

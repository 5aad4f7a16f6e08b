"""Shared set-ups of the ported integration catalogue: channel sets as the Go suite routed them."""

from __future__ import annotations

from typing import Any

from harness._simfixture import Sim, SimRun

CHANNELS: dict[str, list[str]] = {
    "console-only": ["console"], "slack-only": ["slack"], "console-slack": ["console", "slack"],
    "console-file": ["console", "file"], "console-file-log": ["console", "file", "log"], "file-only": ["file"],
    "all-channels": ["slack", "console", "file", "log"], "pager": ["pagerduty"], "teams-only": ["teams"],
    "log-only": ["log"],
}


def policy(attempts: int, initial: int = 1, multiplier: int = 2, cap: int = 60) -> dict[str, int]:
    return {"maxAttempts": attempts, "initialBackoffSeconds": initial, "backoffMultiplier": multiplier,
            "maxBackoffSeconds": cap}


def deliver(sim: Sim, channels: str = "console-only", *, slack: Any = 200,
            backends: dict[str, Any] | None = None, retry: dict[str, int] | None = None, count: int = 1,
            quiet: float = 300, faults: dict[str, Any] | None = None, world: dict[str, Any] | None = None,
            prepare: Any = None, every: float = 0.2, start: float = 0.0, **fields: Any) -> SimRun:
    """Create `count` notifications routed to `channels` and run to quiet; every invariant must hold."""
    spec: dict[str, Any] = {"name": "alert", "channels": channels, "count": count, "every": every, "start": start,
                            **fields}
    if retry is not None:
        spec["retryPolicy"] = retry
    used = {f"{kind}:{name}" for name, kinds in CHANNELS.items() for kind in kinds
            if kind in ("slack", "pagerduty", "teams")}
    endpoints = {key: {"default": slack} for key in sorted(used) if key.startswith("slack:")}
    endpoints.update(backends or {})
    scenario = sim.scenario(channels=CHANNELS, backends=endpoints, notifications=[spec], world=world or {},
                            faults=faults or {}, phases={"fault": 60 if faults else 0, "quiet": quiet, "bound": quiet})
    return sim.check(sim.run(scenario, prepare=prepare))


def name(count: int, index: int = 0) -> str:
    return "alert" if count == 1 else f"alert-{index:02d}"

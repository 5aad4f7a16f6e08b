"""Every fault of the catalogue fires, is counted and traced, and has its effect; and the controller holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness import FAULTS
from harness._run import RunResult, run
from harness._scenario import Scenario
from notifier import NOTIFICATIONS

FAST = {"maxAttempts": 5, "initialBackoffSeconds": 1, "backoffMultiplier": 2, "maxBackoffSeconds": 60}


def scenario(fault: str, probability: float = 0.5, max_seconds: float = 2.0, also: dict[str, Any] | None = None,
             **extra: Any) -> Scenario:
    spec: dict[str, Any] = {
        "name": f"fault-{fault.replace('.', '-')}",
        "world": {"replicas": 2, "workers": 2, "lock": "lease"},
        "channels": {"mixed": ["console", "slack", "file"]},
        "notifications": [{"name": "n", "count": 4, "channels": "mixed", "every": 0.5, "retryPolicy": FAST}],
        "faults": {fault: {"probability": probability, "max_seconds": max_seconds}, **(also or {})},
        "phases": {"fault": 30, "quiet": 400, "bound": 400},
        "reload_channels": {"mixed": ["console", "slack", "file", "log"]},
    }
    spec.update(extra)
    return Scenario.model_validate(spec)


def kinds(result: RunResult) -> list[str]:
    assert result.world is not None
    return [step.kind for step in result.world.trace.steps]


def attempts(result: RunResult) -> list[dict[str, Any]]:
    assert result.world is not None
    out = []
    for i in range(4):
        out += (result.world.server.get(NOTIFICATIONS, "default", f"n-{i:02d}").get("status") or {}).get(
            "deliveryAttempts", [])
    return out


def stale_read(r: RunResult) -> bool:
    assert r.world is not None
    latest: dict[str, int] = {}
    for step in r.world.trace.steps:
        d = dict(step.details)
        if step.kind.startswith("commit.") and d.get("resource") == "notificationrequests":
            latest[f"default/{d['name']}"] = int(d["rv"])
        if step.kind == "reconcile.begin" and d.get("cached_rv") and int(d["cached_rv"]) < latest.get(d["key"], 0):
            return True
    return False


def errors(r: RunResult, name: str) -> bool:
    assert r.world is not None
    return any(s.kind == "reconcile.error" and dict(s.details)["error"] == name for s in r.world.trace.steps)


def attempt_error(text: str) -> Callable[[RunResult], bool]:
    return lambda r: any(text in a.get("error", "") for a in attempts(r))


def received_but_unknown(r: RunResult) -> bool:
    assert r.world is not None
    got = {(x.notification, x.channel, x.attempt) for x in r.world.backends.receipts()}
    uids = {f"n-{i:02d}": r.world.server.get(NOTIFICATIONS, "default", f"n-{i:02d}")["metadata"]["uid"]
            for i in range(4)}
    for name, uid in uids.items():
        status = r.world.server.get(NOTIFICATIONS, "default", name).get("status") or {}
        for a in status.get("deliveryAttempts", []):
            if a["status"] == "unknown" and (uid, a["channel"], a["attempt"]) in got:
                return True
    return False


def restarted(r: RunResult) -> bool:
    k = kinds(r)
    return "replica.crash" in k and "replica.restart" in k


def paused(r: RunResult) -> bool:
    return "replica.pause" in kinds(r)


def skewed(r: RunResult) -> bool:
    assert r.world is not None
    return any(replica.clock_offset != 0 for replica in r.world.replicas)


def relisted(r: RunResult) -> bool:
    assert r.world is not None
    return any(replica.manager.informer.relists > 0 for replica in [*r.world.retired, *r.world.replicas])


def reloaded(r: RunResult) -> bool:
    assert r.rig is not None
    return any(router.generation > 1 for router in r.rig.routers.values())


def slow_backend(r: RunResult) -> bool:
    assert r.world is not None
    issues = [s.time for s in r.world.trace.steps if s.kind == "http.issue"]
    got = [x.time - 1_767_225_600.0 for x in r.world.backends.receipts()]
    return bool(issues) and any(t > min(issues) + 0.01 for t in got)


def delayed_api(r: RunResult) -> bool:
    assert r.world is not None
    return any(c.resource == NOTIFICATIONS and c.type == "MODIFIED" and
               r.world.trace.steps[0].time < (step.time if (step := next(
                   s for s in r.world.trace.steps if dict(s.details).get("rv") == c.revision)) else 0)
               for c in r.world.changes)


EFFECTS: dict[str, tuple[dict[str, Any], Callable[[RunResult], bool]]] = {
    "api.latency": ({}, lambda r: delayed_api(r)),
    "api.conflict": ({"probability": 0.2}, lambda r: "fault.api.conflict" in kinds(r)),
    "api.error": ({"probability": 0.1}, lambda r: errors(r, "KubeUnavailableError")),
    "api.timeout-before-apply": ({"probability": 0.1}, lambda r: errors(r, "KubeTimeoutError")),
    "api.timeout-after-apply": ({"probability": 0.1}, lambda r: errors(r, "KubeTimeoutError")),
    # The controller waits out the Retry-After and asks again: no reconcile ends on the 429.
    "api.throttle": ({"max_seconds": 3}, lambda r: "fault.api.throttle" in kinds(r)
                     and not errors(r, "TooManyRequestsError")),
    "watch.delay": ({}, stale_read),
    "watch.disconnect": ({}, lambda r: "fault.watch.disconnect" in kinds(r)),
    "watch.compact": ({"probability": 0.9, "also": {"watch.disconnect": {"probability": 0.5},
                                                    "watch.delay": {"probability": 0.9, "max_seconds": 3}}}, relisted),
    "informer.stale-view": ({}, lambda r: "fault.informer.stale-view" in kinds(r)),
    "informer.hold-event": ({"probability": 0.9, "also": {"watch.delay": {"probability": 0.9, "max_seconds": 2}}},
                            lambda r: "fault.informer.hold-event" in kinds(r)),
    "reconcile.concurrent": ({}, lambda r: "fault.reconcile.concurrent" in kinds(r)),
    "replica.crash": ({"probability": 0.05, "max_seconds": 5}, restarted),
    "replica.pause": ({"probability": 0.05, "max_seconds": 10}, paused),
    "replica.clock-skew": ({"probability": 1.0, "max_seconds": 5}, skewed),
    "replica.partition": ({"probability": 0.3, "max_seconds": 5}, lambda r: errors(r, "KubeUnavailableError")),
    "http.status": ({}, attempt_error("503")),
    "http.latency": ({"max_seconds": 1}, slow_backend),
    "http.timeout-after-receive": ({}, received_but_unknown),
    "http.reset": ({}, attempt_error("ConnectError")),
    "http.rate-limit": ({}, attempt_error("429")),
    "http.tls-error": ({}, attempt_error("TLS certificate validation failed")),
    "file.write-error": ({}, attempt_error("No space left on device")),
    "routing.reload": ({"probability": 0.9}, reloaded),
}


def test_every_fault_has_an_effect_test() -> None:
    assert sorted(EFFECTS) == sorted(FAULTS)


@pytest.mark.parametrize("fault", sorted(EFFECTS))
def test_fault_fires_and_has_its_effect_while_the_invariants_hold(fault: str) -> None:
    knobs, effect = EFFECTS[fault]
    spec = scenario(fault, **knobs)
    for seed in range(6):
        result = run(spec, seed, keep=True)
        assert result.violations == [], [v.message for v in result.violations]
        if result.faults_fired.get(fault) and effect(result):
            return
    pytest.fail(f"{fault} never showed its effect in 6 seeds")

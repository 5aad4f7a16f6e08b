"""A replica's memory of a notification has one lifecycle: made by its first reconcile, dropped when it is
done or deleted, also when it is deleted in the middle of a delivery. Memory does not grow with churn."""

from __future__ import annotations

from typing import Any

from harness import Scenario, run
from notifier import NOTIFICATIONS


def churn(deletions: list[tuple[float, str]]) -> Any:
    scenario = Scenario.model_validate({
        "name": "churn", "world": {"replicas": 2},
        "channels": {"slow": ["slack"]},
        "backends": {"slack:slow": {"default": {"status": 200, "latency": 5.0}}},
        "notifications": [{"name": "n", "count": 6, "channels": "slow", "every": 0.5}],
        "invariants": ["no-duplicate-delivery", "counters-consistent", "lock-safety"]})

    def prepare(world: Any) -> None:
        for at, name in deletions:
            world.at(at, lambda name=name: world.client_api.delete(NOTIFICATIONS, "default", name),
                     name=f"delete-{name}")
    result = run(scenario, 3, keep=True, prepare=prepare)
    assert result.ok, result.violations
    return result


def test_every_memory_is_dropped_once_its_notification_is_done() -> None:
    result = churn([])
    assert {name: dict(r.memories) for name, r in result.rig.reconcilers.items()} == {"replica-0": {},
                                                                                      "replica-1": {}}


def test_a_notification_deleted_mid_delivery_leaves_no_memory_behind() -> None:
    result = churn([(2.0, "n-00"), (2.5, "n-01"), (6.0, "n-03")])  # each while its Slack send is in flight
    left = {name: sorted(m.key for m in r.memories.values()) for name, r in result.rig.reconcilers.items()}
    assert left == {"replica-0": [], "replica-1": []}


def test_a_run_leaves_no_world_behind_once_its_result_is_returned(caplog: Any) -> None:
    """`run` pauses the cycle collector while a world runs and frees the world's cycles after it: a campaign
    of any length holds one world at a time (a collection made while the world was still referred to would
    move it out of the young generations, where only a full collection, which a paused collector never
    starts, could free it)."""
    import gc
    import logging

    from harness import World, load_scenario
    from harness._scenario import bundled_dir

    scenario = load_scenario(bundled_dir() / "all-faults-three-replicas.yaml")
    caplog.set_level(logging.CRITICAL, logger="notifier")  # a captured record of a failed call holds its frames
    gc.collect()  # what earlier tests left for the collector
    before = {id(obj) for obj in gc.get_objects() if isinstance(obj, World)}  # worlds other tests still keep
    for seed in range(3):
        run(scenario, seed, strategy="swarm")
    assert gc.isenabled()
    assert not [obj for obj in gc.get_objects() if isinstance(obj, World) and id(obj) not in before]

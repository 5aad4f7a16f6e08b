"""Client traffic: what kubectl or another controller does to a notification, scripted in virtual time, traced,
and judged like everything else. A deletion in the middle of a delivery, and a re-creation under the same name,
found a real bug: a status write for the deleted notification landed on the new one (it looked the object up by
name alone); the writer now requires the uid it was meant for."""

from __future__ import annotations

from typing import Any

import pytest

from harness import load_scenario, run
from harness._scenario import bundled_dir
from harness.mutants import MUTANTS
from notifier import LEASES, NOTIFICATIONS, ConfigFileError, load_model
from notifier.model import Phase

RECREATE = load_scenario(bundled_dir() / "recreate-mid-delivery.yaml")


@pytest.mark.parametrize("strategy", ["random", "pct", "swarm"])
def test_deletions_and_recreations_mid_delivery_break_no_invariant(strategy: str) -> None:
    for seed in range(25):
        result = run(RECREATE, seed, strategy=strategy)
        assert result.ok, (seed, [f"{v.invariant}: {v.notification} {v.message}" for v in result.violations])


def test_each_action_happens_and_is_traced_with_what_the_server_answered() -> None:
    result = run(RECREATE, 0, keep=True)
    assert result.world is not None
    outcomes = {(dict(step.details)["name"], step.kind, dict(step.details)["outcome"])
                for step in result.world.trace.steps if step.kind.startswith("client.")}
    assert ("n-05", "client.update-spec", "InvalidError") in outcomes  # the CRD makes the spec immutable
    assert {("n-01", "client.delete", "ok"), ("n-02", "client.recreate", "ok"), ("n-03", "client.label", "ok"),
            ("n-04", "client.annotate", "ok")} <= outcomes
    changes = [c for c in result.world.changes if c.object["metadata"]["name"] == "n-02"
               and c.resource.plural == "notificationrequests"]
    assert len({c.object["metadata"]["uid"] for c in changes}) == 2  # the re-created one is another notification
    assert Phase((changes[-1].object.get("status") or {}).get("phase", "")).terminal


def test_the_bug_it_found_is_caught_again_if_it_comes_back() -> None:
    caught = [v.invariant for seed in range(40)
              for v in run(RECREATE, seed, strategy="swarm", mutant="status-by-name-only").violations]
    assert {"attempts-match-effects", "audit-once"} & set(caught)


def test_traffic_must_name_a_notification_the_scenario_creates() -> None:
    text = ("name: bad\nchannels: {c: [console]}\nnotifications: [{name: n, channels: c}]\n"
            "traffic: [{at: 1, action: delete, name: m}]\n")
    from harness import Scenario

    with pytest.raises(ConfigFileError, match="traffic names notification 'm'"):
        load_model(text, Scenario, "bad.yaml")


HELD = ("name: held\nworld: {replicas: 2, workers: 2, lock: lease}\nchannels: {s: [slack, console]}\n"
        "backends: {'slack:s': {default: {status: 200, latency: 3.0}}}\n"
        "notifications: [{name: n, count: 3, channels: s, every: 0.5}]\n"
        "traffic:\n"
        "  - {at: 1.0, action: delete-held, name: n-01, hold: 20}\n"
        "  - {at: 2.0, action: label, name: n-02, repeat: 12, every: 0.05}\n"
        "phases: {fault: 30, quiet: 300, bound: 300}\n")


def _scenario(text: str) -> Any:
    from harness import Scenario

    return load_model(text, Scenario, "inline.yaml")


def test_a_deletion_held_by_another_finalizer_waits_for_it_and_the_delivery_goes_on() -> None:
    result = run(_scenario(HELD), 0, keep=True)
    assert result.ok, [v.message for v in result.violations]
    assert result.world is not None
    versions = [c for c in result.world.changes if c.resource.plural == "notificationrequests"
                and c.object["metadata"]["name"] == "n-01"]
    marked = [c for c in versions if c.object["metadata"].get("deletionTimestamp")]
    assert marked and marked[0].object["metadata"]["finalizers"] == ["notifier-sim/held-by-another-party"]
    # marked for deletion at 1 s, deleted only when the other party let go 20 s later; the controller delivered
    # meanwhile (a deletion it cannot complete is no cancellation the controller sees)
    assert versions[-1].type == "DELETED"
    assert Phase((versions[-2].object.get("status") or {}).get("phase", "")).terminal
    kinds = [step.kind for step in result.world.trace.steps if step.kind.startswith("client.")]
    assert kinds.count("client.delete-held") == 1 and kinds.count("client.let-go") == 1


def test_a_burst_repeats_its_action_and_each_is_traced() -> None:
    result = run(_scenario(HELD), 0, keep=True)
    assert result.world is not None
    labels = [step for step in result.world.trace.steps if step.kind == "client.label"]
    assert len(labels) == 12 and all(dict(step.details)["outcome"] == "ok" for step in labels)
    assert labels[-1].time - labels[0].time == pytest.approx(11 * 0.05)


DRAWN = HELD.replace("traffic:\n  - {at: 1.0, action: delete-held, name: n-01, hold: 20}\n"
                     "  - {at: 2.0, action: label, name: n-02, repeat: 12, every: 0.05}\n",
                     "clients: {actions: [delete, delete-held, recreate, label, annotate, update-spec], count: 6, "
                     "burst: 3}\n")


def _client_steps(result: Any) -> list[tuple[float, str, str]]:
    return [(step.time, step.kind, dict(step.details)["name"]) for step in result.world.trace.steps
            if step.kind.startswith("client.")]


def test_drawn_traffic_comes_from_the_runs_choices_and_replays_from_its_tape() -> None:
    scenario = _scenario(DRAWN)
    first = run(scenario, 3, keep=True)
    again = run(scenario, 3, tape=first.tape, keep=True)
    other = run(scenario, 4, keep=True)
    assert _client_steps(first) and _client_steps(first) == _client_steps(again)
    assert first.trace_hash == again.trace_hash
    assert _client_steps(first) != _client_steps(other)
    kinds = {kind for seed in range(12) for _, kind, _ in _client_steps(run(scenario, seed, keep=True))}
    assert {"client.delete", "client.delete-held", "client.recreate", "client.label", "client.annotate",
            "client.update-spec"} <= kinds


def test_swarm_draws_a_subset_of_the_traffic_kinds_and_sites_draws_none() -> None:
    scenario = _scenario(DRAWN)
    subsets = {frozenset(kind for _, kind, _ in _client_steps(run(scenario, seed, strategy="swarm", keep=True)))
               for seed in range(12)}
    assert len(subsets) > 2
    assert _client_steps(run(scenario, 0, strategy="sites", keep=True)) == []


@pytest.mark.parametrize("strategy", ["random", "pct", "swarm"])
def test_drawn_traffic_breaks_no_invariant_of_the_correct_controller(strategy: str) -> None:
    scenario = _scenario(DRAWN)
    for seed in range(20):
        result = run(scenario, seed, strategy=strategy)
        assert result.ok, (seed, [f"{v.invariant}: {v.notification} {v.message}" for v in result.violations])


RELIST = load_scenario(bundled_dir() / "recreate-across-relist.yaml")


@pytest.mark.parametrize(("mutant", "seed"), [("reconcile-other-uid", 5), ("unaudited-when-gone", 48)])
def test_the_bugs_recreation_across_a_relist_found_are_caught_again(mutant: str, seed: int) -> None:
    """Both were in the controller until drawn traffic met a stale cache: a reconcile that locked a deleted
    object's uid worked on the object that took its name (two reconciles of it at once, audited twice); and a
    delivery whose status write timed out was never audited when the notification was deleted first."""
    catchers = MUTANTS[mutant].catchers
    found = next((s for s in range(seed + 30)
                  if any(v.invariant in catchers for v in run(RELIST, s, mutant=mutant).violations)), None)
    assert found is not None
    assert all(run(RELIST, s).ok for s in range(found + 1))


@pytest.mark.parametrize("collector", [False, True])
def test_the_garbage_collector_takes_a_deleted_notifications_delivery_lease(collector: bool) -> None:
    """With `world: {garbage_collector: true}` the world runs kube-controller-manager's collector: the delivery
    Lease of the notification deleted (and created again) while a replica held it is gone by the end; without
    it, it stays, as against an API server alone."""
    held = load_scenario(bundled_dir() / "recreate-while-leased.yaml")
    data = held.model_dump(mode="json", by_alias=True)
    scenario = type(held).model_validate({**data, "world": {**data["world"], "garbage_collector": collector}})
    result = run(scenario, 1, keep=True)  # (seed 1: the old notification got its Lease before it went)
    assert result.world is not None
    server = result.world.server
    living = {n["metadata"]["uid"] for n in server.list_objects(NOTIFICATIONS, None)[0]}
    owned = {c.object["metadata"]["name"]: c.object["metadata"]["ownerReferences"][0]["uid"]
             for c in result.world.changes if c.resource == LEASES and c.type == "ADDED"}
    of_the_deleted = {name for name, uid in owned.items() if uid not in living}
    assert of_the_deleted  # the old notification had its Lease
    left = {lease["metadata"]["name"] for lease in server.list_objects(LEASES, None)[0]}
    assert (of_the_deleted & left == set()) is collector

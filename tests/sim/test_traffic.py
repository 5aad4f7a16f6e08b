"""Client traffic: what kubectl or another controller does to a notification, scripted in virtual time, traced,
and judged like everything else. A deletion in the middle of a delivery, and a re-creation under the same name,
found a real bug: a status write for the deleted notification landed on the new one (it looked the object up by
name alone); the writer now requires the uid it was meant for."""

from __future__ import annotations

import pytest

from harness import load_scenario, run
from harness._scenario import bundled_dir
from notifier import ConfigFileError, load_model
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

"""Exploration strategies: how a run's faults and schedule are chosen, from the run's own choice source.

`random` takes the scenario's fault intensities as written; `swarm` enables a random subset at random
intensities; `pct` also draws replica priorities and priority-change points (probabilistic concurrency
testing). Every draw comes from the world's choices, so the tape alone replays a run of any strategy. `sites`
(`harness._sites`) is systematic: run k fires the k-th (site, fault) of a recording run, then pairs.
"""

from __future__ import annotations

from typing import Final

from harness._faults import FaultIntensity
from harness._scenario import Scenario, TrafficSpec
from harness._world import World

STRATEGIES: Final = ("random", "pct", "swarm", "sites")


def campaign_strategy(scenario: Scenario) -> str:
    """The strategy a campaign runs the scenario under: its own, except `hypothesis` (a search over tapes,
    not a per-seed strategy), which runs seeds as `random`."""
    return "random" if scenario.campaign.strategy == "hypothesis" else scenario.campaign.strategy


class PctScheduler:
    """Probabilistic concurrency testing over the API scheduling points.

    Replicas get distinct random priorities; at `depth - 1` random scheduling points the running replica drops
    to the lowest priority. A replica is delayed at each scheduling point by its rank, so the highest priority
    runs first. Any bug of depth d shows with probability at least 1 / (n * k^(d-1)) for n replicas and k
    scheduling points.
    """

    STEP: Final = 0.001

    def __init__(self, world: World, replicas: int, *, depth: int = 3, points: int = 500) -> None:
        self.depth = depth
        self.points = points
        order = list(range(replicas))
        for i in range(replicas - 1, 0, -1):
            j = world.choices.draw("pct.priority", 0, i)
            order[i], order[j] = order[j], order[i]
        self.priority = {index: replicas - rank for rank, index in enumerate(order)}
        self.changes = sorted(world.choices.draw("pct.change", 1, points) for _ in range(depth - 1))
        self.count = 0
        self.lowest = 0
        self.replicas = replicas

    def bound(self) -> str:
        k = self.points
        return (f"pct depth {self.depth}: a bug of depth <= {self.depth} shows with probability >= "
                f"1/({self.replicas}*{k}^{self.depth - 1})")

    def delay(self, index: int) -> float:
        self.count += 1
        if self.changes and self.count == self.changes[0]:
            self.changes.pop(0)
            self.lowest -= 1
            self.priority[index] = self.lowest
        rank = sorted(self.priority.values(), reverse=True).index(self.priority[index])
        return rank * self.STEP


def swarm(world: World, scenario: Scenario) -> dict[str, FaultIntensity]:
    """Swarm testing: each seed enables a random subset of the scenario's faults at random intensities."""
    chosen: dict[str, FaultIntensity] = {}
    for name, intensity in scenario.intensities().items():
        if world.choices.chance(f"swarm.enable.{name}", 0.5):
            scale = world.choices.uniform(f"swarm.scale.{name}", 0.2, 1.0)
            chosen[name] = FaultIntensity(probability=intensity.probability * scale,
                                          max_seconds=intensity.max_seconds)
    return chosen


def drawn_traffic(world: World, scenario: Scenario, strategy: str) -> list[TrafficSpec]:
    """The client traffic a run draws (`clients` in the scenario): none under `sites`, which perturbs the
    scenario as written; under swarm, each action kind is enabled or not, as the faults are."""
    spec = scenario.clients
    if spec is None or strategy == "sites":
        return []
    actions = list(spec.actions)
    if strategy == "swarm":
        actions = [action for action in actions if world.choices.chance(f"swarm.client.{action}", 0.5)]
    if not actions:
        return []
    names = [name for notification in scenario.notifications for name in notification.names()]
    end = spec.end if spec.end is not None else max(scenario.phases.fault, spec.start + 1.0)
    steps = []
    for _ in range(spec.count):
        steps.append(TrafficSpec(
            at=world.choices.uniform("client.at", spec.start, end, steps=10_000),
            action=actions[world.choices.draw("client.action", 0, len(actions) - 1)],
            name=names[world.choices.draw("client.name", 0, len(names) - 1)],
            repeat=world.choices.draw("client.repeat", 1, spec.burst), every=0.01,
            hold=world.choices.uniform("client.hold", 0.0, 30.0, steps=300)))
    return steps

"""One run: a scenario, a seed and a strategy in, a verdict out; a pure function of (scenario, seed, code).

The strategy decides the fault intensities (and, for `pct`, a schedule of priorities) from the same choice
source as everything else, so the tape alone replays the run. The verdict is the trace hash, the faults that
fired, and the violations of the scenario's invariants and expected outcomes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final

from fakes.backends import Receipt
from harness._faults import FaultIntensity
from harness._invariants import Evidence, Violation, check
from harness._rig import Rig
from harness._scenario import Scenario
from harness._world import World
from notifier import NOTIFICATIONS, KubeObject, parse_time

STRATEGIES: Final = ("random", "pct", "swarm")


@dataclass(slots=True, kw_only=True)
class RunResult:
    scenario: str
    seed: int
    strategy: str
    trace_hash: str
    violations: list[Violation]
    faults_fired: dict[str, int]
    tape: list[int]
    steps: int
    virtual_time: float
    explained_redeliveries: int = 0
    #: Task steps the world took (where it found its budget spent, if `stopped` names the budget it spent).
    world_steps: int = 0
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)
    world: World | None = None
    rig: Rig | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "seed": self.seed, "trace_hash": self.trace_hash,
                "violations": [{"invariant": v.invariant, "message": v.message} for v in self.violations],
                "faults_fired": dict(sorted(self.faults_fired.items()))}


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


def build(scenario: Scenario, seed: int, *, strategy: str = "random", tape: list[int] | None = None,
          mutant: str | None = None, max_steps: int | None = None, wall_seconds: float | None = None,
          ) -> tuple[World, Rig, PctScheduler | None]:
    """The world of one run, ready to `run`, with the controller installed.

    `max_steps` and `wall_seconds` override the scenario's budgets (`wall_seconds=inf`: no wall budget).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    spec = scenario.world
    guarantees: dict[str, str] = {str(kind): str(value) for kind, value in spec.guarantees.items()}
    rig = Rig(routing=scenario.routing(), lock=spec.lock, guarantees=guarantees,
              lease_duration=spec.lease_duration,
              reload_routing=scenario.routing(scenario.reload_channels) if scenario.reload_channels else "")
    if mutant is not None:
        from harness.mutants import MUTANTS

        rig.mutations.append(MUTANTS[mutant])
    world = World(seed=seed, reconciler=rig.reconciler, replicas=spec.replicas, workers=spec.workers,
                  fault_phase=scenario.phases.fault, leader_election=spec.leader_election,
                  lease_duration=spec.lease_duration, tape=tape,
                  max_steps=max_steps if max_steps is not None else spec.max_steps,
                  wall_seconds=_wall(wall_seconds if wall_seconds is not None else spec.wall_seconds))
    world.injector.intensities = swarm(world, scenario) if strategy == "swarm" else scenario.intensities()
    scheduler = PctScheduler(world, spec.replicas) if strategy == "pct" else None
    world.scheduler = scheduler
    rig.install(world)
    for key in scenario.endpoint_keys():
        kind, _, name = key.partition(":")
        default, script = scenario.behaviors(key)
        endpoint = world.backends.add(kind, name, default=default)
        endpoint.answer_with(*script)
        endpoint.on_receipt.append(_tracer(world, key))
        rig.credentials[f"{kind}-{name}"] = endpoint.secret
    for spec_n in scenario.notifications:
        for i, name in enumerate(spec_n.names()):
            world.at(spec_n.start + i * spec_n.every, _creator(world, notification_body(spec_n, name)),
                     name=f"create-{name}")
    return world, rig, scheduler


def _wall(seconds: float) -> float | None:
    return None if seconds == float("inf") else seconds


def _tracer(world: World, lane: str) -> Callable[[Receipt], None]:
    def trace(receipt: Receipt) -> None:
        world.trace.record(lane, "backend.receipt", channel=receipt.channel, attempt=receipt.attempt,
                           replica=receipt.replica, status=receipt.answered, token=receipt.fencing_token)
    return trace


def _creator(world: World, body: KubeObject) -> Callable[[], Coroutine[Any, Any, KubeObject]]:
    return lambda: world.client_api.create(NOTIFICATIONS, world.namespace, body)


def notification_body(spec: Any, name: str) -> KubeObject:
    """The NotificationRequest a scenario's notification spec creates under `name`."""
    body: KubeObject = {
        "apiVersion": NOTIFICATIONS.api_version, "kind": NOTIFICATIONS.kind,
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": spec.type, "priority": spec.priority, "subject": spec.subject, "body": spec.body},
    }
    extensions = dict(spec.extensions)
    if spec.channels != "default":
        extensions["test-channel-set"] = spec.channels
    if extensions:
        body["spec"]["extensions"] = extensions
    for key, value in (("severity", spec.severity), ("reviewSource", spec.review_source),
                         ("context", spec.context)):
        if value:
            body["spec"][key] = value
    if spec.retry_policy is not None:
        body["spec"]["retryPolicy"] = spec.retry_policy.model_dump(by_alias=True)
    return body


def run(scenario: Scenario, seed: int, *, strategy: str = "random", tape: list[int] | None = None,
        mutant: str | None = None, keep: bool = False,
        prepare: Callable[[World], None] | None = None, max_steps: int | None = None,
        wall_seconds: float | None = None) -> RunResult:
    """Run one seed of a scenario and judge it; `prepare` may script more client actions first.

    A world that spends its step or wall budget (a controller that loops) stops there and is judged as it
    stands: `no-progress`, with the safety invariants; liveness and expected outcomes are not judged.
    """
    world, rig, scheduler = build(scenario, seed, strategy=strategy, tape=tape, mutant=mutant, max_steps=max_steps,
                                  wall_seconds=wall_seconds)
    if prepare is not None:
        prepare(world)
    until = scenario.phases.fault + scenario.phases.quiet
    world.run(until=until)
    evidence = evidence_of(world, rig, scenario)
    violations = check(evidence, scenario.invariant_names())
    if world.no_progress is None:
        violations += expectations(world, scenario)
    result = RunResult(
        scenario=scenario.name, seed=seed, strategy=strategy, trace_hash=world.trace.hash(), violations=violations,
        faults_fired=dict(Counter(world.fired)), tape=list(world.choices.tape), steps=len(world.trace.steps),
        virtual_time=world.env.now, explained_redeliveries=_explained(evidence),
        world_steps=world.budget.stopped_at or world.budget.steps,
        stopped=world.no_progress.budget if world.no_progress else None,
        notes=[scheduler.bound()] if scheduler is not None else [],
    )
    if keep:
        result.world, result.rig = world, rig
    return result


def _explained(evidence: Evidence) -> int:
    from harness._invariants import explained_redeliveries

    return explained_redeliveries(evidence)


def evidence_of(world: World, rig: Rig, scenario: Scenario) -> Evidence:
    receipts = world.backends.receipts()
    names = {c.object["metadata"].get("uid", ""): c.object["metadata"]["name"] for c in world.changes
             if c.resource == NOTIFICATIONS}
    healthy = frozenset(
        key for key in scenario.endpoint_keys() if scenario.behaviors(key)[0].outcome == "status"
        and 200 <= scenario.behaviors(key)[0].status < 300)
    return Evidence(changes=world.changes, receipts=receipts, steps=world.trace.steps, audit=rig.audit.events,
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

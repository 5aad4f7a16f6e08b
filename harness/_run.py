"""One run: a scenario, a seed and a strategy in, a verdict out; a pure function of (scenario, seed, code).

The strategy (`harness._strategies`) decides the fault intensities (and, for `pct`, a schedule of priorities)
from the same choice source as everything else, so the tape alone replays the run. The world is built by
`harness._build` and judged by `harness._judge`. The verdict is the trace hash, the faults that fired, and the
violations of the scenario's invariants and expected outcomes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness._build import build
from harness._invariants import Violation, check, explained_redeliveries
from harness._judge import evidence_of, expectations
from harness._rig import Rig
from harness._scenario import Scenario
from harness._strategies import STRATEGIES
from harness._world import World

__all__ = ["STRATEGIES", "RunResult", "build", "evidence_of", "expectations", "run"]


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
        virtual_time=world.env.now, explained_redeliveries=explained_redeliveries(evidence),
        world_steps=world.budget.stopped_at or world.budget.steps,
        stopped=world.no_progress.budget if world.no_progress else None,
        notes=[scheduler.bound()] if scheduler is not None else [],
    )
    if keep:
        result.world, result.rig = world, rig
    return result

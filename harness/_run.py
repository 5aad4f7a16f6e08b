"""One run: a scenario, a seed and a strategy in, a verdict out; a pure function of (scenario, seed, code).

The strategy (`harness._strategies`) decides the fault intensities (and, for `pct`, a schedule of priorities)
from the same choice source as everything else, so the tape alone replays the run. The world is built by
`harness._build` and judged by `harness._judge`. The verdict is the trace hash, the faults that fired, and the
violations of the scenario's invariants and expected outcomes.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from harness._build import build
from harness._dump import judge_symptom
from harness._invariants import Violation, check, explained_redeliveries
from harness._judge import evidence_of, expectations
from harness._rig import Rig
from harness._scenario import Scenario
from harness._sites import Firing, SitePlan, SiteTargets, describe, encode, row
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
    #: Under the `sites` strategy, the faults it fired and where (`harness._sites.encode`).
    firings: list[list[Any]] | None = None
    #: Under any strategy, every fault that fired, where, in order (`encode`'s rows, with a delay's seconds).
    fired: list[list[Any]] = field(default_factory=list)
    #: Every client action the run took, scripted and drawn, as `traffic:` entries of a scenario.
    traffic: list[dict[str, Any]] = field(default_factory=list)
    #: The seed the world was built with: the run's, but 0 for run k of the `sites` strategy (k is no seed).
    world_seed: int = 0
    #: The run's choices that are not where faults fire nor how long their delays last, by name, where not the
    #: simplest (`script_of`): with `fired`, what replays the run as a script.
    script: dict[str, int] = field(default_factory=dict)
    #: For a scenario with a symptom (`reproduce`): what its world's end shows, as `harness._matching.features`.
    observed: dict[str, Any] | None = None
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
        wall_seconds: float | None = None, firings: frozenset[Firing] | None = None,
        durations: dict[Firing, float] | None = None, script: dict[str, int] | None = None) -> RunResult:
    """Run one seed of a scenario and judge it; `prepare` may script more client actions first.

    Under the `sites` strategy, `seed` is the number of the run in the strategy's order (`harness._sites`).
    Under any strategy, `firings` scripts the run: the faults fire there and nowhere else, `durations` says
    how long the delays among them last (default: the scenario's longest), and every other choice is the
    simplest unless `script` names it (a replay of a scripted run, a shrunk failure).

    A world that spends its step or wall budget (a controller that loops) stops there and is judged as it
    stands: `no-progress`, with the safety invariants; liveness and expected outcomes are not judged.

    Unless `keep`, the world's records (its trace steps, its changes, the server's history) are let go once
    it is judged: a `prepare` that holds on to the world finds them empty after the run; ask for `keep=True`
    (the result's `world`) to read them.
    """
    collecting = gc.isenabled()
    # The cycle collector is paused while the world runs, and run once when nothing refers to it any more (see
    # `_judged`): every object the world made is still young then, so one young collection frees its cycles.
    gc.disable()
    try:
        result, world, rig = _judged(scenario, seed, strategy=strategy, tape=tape, mutant=mutant, prepare=prepare,
                                     max_steps=max_steps, wall_seconds=wall_seconds, firings=firings,
                                     durations=durations, script=script)
        if keep:
            result.world, result.rig = world, rig
        else:
            world.drop_records()
        del world, rig
    finally:
        if collecting:
            gc.enable()
    if collecting and not keep:
        gc.collect(1)
    return result


def _judged(scenario: Scenario, seed: int, *, strategy: str, tape: list[int] | None, mutant: str | None,
            prepare: Callable[[World], None] | None, max_steps: int | None, wall_seconds: float | None,
            firings: frozenset[Firing] | None, durations: dict[Firing, float] | None,
            script: dict[str, int] | None) -> tuple[RunResult, World, Rig]:
    """One seed run and judged: its result, and the world and rig it ran in.

    The caller pauses the cycle collector around this. A run makes hundreds of thousands of short-lived
    objects, which reference counting frees as it goes; the collector, started every 700 allocations, would
    walk the world's growing live set again and again (a sixth of a run's time in `python -m bench --only
    throughput`). A world's cycles (finished coroutines, their tasks) are freed after it, never during it:
    what a world does cannot depend on when the collector happened to run, which varies with what the process
    ran before.
    """
    targets, notes, plan, single = None, [], None, None
    world_seed = seed
    if strategy == "sites" or firings is not None:
        if firings is None:
            world_seed = 0  # run k of the strategy: k is no seed
            # The recording has a wall budget of its own (a looping controller cannot hold it up for ever);
            # the run keeps its whole budget, so that working out its firings never makes it look stuck.
            plan = plan_for(scenario, mutant=mutant, max_steps=max_steps, prepare=prepare, wall_seconds=wall_seconds)
            firings, single = plan.target(seed)
        targets, notes = SiteTargets(firings, durations=dict(durations or {})), [describe(firings)]
    world, rig, scheduler = build(scenario, world_seed, strategy=strategy, tape=tape, mutant=mutant,
                                  max_steps=max_steps, wall_seconds=wall_seconds, sites=targets, script=script)
    if prepare is not None:
        prepare(world)
    until = scenario.phases.fault + scenario.phases.quiet
    world.run(until=until)
    if plan is not None and single is not None and targets is not None and world.no_progress is None:
        plan.learn(single, targets)  # a run its budget stopped did not see all it would have: not learned from
    evidence = evidence_of(world, rig, scenario)
    violations = check(evidence, scenario.invariant_names())
    if world.no_progress is None:
        violations += expectations(world, scenario)
    observed = None
    if scenario.symptom is not None:  # first: what a shrink of a reproduction keeps failing
        shown, observed = judge_symptom(world, evidence, scenario.symptom)
        violations = shown + violations
    result = RunResult(
        scenario=scenario.name, seed=seed, strategy=strategy, trace_hash=world.trace.hash(), violations=violations,
        faults_fired=dict(Counter(world.fired)), tape=list(world.choices.tape), steps=len(world.trace.steps),
        virtual_time=world.env.now, explained_redeliveries=explained_redeliveries(evidence),
        world_steps=world.budget.stopped_at or world.budget.steps,
        stopped=world.no_progress.budget if world.no_progress else None,
        notes=[scheduler.bound()] if scheduler is not None else notes,
        firings=encode(firings, durations) if firings is not None else None,
        fired=[row(firing, seconds) for firing, seconds in world.injector.log],
        traffic=[step.model_dump(mode="json") for step in world.traffic],
        script=script_of(world.choices.drawn), world_seed=world_seed, observed=observed,
    )
    return result, world, rig


def script_of(drawn: dict[str, int]) -> dict[str, int]:
    """The draws of a run that its fired faults (`Firing`s, with their delays' seconds) do not already say:
    the strategy's (pct priorities, swarm's faults, drawn client actions) and the world's (a crash's
    downtime, a clock's skew, how stale a stale view is), where not the simplest."""
    from harness._faults import FAULTS

    def label(name: str) -> str:
        return name.partition("@")[0].partition("#")[0].removesuffix(".seconds")

    return {name: index for name, index in drawn.items() if index and label(name) not in FAULTS}


#: Plans already recorded, by (scenario, mutant, budget); a recording is one run, and every run asks for it.
_PLANS: dict[tuple[str, str | None, int | None], SitePlan] = {}
_CACHED: Final = 64


def plan_for(scenario: Scenario, *, mutant: str | None = None, max_steps: int | None = None,
             prepare: Callable[[World], None] | None = None, wall_seconds: float | None = None) -> SitePlan:
    """Record the scenario's sites (under the mutant, with the test's scripted actions) and order them.

    A recording its wall budget (`wall_seconds`) cut is used but not kept. A single run again to learn its
    extensions has the scenario's own budgets; one its wall budget cut teaches nothing.
    """
    key = (scenario.model_dump_json(), mutant, max_steps)
    if prepare is None and key in _PLANS:
        return _PLANS[key]

    def record(firings: frozenset[Firing], wall: float | None) -> tuple[SiteTargets, bool]:
        """A run of `firings`, what it passed, and whether its wall budget cut it."""
        targets = SiteTargets(firings)
        world, _, _ = build(scenario, 0, strategy="sites", sites=targets, mutant=mutant, max_steps=max_steps,
                            wall_seconds=wall)
        if prepare is not None:
            prepare(world)
        world.run(until=scenario.phases.fault + scenario.phases.quiet)
        return targets, world.no_progress is not None and world.no_progress.budget == "wall"

    def rerun(k: int) -> SiteTargets | None:
        targets, cut = record(frozenset({singles[k]}), None)
        return None if cut else targets

    recording, cut = record(frozenset(), wall_seconds)
    seen = list(recording.seen)
    order = {firing: index for index, firing in enumerate(seen)}
    singles = tuple(sorted(seen, key=lambda f: (f.site.occurrence, order[f])))
    plan = SitePlan(singles, frozenset((f.site.who, f.site.place, f.fault) for f in seen), rerun=rerun)
    if prepare is None and not cut:
        if len(_PLANS) >= _CACHED:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = plan
    return plan


def recorded_plan(scenario: Scenario, *, mutant: str | None = None, max_steps: int | None = None) -> SitePlan | None:
    """The plan `plan_for` already recorded for these, if any: nothing runs."""
    return _PLANS.get((scenario.model_dump_json(), mutant, max_steps))

"""Hunting each mutant of the bug zoo: seeds and seconds until an invariant (or expectation) catches it."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from harness._campaign import processes, runs
from harness._progress import Progress
from harness._run import plan_for
from harness._scenario import bundled_dir, load_scenario
from harness._strategies import campaign_strategy
from harness.mutants import MUTANTS


@dataclass(frozen=True, slots=True, kw_only=True)
class Hunt:
    name: str
    caught: bool
    invariant: str
    seeds: int
    seconds: float
    seed: int | None = None
    #: The deadline stopped the hunt before it ran everything it was asked to.
    cut: bool = False
    #: The failing run's world, when the hunt was asked to keep it (one process only).
    world: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "caught": self.caught, "invariant": self.invariant, "seeds": self.seeds,
                "seconds": round(self.seconds, 3)}


#: The zoo's scenarios are bundled ones, whose seeds take under 2,000 steps: a mutant that makes the controller
#: loop is caught as `no-progress` after this many, instead of the default budget meant for any scenario.
ZOO_MAX_STEPS = 20_000


def hunt(name: str, seeds: int, *, strategy: str | None = None, first_seed: int = 0,
         deadline: float | None = None, systematic_limit: int | None = None, keep: bool = False) -> Hunt:
    """Run the mutant's scenario seed by seed until something catches it, or `seeds` run out (under `sites`,
    its systematic part runs out, or `systematic_limit` runs of it: `seeds` and `first_seed` do not apply).

    With a `deadline` (a `time.perf_counter()` instant), no seed starts after it and none runs past it;
    a hunt cut short this way is not caught, and says so in its `seeds` (fewer than asked). With `keep`, a
    caught hunt keeps its failing run's world (to look at it, or write it as kubectl would print it).
    """
    mutant = MUTANTS[name]
    scenario = load_scenario(bundled_dir() / f"{mutant.scenario}.yaml")
    chosen = strategy or campaign_strategy(scenario)
    started = time.perf_counter()
    tried = 0
    max_steps = min(ZOO_MAX_STEPS, scenario.world.max_steps)
    numbers: Iterable[int] = range(first_seed, first_seed + seeds)
    if chosen == "sites":  # systematic: its whole systematic part (every single, its extensions), not N seeds
        left = None if deadline is None else max(0.001, deadline - time.perf_counter())
        plan = plan_for(scenario, mutant=name, max_steps=max_steps, wall_seconds=left)
        numbers = itertools.takewhile(plan.systematic, itertools.count())
        if systematic_limit is not None:
            numbers = itertools.islice(numbers, systematic_limit)
    for outcome in runs(scenario, numbers, strategy=chosen, mutant=name, max_steps=max_steps, deadline=deadline,
                        keep=keep):
        if outcome.cut:
            return Hunt(name=name, caught=False, invariant="", seeds=tried, seconds=time.perf_counter() - started,
                        cut=True)  # the deadline, not the scenario's own budget, stopped it: no verdict
        tried += 1
        if outcome.result.violations:
            names = [v.invariant for v in outcome.result.violations]
            invariant = next((n for n in mutant.catchers if n in names), names[0])
            return Hunt(name=name, caught=True, invariant=invariant, seeds=tried,
                        seconds=time.perf_counter() - started, seed=outcome.seed, world=outcome.result.world)
    if deadline is not None and time.perf_counter() >= deadline:
        return Hunt(name=name, caught=False, invariant="", seeds=tried, seconds=time.perf_counter() - started,
                    cut=True)
    return Hunt(name=name, caught=False, invariant="", seeds=tried, seconds=time.perf_counter() - started)


def hunt_shown(name: str, seeds: int, *, kind: str | None = None) -> tuple[Hunt, Any]:
    """The mutant's first failing seed, of its first `seeds`, whose end as kubectl prints it shows a symptom (of
    `kind`; by default any that is a bug): what a user comes with. The hunt keeps that seed's world; the
    symptom is None if no failing seed shows one (the hunt then is the last that caught the mutant, if one did)."""
    from harness._bridge import EPOCH
    from harness._dump import render_world
    from harness._observed import BENIGN, observe, symptoms

    first = 0
    found = Hunt(name=name, caught=False, invariant="", seeds=0, seconds=0.0)
    while first < seeds:
        later = hunt(name, seeds - first, first_seed=first, keep=True)
        if not later.caught or later.world is None or later.seed is None or later.seed < first:
            # a `sites` hunt runs its systematic order from its start: it has no later failure to give
            return (found if found.caught else later), None
        found, first = later, later.seed + 1
        at = EPOCH + later.world.env.now
        shown = [s for s in symptoms(observe(render_world(later.world)["items"], at=at))
                 if (s.kind == kind if kind is not None else s.kind not in BENIGN)]
        if shown:
            return found, shown[0]
    return found, None


def hunt_all(seeds: int, *, bar: Progress | None = None, jobs: int = 1) -> list[Hunt]:
    """Every mutant's hunt, in the zoo's order; with `jobs` > 1, that many hunts at once, each on a process of
    its own (a hunt's seeds and verdict do not depend on where it runs)."""
    out = []
    if bar is not None:
        bar.task("zoo", len(MUTANTS), "zoo")
    with processes(jobs) if jobs > 1 else nullcontext() as pool:
        found = pool.map(hunt, MUTANTS, itertools.repeat(seeds)) if pool is not None else (
            hunt(name, seeds) for name in MUTANTS)
        for name, one in zip(MUTANTS, found, strict=True):
            out.append(one)
            if bar is not None:
                bar.advance("zoo", description=f"zoo: {name}")
    return out

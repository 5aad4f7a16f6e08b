"""Hunting each mutant of the bug zoo: seeds and seconds until an invariant (or expectation) catches it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from harness._run import run
from harness._scenario import bundled_dir, load_scenario
from harness.mutants import MUTANTS


@dataclass(frozen=True, slots=True, kw_only=True)
class Hunt:
    name: str
    caught: bool
    invariant: str
    seeds: int
    seconds: float
    seed: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "caught": self.caught, "invariant": self.invariant, "seeds": self.seeds,
                "seconds": round(self.seconds, 3)}


def hunt(name: str, seeds: int, *, strategy: str | None = None, first_seed: int = 0) -> Hunt:
    """Run the mutant's scenario seed by seed until something catches it, or `seeds` run out."""
    mutant = MUTANTS[name]
    scenario = load_scenario(bundled_dir() / f"{mutant.scenario}.yaml")
    chosen = strategy or ("random" if scenario.campaign.strategy == "hypothesis" else scenario.campaign.strategy)
    started = time.perf_counter()
    for tried, seed in enumerate(range(first_seed, first_seed + seeds), start=1):
        result = run(scenario, seed, strategy=chosen, mutant=name)
        if result.violations:
            names = [v.invariant for v in result.violations]
            invariant = next((n for n in mutant.catchers if n in names), names[0])
            return Hunt(name=name, caught=True, invariant=invariant, seeds=tried,
                        seconds=time.perf_counter() - started, seed=seed)
    return Hunt(name=name, caught=False, invariant="", seeds=seeds, seconds=time.perf_counter() - started)


def hunt_all(seeds: int) -> list[Hunt]:
    return [hunt(name, seeds) for name in MUTANTS]

"""The one campaign runner: a scenario's seeds, one after another, within a deadline.

`run`, `check`, `zoo` and the benchmarks all run their seeds through `runs`, so that what a campaign means
(budgets, the deadline, artifacts, a run cut short) is decided in one place, and so that parallel or
distributed execution has one place to go.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness._replay import Artifact, run_recorded
from harness._run import RunResult, run
from harness._scenario import Scenario


@dataclass(frozen=True, slots=True)
class Outcome:
    """One seed of a campaign: its result, its artifact (kept for a failure), and whether the campaign's
    deadline cut it short (then it is no verdict on the controller, and the campaign ends with it)."""

    seed: int
    result: RunResult
    artifact: Artifact | None = None
    cut: bool = False


def runs(scenario: Scenario, seeds: Iterable[int], *, strategy: str, mutant: str | None = None,
         failures: Path | None = None, max_steps: int | None = None, wall_seconds: float | None = None,
         deadline: float | None = None, keep: bool = False) -> Iterator[Outcome]:
    """Run `seeds` of `scenario` in order, yielding each outcome.

    Args:
        failures: where failing runs leave their artifacts (written before each run starts); None: no artifacts.
        max_steps, wall_seconds: each world's budgets (default: the scenario's).
        deadline: a `time.perf_counter()` instant: no run starts after it, and none runs past it (a run the
            deadline stops is yielded with `cut` set, and is the last).
        keep: keep each world in its result (to inspect it), at the cost of its memory.
    """
    own_wall = scenario.world.wall_seconds if wall_seconds is None else wall_seconds
    for seed in seeds:
        wall = wall_seconds
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            wall = min(left, own_wall)
        if failures is not None:
            result, artifact = run_recorded(scenario, seed, failures, strategy=strategy, mutant=mutant,
                                            max_steps=max_steps, wall_seconds=wall, keep_world=keep)
        else:
            result, artifact = run(scenario, seed, strategy=strategy, mutant=mutant, max_steps=max_steps,
                                   wall_seconds=wall, keep=keep), None
        if result.stopped == "wall" and wall is not None and wall < own_wall:
            if artifact is not None:
                artifact.path.unlink(missing_ok=True)
            yield Outcome(seed, result, None, cut=True)
            return
        yield Outcome(seed, result, artifact)

"""Exploration beyond one seed: the determinism self-check, and a Hypothesis-driven search over tapes.

The self-check runs a seed twice and compares the traces; a difference is a `DeterminismError` naming the first
divergent step (the code reads something outside the ports: the wall clock, the global random, set order), an
error of its own kind, never a test failure. The Hypothesis search draws whole tapes and lets Hypothesis shrink
a failing tape toward the simplest one (shortlex: fewer and smaller choices).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness._errors import DeterminismError
from harness._run import RunResult, run
from harness._scenario import Scenario
from harness._trace import first_divergence


def self_check(scenario: Scenario, seed: int, *, strategy: str = "random", mutant: str | None = None,
               max_steps: int | None = None) -> RunResult:
    """Run `seed` twice; return the first result, or raise DeterminismError at the first divergent step.

    Both runs have no wall budget but the step budget (the scenario's, or `max_steps`): a wall budget could stop
    the two at different steps, which is not a difference of the code.
    """
    first = run(scenario, seed, strategy=strategy, mutant=mutant, keep=True, max_steps=max_steps,
                wall_seconds=float("inf"))
    second = run(scenario, seed, strategy=strategy, mutant=mutant, keep=True, max_steps=max_steps,
                 wall_seconds=float("inf"))
    if first.trace_hash != second.trace_hash:
        assert first.world is not None and second.world is not None
        a, b = first.world.trace.lines(), second.world.trace.lines()
        step = first_divergence(a, b)
        assert step is not None
        raise DeterminismError(scenario.name, seed, step, a[step] if step < len(a) else "(end)",
                               b[step] if step < len(b) else "(end)")
    first.world = first.rig = None
    return first


@dataclass(frozen=True, slots=True)
class Found:
    """A failing tape Hypothesis found and shrank, and the run it gives."""

    tape: list[int]
    result: RunResult


def hypothesis_search(scenario: Scenario, *, examples: int = 50, mutant: str | None = None,
                      max_choices: int = 400) -> Found | None:
    """Search tapes with Hypothesis for a violation; the tape it returns is shrunk. None if none was found."""
    from hypothesis import HealthCheck, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    simplest = run(scenario, 0, tape=[], mutant=mutant)
    if simplest.violations:
        return Found(tape=[], result=simplest)  # nothing is simpler than no choice at all
    tapes = st.lists(st.integers(min_value=0, max_value=1_000_000), max_size=max_choices)
    config = settings(max_examples=examples, database=None, derandomize=True, deadline=None,
                      suppress_health_check=list(HealthCheck))
    try:
        tape = find(tapes, lambda t: bool(run(scenario, 0, tape=list(t), mutant=mutant).violations),
                    settings=config)
    except NoSuchExample:
        return None
    return Found(tape=list(tape), result=run(scenario, 0, tape=list(tape), mutant=mutant))

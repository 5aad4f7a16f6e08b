"""The harness's exceptions, under one root.

    HarnessError                  anything the harness itself raises (not a verdict on the controller)
    +-- SimulationError           the simulation went wrong: a task failed unobserved, a world would not stop
    +-- DeterminismError          the same scenario, seed and code gave two different traces

A broken invariant is not an exception: it is a `Violation` in a run's result. Bad input (a scenario file, an
artifact, an argument) is `notifier.ConfigFileError`, which names the file, the line and the field.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Raised by the harness itself; never a verdict on the controller under test."""


class SimulationError(HarnessError):
    """The simulation itself went wrong (a task failed unobserved, a world would not stop)."""


class DeterminismError(HarnessError):
    """The same scenario, seed and code gave two different traces."""

    def __init__(self, scenario: str, seed: int, step: int, first: str, second: str) -> None:
        super().__init__(f"{scenario} seed {seed} is not deterministic: the traces part at step {step}:\n"
                         f"  first run:  {first}\n  second run: {second}")
        self.scenario = scenario
        self.seed = seed
        self.step = step

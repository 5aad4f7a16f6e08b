"""What the sections share: loading the bench scenarios, timing, and quieting the controller's logs."""

from __future__ import annotations

import logging
import resource
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import RunResult, Scenario, load_scenario, run_recorded

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def scenario(name: str) -> Scenario:
    return load_scenario(HERE / "scenarios" / f"{name}.yaml")


#: Violations that runs of the correct controller showed during this bench: each one is a finding to chase,
#: never noise. `python -m bench` prints them with their artifacts and exits 1 after writing its figures.
FINDINGS: list[dict[str, object]] = []
FAILURES_DIR = ROOT / "reports" / "failures"


def judge(spec: Scenario, result: RunResult) -> None:
    """Record a violating run as a finding, with a replayable artifact.

    The measured loop runs without artifacts (writing one per seed would be measured too); a run is a pure
    function of its scenario, seed and strategy, so running it again recorded gives the same failure.
    """
    if not result.violations:
        return
    again, artifact = run_recorded(spec, result.seed, FAILURES_DIR, strategy=result.strategy)
    v = (again.violations or result.violations)[0]
    FINDINGS.append({"scenario": spec.name, "seed": result.seed, "strategy": result.strategy,
                     "invariant": v.invariant, "message": f"{v.notification} {v.channel} {v.message}".strip(),
                     "artifact": str(artifact.path) if artifact is not None else None})


def quiet() -> None:
    """The controller logs every retry; a benchmark prints only its figures."""
    logging.getLogger("notifier").setLevel(logging.CRITICAL)


@dataclass(slots=True)
class Stopwatch:
    seconds: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    started = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - started


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")

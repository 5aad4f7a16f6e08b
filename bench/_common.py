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

from harness._scenario import Scenario, load_scenario

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def scenario(name: str) -> Scenario:
    return load_scenario(HERE / "scenarios" / f"{name}.yaml")


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

"""Section 8: one campaign spread over processes and over Dask. The bench's 3-replica all-faults scenario,
the same seeds on one process, on two (`-j 2`) and on a Dask `LocalCluster` of two workers: the same trace
hashes, and how close each comes to P times one process (goal: at least 0.9 x P)."""

from __future__ import annotations

import time
from typing import Any

from bench._common import judge, scenario
from harness import runs

SEEDS, QUICK_SEEDS = 60, 6
WORKERS = 2


def _timed(spec: Any, seeds: int, **how: Any) -> tuple[float, list[str], list[Any]]:
    started = time.perf_counter()
    results = [outcome.result for outcome in runs(spec, range(seeds), strategy=spec.campaign.strategy, **how)]
    return time.perf_counter() - started, [r.trace_hash for r in results], results


def section(quick: bool = False) -> dict[str, Any]:
    spec = scenario("three-replicas-all-faults")
    seeds = QUICK_SEEDS if quick else SEEDS
    one, hashes, results = _timed(spec, seeds)
    for result in results:
        judge(spec, result)  # a violation of the correct controller is a finding, whatever measured it
    two, two_hashes, _ = _timed(spec, seeds, jobs=WORKERS)
    dask, dask_hashes, _ = _timed(spec, seeds, jobs=WORKERS, engine="dask")
    return {"scenario": spec.name, "seeds": seeds, "workers": WORKERS,
            "one_process_seconds": round(one, 2), "processes_seconds": round(two, 2),
            "dask_seconds": round(dask, 2),
            "processes_speedup": round(one / two, 2), "dask_speedup": round(one / dask, 2),
            "same_hashes": hashes == two_hashes == dask_hashes,
            "goal": f"at least {0.9 * WORKERS:g}x on {WORKERS} workers, the same hashes"}

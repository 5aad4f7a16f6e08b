"""Section 7: how small the shrinker makes a failure. For each mutant of the bug zoo, the first failure the
`random` strategy finds on the 3-replica all-faults scenario, shrunk: notifications, replicas and firings
before and after, the emitted test's length, the seconds it took. The goals (issue 16): at most 3
notifications for every mutant; the lock bug's failure at most 2 replicas, 2 notifications, 3 firings, a test
under 60 lines, under 60 s."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from harness import bundled, load_scenario, run, run_recorded, shrink
from harness.mutants import MUTANTS

SCENARIO = "all-faults-three-replicas"
LOCK_BUG = "lease-observed-before-read"
#: A looping controller's failure spends a world's whole step budget on each candidate: not shrunk here.
LOOPING = frozenset({"touch-every-reconcile", "requeue-every-millisecond"})


def section(quick: bool = False, *, most_seeds: int = 300) -> dict[str, Any]:
    scenario = load_scenario(next(path for path in bundled() if path.stem == SCENARIO))
    names = [LOCK_BUG, "no-lease"] if quick else [name for name in MUTANTS if name not in LOOPING]
    seeds = 40 if quick else most_seeds
    rows: list[dict[str, Any]] = []
    for name in names:
        seed = next((s for s in range(seeds) if not run(scenario, s, mutant=name).ok), None)
        if seed is None:
            rows.append({"mutant": name, "found": False})
            continue
        with tempfile.TemporaryDirectory() as temp:
            _, artifact = run_recorded(scenario, seed, Path(temp), mutant=name)
            assert artifact is not None
            began = time.perf_counter()
            done = shrink(artifact, Path(temp) / "regressions")
            seconds = time.perf_counter() - began
            lines = len(done.test_path.read_text().splitlines())
        rows.append({"mutant": name, "found": True, "seed": seed, "invariant": done.invariant,
                     "before": {k: done.before[k] for k in ("notifications", "replicas", "faults fired")},
                     "after": {k: done.after[k] for k in ("notifications", "replicas", "faults fired", "choices")},
                     "test_lines": lines, "seconds": round(seconds, 1)})
    shrunk = [r for r in rows if r["found"]]
    lock = next((r for r in shrunk if r["mutant"] == LOCK_BUG), None)
    return {"scenario": SCENARIO, "most_seeds": seeds, "mutants": rows,
            "at_most_3_notifications": sum(1 for r in shrunk if r["after"]["notifications"] <= 3),
            "shrunk": len(shrunk),
            "lock_bug_goal": lock is not None and lock["after"]["notifications"] <= 2
            and lock["after"]["replicas"] <= 2 and lock["after"]["faults fired"] <= 3 and lock["test_lines"] < 60
            and lock["seconds"] < 60}

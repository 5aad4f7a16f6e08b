"""Section 6: how cost grows. The whole test suite under one and two xdist workers, and campaigns of 100,
1,000 and 10,000 seeds, each in a fresh process: time must grow linearly and peak memory stay flat."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import Any

from bench._common import FINDINGS, HERE, ROOT

SIZES = (100, 1_000, 10_000)
QUICK_SIZES = (10, 30)
CAMPAIGN_SCENARIO = HERE / "scenarios" / "single.yaml"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def catalogue(workers: int, target: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "pytest", target, "-n", str(workers), "-q", "-p", "no:cacheprovider"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    passed = re.search(r"(\d+) passed", done.stdout)
    return {"workers": workers, "wall_seconds": round(wall, 2), "exit": done.returncode,
            "passed": int(passed.group(1)) if passed else 0}


def campaign(seeds: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.campaign", str(CAMPAIGN_SCENARIO), "--seeds", str(seeds)]
    done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    result = json.loads(done.stdout)
    FINDINGS.extend(result["findings"])  # exit 1: runs of the correct controller broke an invariant
    keep = ("seeds", "wall_seconds", "ms_per_seed", "peak_rss_mib", "peak_rss_mib_at_seed", "violating_seeds")
    return {key: result[key] for key in keep}


def section(quick: bool = False) -> dict[str, Any]:
    target = "tests/sim/catalogue/test_a_phase_state_machine.py" if quick else "tests"
    one, two = catalogue(1, target), catalogue(2, target)
    speedup = one["wall_seconds"] / two["wall_seconds"]
    campaigns = [campaign(seeds) for seeds in (QUICK_SIZES if quick else SIZES)]
    first, last = campaigns[0], campaigns[-1]
    return {
        "catalogue": {"target": target, "runs": [one, two], "speedup_1_to_2": round(speedup, 2),
                      "efficiency": round(speedup / 2, 2), "goal": "at least 1.8x from 1 to 2 xdist workers"},
        "campaigns": {"scenario": CAMPAIGN_SCENARIO.stem, "runs": campaigns,
                      "cost_per_seed_growth": round(last["ms_per_seed"] / first["ms_per_seed"], 2),
                      "peak_memory_growth": round(last["peak_rss_mib"] / first["peak_rss_mib"], 2),
                      "goal": "time linear in seeds (cost per seed growth near 1); memory flat (growth near 1)"},
    }

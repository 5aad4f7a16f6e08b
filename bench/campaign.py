"""A long campaign over one scenario: seeds, wall time, peak memory, violations, and the faults that fired.

    python -m bench.campaign scenarios/all-faults-three-replicas.yaml --seeds 2000 --strategy swarm

Not a test: it measures. Prints one JSON object. Each campaign should run in a fresh process, so that its
peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench._common import FINDINGS, judge, peak_rss_mib, quiet
from harness import load_scenario, runs
from notifier import ConfigFileError


def campaign(path: Path, seeds: int, strategy: str | None = None) -> dict[str, Any]:
    quiet()
    scenario = load_scenario(path)
    chosen = strategy or scenario.campaign.strategy
    fired: Counter[str] = Counter()
    bad: list[dict[str, object]] = []
    explained = 0
    memory_at: dict[int, float] = {}
    started = time.perf_counter()
    for outcome in runs(scenario, range(seeds), strategy=chosen):
        seed, result = outcome.seed, outcome.result
        fired.update(dict.fromkeys(result.faults_fired, 1))
        explained += result.explained_redeliveries
        if result.violations:
            bad.append({"seed": seed, "violations": [v.as_json() for v in result.violations[:3]]})
            judge(scenario, result)
        if seed + 1 in (seeds // 10, seeds):
            memory_at[seed + 1] = peak_rss_mib()
    wall = time.perf_counter() - started
    return {
        "scenario": scenario.name, "strategy": chosen, "seeds": seeds, "wall_seconds": round(wall, 2),
        "seeds_per_second": round(seeds / wall, 2), "ms_per_seed": round(1000 * wall / seeds, 3),
        "peak_rss_mib": peak_rss_mib(), "peak_rss_mib_at_seed": memory_at,
        "violating_seeds": len(bad), "first_violations": bad[:5], "findings": list(FINDINGS),
        "explained_redeliveries": explained,
        "never_fired": sorted(set(scenario.faults) - set(fired)), "runs_with_fault": dict(sorted(fired.items())),
    }


def main(argv: list[str] | None = None) -> int:
    """Prints the campaign's JSON; exit 1 if any seed broke an invariant (each has an artifact), 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m bench.campaign", description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--strategy", choices=("random", "pct", "swarm"), default=None,
                        help="default: the scenario's")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds takes a number of 1 or more, not {args.seeds}")
    try:
        report = campaign(args.scenario, args.seeds, args.strategy)
    except ConfigFileError as error:
        print(f"python -m bench.campaign: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1))
    for finding in report["findings"]:
        print(f"VIOLATION seed {finding['seed']}: {finding['invariant']}: {finding['message']}; "
              f"replay: notifier-sim replay {finding['artifact']}", file=sys.stderr)
    return 1 if report["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())

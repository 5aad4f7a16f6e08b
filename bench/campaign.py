"""A long campaign over one scenario: seeds, wall time, violations, and the faults that fired.

    python bench/campaign.py scenarios/all-faults-three-replicas.yaml --seeds 2000 --strategy swarm

Not a test: it measures. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter
from pathlib import Path

from harness._run import run
from harness._scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--strategy", default="swarm")
    args = parser.parse_args()
    logging.getLogger("notifier").setLevel(logging.CRITICAL)
    scenario = load_scenario(args.scenario)
    fired: Counter[str] = Counter()
    bad: list[dict[str, object]] = []
    explained = 0
    started = time.perf_counter()
    for seed in range(args.seeds):
        result = run(scenario, seed, strategy=args.strategy)
        fired.update(dict.fromkeys(result.faults_fired, 1))
        explained += result.explained_redeliveries
        if result.violations:
            bad.append({"seed": seed, "violations": [v.as_json() for v in result.violations[:3]]})
    wall = time.perf_counter() - started
    print(json.dumps({
        "scenario": scenario.name, "strategy": args.strategy, "seeds": args.seeds, "wall_seconds": round(wall, 1),
        "seeds_per_second": round(args.seeds / wall, 2), "violating_seeds": len(bad), "first_violations": bad[:5],
        "explained_redeliveries": explained, "never_fired": sorted(set(scenario.faults) - set(fired)),
        "runs_with_fault": dict(sorted(fired.items())),
    }, indent=1))


if __name__ == "__main__":
    main()

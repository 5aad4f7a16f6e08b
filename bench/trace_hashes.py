"""The trace hash of every bundled scenario, seeds 0..19, under every strategy (`sites`: its first 20 runs, or
its only one for a scenario without an injection site): a refactor that claims
no behaviour change keeps every one of them (`tests/sim/test_trace_hashes.py` compares; a change that means to
alter behaviour writes the list again and says why in its note).

    python -m bench.trace_hashes            # compare with the committed list; exit 1 on any difference
    python -m bench.trace_hashes --write    # write the list anew
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench._common import ROOT, quiet
from harness import STRATEGIES, bundled, load_scenario, run, site_plan

LIST = ROOT / "tests" / "sim" / "trace_hashes.json"
SEEDS = range(20)


def hashes(scenario_path: Path) -> dict[str, str]:
    """`<strategy>/<seed>` -> trace hash, for one scenario."""
    quiet()
    scenario = load_scenario(scenario_path)
    systematic = range(site_plan(scenario).runs(20))
    return {f"{strategy}/{seed}": run(scenario, seed, strategy=strategy).trace_hash
            for strategy in STRATEGIES for seed in (systematic if strategy == "sites" else SEEDS)}


def recorded() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(LIST.read_text())
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trace_hashes", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the list anew instead of comparing")
    args = parser.parse_args(argv)
    now = {path.stem: hashes(path) for path in bundled()}
    if args.write:
        LIST.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"wrote {sum(len(v) for v in now.values())} trace hashes to {LIST}")
        return 0
    before = recorded()
    differ = [f"{name} {key}" for name in sorted(set(now) | set(before))
              for key in sorted(set(now.get(name, {})) | set(before.get(name, {})))
              if now.get(name, {}).get(key) != before.get(name, {}).get(key)]
    for line in differ[:20]:
        print(f"different: {line}")
    print(f"{len(differ)} of {sum(len(v) for v in now.values())} trace hashes differ from {LIST}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

"""One performance step against the commit before it, in one run: the CPU time per seed of a bench scenario
on the working tree and on an earlier commit, measured in turns (so that a busy moment of the machine hurts
both alike), and whether the two give every seed the same trace hash.

    python -m bench.ab                      # the working tree against HEAD
    python -m bench.ab HEAD~3 --seeds 20 --rounds 5

Each side runs in a process of its own, from its own source tree (the earlier one is taken with
`git archive`), so nothing one imported reaches the other. Exit 1 when a trace hash differs: a step that
claims to change no behaviour must keep every one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from bench._common import HERE, ROOT

#: What one side runs: CPU time of its own process for the seeds, and their trace hashes.
_SIDE = """
import json, sys, time
from bench._common import quiet, scenario
from harness import run
quiet()
spec = scenario(sys.argv[1])
seeds = range(int(sys.argv[2]))
run(spec, 0, strategy=sys.argv[3])  # imports and first-use caches are not the step's
started = time.process_time()
hashes = [run(spec, seed, strategy=sys.argv[3]).trace_hash for seed in seeds]
print(json.dumps({"seconds": (time.process_time() - started) / len(seeds), "hashes": hashes}))
"""


def _tree_of(revision: str, into: Path) -> Path:
    """The source tree of `revision` under `into` (its own bench scenarios with it)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision],
                             check=True, capture_output=True).stdout
    into.mkdir(parents=True)
    (into / "tree.tar").write_bytes(archive)
    with tarfile.open(into / "tree.tar") as tar:
        tar.extractall(into, filter="data")
    return into


def _side(tree: Path, scenario: str, seeds: int, strategy: str) -> tuple[float, list[str]]:
    """CPU seconds per seed, and the seeds' trace hashes, of one side."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(tree)])}
    out = subprocess.run([sys.executable, "-c", _SIDE, scenario, str(seeds), strategy], cwd=str(tree), env=env,
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return float(result["seconds"]), [str(h) for h in result["hashes"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", default="HEAD", help="the earlier commit (default: HEAD)")
    parser.add_argument("--scenario", default="three-replicas-all-faults",
                        help="a scenario of bench/scenarios (default: three-replicas-all-faults)")
    parser.add_argument("--seeds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--strategy", default="swarm")
    args = parser.parse_args(argv)
    if not (HERE / "scenarios" / f"{args.scenario}.yaml").is_file():
        print(f"python -m bench.ab: no bench scenario {args.scenario!r} in {HERE / 'scenarios'}", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
            before_tree = _tree_of(args.revision, Path(tmp) / "before")
            before: list[float] = []
            after: list[float] = []
            differ = 0
            for round_ in range(1, args.rounds + 1):
                was, was_hashes = _side(before_tree, args.scenario, args.seeds, args.strategy)
                now, now_hashes = _side(ROOT, args.scenario, args.seeds, args.strategy)
                before.append(was)
                after.append(now)
                differ = max(differ, sum(a != b for a, b in zip(was_hashes, now_hashes, strict=True)))
                print(f"round {round_}: {args.revision} {before[-1] * 1000:.1f} ms/seed, working tree "
                      f"{after[-1] * 1000:.1f} ms/seed", flush=True)
    except subprocess.CalledProcessError as error:
        print(f"python -m bench.ab: {' '.join(map(str, error.cmd[:3]))} failed:\n{error.stderr}", file=sys.stderr)
        return 2
    ratio = statistics.median(before) / statistics.median(after)
    print(f"{args.scenario}, {args.seeds} seeds x {args.rounds} rounds, {args.strategy}: CPU per seed "
          f"{statistics.median(before) * 1000:.1f} ms ({args.revision}) -> {statistics.median(after) * 1000:.1f} ms "
          f"(working tree) = {ratio:.3f}x; trace hashes: {differ} of {args.seeds} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

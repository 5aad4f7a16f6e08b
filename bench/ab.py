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


class _Failed(Exception):
    """A side, or git, did not give what was asked: the message says which and why."""


def _tree_of(revision: str, into: Path) -> Path:
    """The source tree of `revision` under `into` (its own bench scenarios with it)."""
    done = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision],
                          check=False, capture_output=True)
    if done.returncode:
        raise _Failed(f"git archive {revision}: {done.stderr.decode(errors='replace').strip()}")
    into.mkdir(parents=True)
    (into / "tree.tar").write_bytes(done.stdout)
    with tarfile.open(into / "tree.tar") as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            tar.extractall(into, filter="data")
        else:
            tar.extractall(into)  # our own repository's archive
    return into


def _side(tree: Path, name: str, scenario: str, seeds: int, strategy: str) -> tuple[float, list[str]]:
    """CPU seconds per seed, and the seeds' trace hashes, of one side (`name`, for an error)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(tree)])}
    done = subprocess.run([sys.executable, "-c", _SIDE, scenario, str(seeds), strategy], cwd=str(tree), env=env,
                          check=False, capture_output=True, text=True)
    try:
        if done.returncode:
            raise ValueError(f"exit {done.returncode}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return float(result["seconds"]), [str(h) for h in result["hashes"]]
    except (ValueError, IndexError, KeyError, TypeError) as error:
        last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        raise _Failed(f"the {name} side gave no result ({error}): {last}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", default="HEAD", help="the earlier commit (default: HEAD)")
    parser.add_argument("--scenario", default="three-replicas-all-faults",
                        help="a scenario of bench/scenarios (default: three-replicas-all-faults)")
    parser.add_argument("--seeds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--strategy", default="swarm")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.rounds < 1:
        parser.error("--seeds and --rounds take a number of 1 or more")
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
                was, was_hashes = _side(before_tree, args.revision, args.scenario, args.seeds, args.strategy)
                now, now_hashes = _side(ROOT, "working tree", args.scenario, args.seeds, args.strategy)
                before.append(was)
                after.append(now)
                differ = max(differ, sum(a != b for a, b in zip(was_hashes, now_hashes, strict=True)))
                print(f"round {round_}: {args.revision} {before[-1] * 1000:.1f} ms/seed, working tree "
                      f"{after[-1] * 1000:.1f} ms/seed", flush=True)
    except _Failed as error:
        print(f"python -m bench.ab: {error}", file=sys.stderr)
        return 2
    ratio = statistics.median(before) / statistics.median(after)
    print(f"{args.scenario}, {args.seeds} seeds x {args.rounds} rounds, {args.strategy}: CPU per seed "
          f"{statistics.median(before) * 1000:.1f} ms ({args.revision}) -> {statistics.median(after) * 1000:.1f} ms "
          f"(working tree) = {ratio:.3f}x; trace hashes: {differ} of {args.seeds} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

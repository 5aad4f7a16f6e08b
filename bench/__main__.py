"""`python -m bench`: run the benchmark sections, write reports/bench.json, print a table."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    _cost,
    _detection,
    _fidelity,
    _overhead,
    _parallel,
    _realtime,
    _reproduce,
    _scaling,
    _shrinking,
    _throughput,
)
from bench._common import FINDINGS, ROOT, quiet
from bench._table import table
from harness import Progress, progress

SECTIONS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "throughput": _throughput.section,
    "overhead": _overhead.section,
    "realtime": _realtime.section,
    "detection": _detection.section,
    "scaling": _scaling.section,
    "shrink": _shrinking.section,
    "fidelity": _fidelity.section,
    "parallel": _parallel.section,
    "cost": _cost.section,
    "reproduce": _reproduce.section,
}


def _machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"python": platform.python_version(), "cores": os.cpu_count(), "platform": platform.platform(),
            "commit": commit or "unknown"}


def _section(name: str, args: argparse.Namespace, report: dict[str, Any], started: float, bar: Progress) -> None:
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    bar.advance("bench", 0, f"bench: {name}")
    began = time.perf_counter()
    report["sections"][name] = {**SECTIONS[name](args.quick), "seconds": round(time.perf_counter() - began, 1)}
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    report["violations"] = list(FINDINGS)
    # Written after every section: an interrupted bench keeps what it measured.
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"bench: {name} done in {report['sections'][name]['seconds']} s", file=sys.stderr, flush=True)
    bar.advance("bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections (default: all): {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the bench runs, measures nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench.json")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        print(f"python -m bench: unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}",
              file=sys.stderr)
        return 2
    quiet()
    report: dict[str, Any] = {"machine": _machine(), "quick": args.quick, "sections": {}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with progress() as bar:
        bar.task("bench", len(chosen), "bench")
        for name in chosen:
            _section(name, args, report, started, bar)
    print(table(report))
    print(f"\nwrote {args.out} in {report['wall_seconds']} s")
    if FINDINGS:
        # A violation in a benchmark is a finding in the controller or the harness, never noise.
        print(f"\n{len(FINDINGS)} run(s) of the correct controller broke an invariant:")
        for finding in FINDINGS:
            print(f"  {finding['scenario']} seed {finding['seed']} ({finding['strategy']}): {finding['invariant']}: "
                  f"{finding['message']}\n    replay: notifier-sim replay {finding['artifact']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

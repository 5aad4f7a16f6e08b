"""`notifier-sim`: the simulator's command line, thin over the harness API.

Exit codes: 0 when every invariant holds, 1 on a violation, 2 on bad input (a message, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier-sim",
        description="Run the notifier controller, unchanged, in a deterministic simulated cluster.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    listing = commands.add_parser("list", help="List the faults the simulator can inject")
    listing.add_argument("--json", action="store_true", help="Print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        from harness._faults import FAULTS as API_FAULTS

        if args.json:
            print(json.dumps({"faults": list(API_FAULTS)}))
        else:
            width = max(len(name) for name in API_FAULTS)
            for name, what in API_FAULTS.items():
                print(f"{name:<{width}}  {what}")
        return 0
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

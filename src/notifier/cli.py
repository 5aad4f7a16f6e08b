"""`notifier`: the controller's command line: `crd` prints the CRD manifest, `run` runs the controller."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from notifier._crd import crd_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier",
        description="A Kubernetes controller that delivers NotificationRequests (kubernaut.ai/v1alpha1).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("crd", help="Print the NotificationRequest CustomResourceDefinition as YAML")
    from notifier._adapters.run import add_arguments

    add_arguments(commands.add_parser("run", help="Run the controller against a cluster"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "crd":
        sys.stdout.write(crd_text())
        return 0
    if args.command == "run":
        from notifier._adapters.run import run

        return run(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

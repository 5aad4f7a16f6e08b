"""`notifier`: the controller's command line: `crd` prints the CRD manifest, `manifests` everything that
deploys the controller, `run` runs it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from notifier._crd import crd_text
from notifier._manifests import manifests_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier",
        description="A Kubernetes controller that delivers NotificationRequests (kubernaut.ai/v1alpha1).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("crd", help="Print the NotificationRequest CustomResourceDefinition as YAML")
    deploy = commands.add_parser("manifests", help="Print the CRD, RBAC and a Deployment of the controller as YAML")
    deploy.add_argument("--namespace", default="notifier", help="Namespace to run in and watch (default: notifier)")
    deploy.add_argument("--replicas", type=int, default=2, help="Replicas of the controller (default: 2)")
    deploy.add_argument("--image", default="notifier:latest",
                        help="Container image with the notifier package installed (default: notifier:latest)")
    from notifier._adapters.run import add_arguments

    add_arguments(commands.add_parser("run", help="Run the controller against a cluster"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "crd":
        sys.stdout.write(crd_text())
        return 0
    if args.command == "manifests":
        if args.replicas < 1:
            print(f"notifier manifests: --replicas must be at least 1, not {args.replicas}", file=sys.stderr)
            return 2
        sys.stdout.write(manifests_text(namespace=args.namespace, replicas=args.replicas, image=args.image))
        return 0
    if args.command == "run":
        from notifier._adapters.run import run

        return run(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

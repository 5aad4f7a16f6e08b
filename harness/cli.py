"""`notifier-sim`: the simulator's command line, thin over the harness API.

Exit codes: 0 when every invariant holds, 1 on a violation, 2 on bad input (one message naming the file, the
line and the field; never a traceback), 3 when the determinism self-check fails (the code under test read
something outside its ports).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from harness import _junit as junit
from harness._progress import Progress, progress
from notifier import ConfigFileError, parse_time

DEFAULT_SEEDS = 20


def _shard(text: str) -> tuple[int, int]:
    """An argparse type: K/N, the K-th (1..N) of N shares."""
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit()) or not 1 <= int(k) <= int(n):
        raise argparse.ArgumentTypeError(f"--shard takes K/N with 1 <= K <= N, such as 2/3, not {text!r}")
    return int(k), int(n)


def _positive(option: str, *, zero: bool = False) -> Any:
    """An argparse type: a whole number of 1 or more (0 or more with `zero`), named in the error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} takes a whole number, not {text!r}") from None
        if value < (0 if zero else 1):
            raise argparse.ArgumentTypeError(f"{option} takes a number of {0 if zero else 1} or more, not {value}")
        return value
    return parse


def _instant(text: str) -> float:
    """An argparse type: an RFC 3339 time, as seconds since the epoch."""
    try:
        return parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--at takes an RFC 3339 time such as 2026-01-01T00:10:00Z, not {text!r}") \
            from None


def _duration(option: str) -> Any:
    def parse(text: str) -> float:
        from harness._check import parse_budget

        try:
            seconds = parse_budget(text)
        except ConfigFileError:
            raise argparse.ArgumentTypeError(f"{option} takes a duration such as 30s, 2m or 90, not {text!r}") \
                from None
        if seconds <= 0:
            raise argparse.ArgumentTypeError(f"{option} takes a duration above zero, not {text!r}")
        return seconds
    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line naming it (exit 2), not the whole usage."""

    def error(self, message: str) -> NoReturn:
        # "argument --budget: --budget takes ...": the option is named once
        message = re.sub(r"^argument (?:\S+/)?(\S+): \1 ", r"\1 ", message)
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="notifier-sim",
        description="Run the notifier controller, unchanged, in a deterministic simulated cluster.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="Run scenarios over seeds and judge every invariant")
    run.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                     help="Scenario files, or names of bundled scenarios as `list` prints them "
                          "(default: every bundled scenario)")
    seeds = run.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=_positive("--seed", zero=True), default=None, help="Run this one seed")
    seeds.add_argument("--seeds", type=_positive("--seeds"), default=None,
                       help=f"Run seeds 0..N-1 (default: {DEFAULT_SEEDS}; under sites, every single and its "
                            f"extensions)")
    run.add_argument("--strategy", choices=("random", "pct", "swarm", "sites", "hypothesis"), default=None,
                     help="Exploration strategy (default: the scenario's); hypothesis searches tapes and "
                          "shrinks what fails")
    run.add_argument("-x", "--exitfirst", action="store_true",
                     help="Stop a scenario's seeds at its first violation (and say how long it took to find)")
    run.add_argument("--no-self-check", action="store_true",
                     help="Skip running each scenario's first seed twice to check determinism")
    run.add_argument("--mutant", default=None, help="Run with a bug-zoo mutant applied")
    run.add_argument("--max-steps", type=_positive("--max-steps"), default=None,
                     help="Task steps a world may take before it stops as no-progress (default: the scenario's)")
    run.add_argument("--max-wall", type=_duration("--max-wall"), default=None,
                     help="Wall time a world may take before it stops as no-progress, e.g. 30s "
                          "(default: the scenario's)")
    run.add_argument("--json", action="store_true", help="Print one JSON object")
    run.add_argument("--report-dir", type=Path, default=Path("reports"),
                     help="Where failure artifacts go (default: reports/)")
    run.add_argument("-j", "--jobs", type=_positive("--jobs"), default=1,
                     help="Run seeds on this many processes (or Dask workers); the output is the same as -j 1")
    run.add_argument("--engine", choices=("local", "dask"), default="local",
                     help="Where seeds run: this machine, or a Dask cluster (pip install 'notifier-sim[dask]')")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="The Dask scheduler to use with --engine dask (default: an in-process LocalCluster "
                          "of --jobs workers)")
    run.add_argument("--shard", type=_shard, default=None, metavar="K/N",
                     help="Run only the K-th of N shares of each scenario's seeds (seed i when i %% N == K-1); "
                          "`notifier-sim merge` joins the shards' summaries")
    run.add_argument("--junit", type=Path, default=None,
                     help="Write JUnit XML here: a case per scenario, failed by its failing seeds")
    merge = commands.add_parser("merge", help="Join the summaries and JUnit files of a campaign's shards into one")
    merge.add_argument("summaries", nargs="+", type=Path, metavar="FILE",
                       help="summary.json files of `run`, and JUnit XML files (*.xml) of `run` or `check`")
    merge.add_argument("--out", type=Path, default=Path("reports/summary.json"),
                       help="Where the joined summary goes (default: reports/summary.json)")
    merge.add_argument("--junit-out", type=Path, default=Path("reports/junit.xml"),
                       help="Where the joined JUnit XML goes (default: reports/junit.xml)")
    replay = commands.add_parser("replay", help="Run a failure artifact again and confirm its trace hash")
    replay.add_argument("artifact", type=Path)
    shrink = commands.add_parser("shrink", help="Minimise a failure artifact and write a regression test")
    shrink.add_argument("artifact", type=Path)
    shrink.add_argument("--out", type=Path, default=Path("reports/regressions"),
                        help="Where the regression test goes (default: reports/regressions/)")
    gate = commands.add_parser("check", help="The CI gate: every scenario within a budget, the zoo, determinism")
    gate.add_argument("--budget", type=_duration("--budget"), default=60.0,
                      help="Time budget for the whole gate, e.g. 60s or 5m (default: 60s)")
    gate.add_argument("--seeds", type=_positive("--seeds"), default=None,
                      help="End once every scenario has run this many seeds (default: run seeds until the budget "
                           "is spent)")
    gate.add_argument("--seed", type=_positive("--seed", zero=True), default=0,
                      help="The first seed of the random strategies (default: 0); sites is systematic and always "
                           "starts at its first run")
    gate.add_argument("--junit", type=Path, default=None, help="Write JUnit XML here")
    gate.add_argument("-j", "--jobs", type=_positive("--jobs"), default=1,
                      help="Check on this many processes, each the gate of its share of the scenarios and mutants "
                           "for the whole budget (default: 1)")
    gate.add_argument("--mutant", default=None, help="Force a mutant on every run (the gate must then fail)")
    gate.add_argument("--report-dir", type=Path, default=Path("reports"), help="Where artifacts go")
    zoo = commands.add_parser("zoo", help="Run every mutant of the bug zoo and show what caught it")
    zoo.add_argument("--seeds", type=_positive("--seeds"), default=100,
                     help="Seeds to try per mutant before it escapes (default: 100)")
    zoo.add_argument("--json", action="store_true", help="Print one JSON object")
    zoo.add_argument("-j", "--jobs", type=_positive("--jobs"), default=1,
                     help="Hunt this many mutants at once, each on a process of its own")
    sandbox = commands.add_parser("serve", help="A local sandbox: the fake API server and fake Slack, PagerDuty "
                                  "and Teams on loopback, for `notifier run` and kubectl")
    sandbox.add_argument("--port", type=int, default=6443,
                         help="API server port; the fake chat services take the next one (default: 6443; 0: any)")
    sandbox.add_argument("--dir", type=Path, default=Path("sandbox"),
                         help="Where the kubeconfig, routing file, credentials and TLS files go (default: sandbox/)")
    sandbox.add_argument("--kubeconfig", type=Path, default=None,
                         help="Write the kubeconfig here instead (default: DIR/kubeconfig)")
    again = commands.add_parser("reproduce", help="From what kubectl shows of a cluster to a failing seed: search "
                                "for a run whose end shows the same, shrink it, tell its story")
    again.add_argument("dumps", nargs="+", type=Path, metavar="DUMP",
                       help="What `kubectl get notificationrequests,leases,events -A -o yaml` printed (YAML or "
                            "JSON), or a directory of such files")
    again.add_argument("--symptom", default=None, help="The symptom to reproduce (default: the most telling one "
                       "the dump shows); one the dump does not show is judged on what the channels received")
    again.add_argument("--notification", default=None, help="The notification the symptom concerns")
    again.add_argument("--channel", default=None, help="The channel the symptom concerns, as the status names it")
    again.add_argument("--routing", type=Path, default=None,
                       help="The routing file the controller ran with: it routes the notifications the dump shows "
                            "no channels for")
    again.add_argument("--at", type=_instant, default=None, metavar="TIME",
                       help="When the dump was taken, RFC 3339 (default: the latest time it shows); a notification "
                            "with nothing due for a minute before it never ended")
    again.add_argument("--namespace", default=None, help="Read only this namespace's objects of the dump")
    again.add_argument("--replicas", type=_positive("--replicas"), default=None,
                       help="Replicas of the controller (default: as many as the dump names)")
    again.add_argument("--workers", type=_positive("--workers"), default=1,
                       help="Concurrent reconciles per replica, as `notifier run --workers` (default: 1)")
    again.add_argument("--budget", type=_duration("--budget"), default=300.0,
                       help="Time the search may take, e.g. 60s or 5m (default: 5m)")
    again.add_argument("-j", "--jobs", type=_positive("--jobs"), default=os.cpu_count() or 1,
                       help="Processes the search runs on (default: one per core)")
    again.add_argument("--mutant", default=None, help="Search with a bug-zoo mutant applied")
    again.add_argument("--no-shrink", action="store_true", help="Stop at the reproducing run: no shrink")
    again.add_argument("--out", type=Path, default=Path("reports/reproduce"),
                       help="Where the scenario, the run's artifact and the regression test go "
                            "(default: reports/reproduce/)")
    sandbox.add_argument("--answer", action="append", default=[], metavar="SERVICE=ANSWER[,...]",
                         help="Script a fake service's next answers, in order, then 200: status codes, or lost "
                              "(received, the answer never comes), reset, tls-error; e.g. slack=lost,200")
    listing = commands.add_parser("list", help="List faults, invariants, mutants and bundled scenarios")
    listing.add_argument("--json", action="store_true", help="Print one JSON object")
    return parser


def _list(as_json: bool) -> int:
    from harness._faults import FAULTS
    from harness._invariants import INVARIANTS
    from harness._scenario import TRAFFIC, bundled
    from harness.mutants import MUTANTS

    catalogue = {"faults": list(FAULTS), "invariants": list(INVARIANTS), "traffic": list(TRAFFIC),
                 "mutants": list(MUTANTS), "scenarios": [path.stem for path in bundled()]}
    if as_json:
        print(json.dumps(catalogue))
        return 0
    for title, names in catalogue.items():
        print(f"{title}:")
        for name in names:
            print(f"  {name}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from harness._report import write_summary
    from harness._scenario import bundled, bundled_dir, load_scenario, resolve_scenario
    from harness.mutants import MUTANTS

    if args.mutant is not None and args.mutant not in MUTANTS:
        raise ConfigFileError("--mutant", 0, "", f"unknown mutant {args.mutant!r}; known: {', '.join(MUTANTS)}")
    paths = [resolve_scenario(text) for text in args.scenarios] or bundled()
    if not paths:
        raise ConfigFileError(str(bundled_dir()), 0, "", "no bundled scenario is installed there, so there is "
                                                          "nothing to run; name a scenario file")
    scenarios = [load_scenario(path) for path in paths]
    seeds = [args.seed] if args.seed is not None else list(range(args.seeds if args.seeds is not None
                                                                   else DEFAULT_SEEDS))
    runs: list[dict[str, Any]] = []
    started = time.perf_counter()
    if not args.json:
        default = args.seed is None and args.seeds is None
        under_sites = [s.name for s in scenarios if (args.strategy or s.campaign.strategy) == "sites"]
        systematic = "the systematic part of sites (every single and its extensions)"
        if under_sites and len(under_sites) == len(scenarios) and default:
            counted = systematic
        else:
            counted = f"{len(seeds)} seed(s)" + (f"; {', '.join(under_sites)}: {systematic}"
                                                  if under_sites and default else "")
        print(f"notifier-sim: {len(scenarios)} scenario(s) x {counted}"
              + (f", mutant {args.mutant}" if args.mutant else ""))
        print(f"{'scenario':<36} {'runs':>5} {'violations':>10} {'faults fired':>13} {'wall':>7}")
    took: dict[str, float] = {}
    with progress() as bar:
        ok, ran = _run_scenarios(args, scenarios, seeds, runs, bar, took)
    if not ran:  # never reachable with a scenario and a seed; kept so that no path reports green for nothing
        raise ConfigFileError("notifier-sim run", 0, "", "no run took place, so nothing was checked")
    write_summary(args.report_dir / "summary.json", runs, ok=ok, wall=time.perf_counter() - started)
    if args.junit is not None:
        strategies = {s.name: args.strategy or s.campaign.strategy for s in scenarios}
        junit.write(junit.run_cases(runs, strategies, took, args.mutant), args.junit, title="notifier-sim run")
    if args.json:
        print(json.dumps({"ok": ok, "runs": runs}))
    else:
        verdict = "all invariants held" if ok else "VIOLATIONS found"
        print(f"{verdict} over {ran} runs in {time.perf_counter() - started:.1f}s")
    return 0 if ok else 1


def _run_scenarios(args: argparse.Namespace, scenarios: list[Any], seeds: list[int], summary: list[dict[str, Any]],
                   bar: Progress, took: dict[str, float]) -> tuple[bool, int]:
    """Every seed of every scenario; (every invariant held, how many runs took place). `took`: each scenario's
    wall seconds."""
    from harness._campaign import runs
    from harness._explore import hypothesis_search, self_check
    from harness._report import write_timeline
    from harness._run import plan_for as site_plan
    from harness._strategies import PctScheduler
    from harness._world import World

    ok, ran = True, 0
    for scenario in scenarios:
        strategy = args.strategy or scenario.campaign.strategy
        fired: Counter[str] = Counter()
        bad = 0
        first = time.perf_counter()
        failures: list[str] = []
        failing: list[int] = []
        if strategy == "hypothesis":
            found = hypothesis_search(scenario, examples=len(seeds), mutant=args.mutant)
            if found is not None:
                ok = False
                summary.append({**found.result.as_json(), "tape": found.tape})
                v = found.result.violations[0]
                if not args.json:
                    print(f"{scenario.name:<36} hypothesis found {v}")
                    print(f"  shrunk tape ({len(found.tape)} choices): {found.tape[:40]}")
            elif not args.json:
                print(f"{scenario.name:<36} hypothesis: no violation in {len(seeds)} examples")
            ran += len(seeds)
            continue
        chosen: Iterable[int] = seeds
        first_seed = seeds[0]
        plan = None
        if strategy == "sites":
            plan = site_plan(scenario, mutant=args.mutant, max_steps=args.max_steps)
            if args.seed is None and args.seeds is None:  # the systematic part: every single, its extensions
                chosen, first_seed = itertools.takewhile(plan.systematic, itertools.count()), 0
            else:
                has = plan.runs(max(seeds) + 1)
                chosen = [seed for seed in seeds if seed < has]
                if not chosen:
                    raise ConfigFileError("--seed", 0, "", f"the sites strategy has {has} run(s) for scenario "
                                                           f"{scenario.name} (0..{has - 1}); no run {seeds[0]}")
                first_seed = chosen[0]
        if not args.no_self_check:
            self_check(scenario, first_seed, strategy=strategy, mutant=args.mutant, max_steps=args.max_steps)
        if strategy == "pct" and not args.json:
            print(f"  {PctScheduler(World(seed=0, reconciler=_unused), scenario.world.replicas).bound()}")
        if args.shard is not None:
            k, n = args.shard
            share = itertools.islice(chosen, k - 1, None, n)
            chosen = list(share) if isinstance(chosen, list) else share
        bar.task("run", len(chosen) if isinstance(chosen, list) else None, f"{scenario.name} ({strategy})")
        done = 0
        for outcome in runs(scenario, chosen, strategy=strategy, mutant=args.mutant,
                            failures=args.report_dir / "failures", max_steps=args.max_steps,
                            wall_seconds=args.max_wall, jobs=args.jobs, engine=args.engine,
                            scheduler=args.scheduler):
            seed, result, artifact = outcome.seed, outcome.result, outcome.artifact
            bar.advance("run")
            summary.append(result.as_json())
            ran, done = ran + 1, done + 1
            fired.update({name: 1 for name in result.faults_fired})
            if result.violations and artifact is not None:
                ok = False
                bad += 1
                failing.append(seed)
                v = result.violations[0]
                failures.append(f"  seed {seed}: {v}")
                failures.extend(f"    {note}" for note in result.notes if note.startswith("sites:"))
                failures.append(f"    replay: notifier-sim replay {artifact.path}")
                failures.append(f"    timeline: {write_timeline(artifact.path)}")
                if args.exitfirst:
                    failures.append(f"    found after {done} run(s) in {time.perf_counter() - first:.1f}s")
                    break
        if not args.json:
            wanted = len(scenario.faults)
            print(f"{scenario.name:<36} {done:>5} {bad:>10} {f'{len(fired)}/{wanted}':>13} "
                  f"{time.perf_counter() - first:>6.1f}s")
            if plan is not None:
                print(f"  sites: {plan.coverage(done)}")
            for line in failures[:6]:
                print(line)
            if len(failing) > (shown := sum(line.startswith("  seed ") for line in failures[:6])):
                rest = failing[shown:]
                print(f"  and {len(rest)} more failing seed(s): {', '.join(map(str, rest[:10]))}"
                      f"{', ...' if len(rest) > 10 else ''} (each replays from {args.report_dir / 'failures'})")
        took[scenario.name] = time.perf_counter() - first
    return ok, ran


def _merge(paths: list[Path], out: Path, junit_out: Path) -> int:
    """Join the summaries and the JUnit files of a campaign's shards: exit 0 if every shard held every
    invariant (and passed every case), else 1."""
    from harness._report import write_summary

    xml = [path for path in paths if path.suffix == ".xml"]
    ok = True
    if xml:
        cases, failed = junit.merge(xml, junit_out)
        ok = not failed
        print(f"merged {len(xml)} JUnit files: {cases} cases, {failed} failed -> {junit_out}")
    summaries = [path for path in paths if path.suffix != ".xml"]
    if not summaries:
        return 0 if ok else 1
    runs, wall, failures = 0, 0.0, []
    for path in summaries:
        try:
            data = json.loads(path.read_text())
        except OSError as error:
            raise ConfigFileError(str(path), 0, "", f"cannot read the summary: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise ConfigFileError(str(path), error.lineno, "", f"not a summary (bad JSON: {error.msg})") from None
        if not isinstance(data, dict) or not {"ok", "runs", "failures"} <= set(data):
            raise ConfigFileError(str(path), 0, "", "not a summary of notifier-sim run (no ok, runs, failures)")
        ok, runs, wall = ok and bool(data["ok"]), runs + int(data["runs"]), wall + float(data.get("wall_seconds", 0))
        failures.extend(data["failures"])
    failures.sort(key=lambda f: (str(f.get("scenario")), int(f.get("seed", 0))))
    write_summary(out, failures, ok=ok, wall=wall, runs=runs)
    print(f"merged {len(summaries)} summaries: {runs} runs, {len(failures)} failing; "
          f"{'all invariants held' if ok else 'VIOLATIONS found'} -> {out}")
    return 0 if ok else 1


def _replay(path: Path) -> int:
    """Exit 0 or 1 as the replayed run's verdict, 3 if it did not reproduce the recorded trace."""
    import shlex

    from harness._replay import Artifact, replay
    from harness._shrink import story

    artifact = Artifact.load(path)
    test = artifact.data.get("test")
    if test:
        raise ConfigFileError(str(path), 0, "test", f"this run's test scripted client actions (prepare) that the "
                                                    f"artifact cannot hold; replay it through its test: pytest "
                                                    f"{shlex.quote(test)} --sim-replay {shlex.quote(str(path))}")
    replayed = replay(artifact)
    result = replayed.result
    print(f"replayed {artifact.data['scenario']['name']} seed {artifact.data['seed']}"
          + (f" with mutant {artifact.data['mutant']}" if artifact.data.get("mutant") else ""))
    if replayed.code_changed:
        print("  note: the code changed since the artifact was written")
    if replayed.same:
        print(f"  same trace hash {result.trace_hash}")
    for v in result.violations:
        print(f"  {v}")
    if result.violations and replayed.same:
        data = artifact.data
        told = story(artifact.scenario, artifact.world_seed, strategy=str(data.get("strategy") or "random"),
                     tape=artifact.tape, mutant=data.get("mutant"), firings=artifact.firings,
                     durations=artifact.durations, script=artifact.script,
                     invariant=result.violations[0].invariant)
        print("  what happened (`notifier-sim shrink` keeps only what the failure needs):")
        for line in told:
            print(f"  {line}")
    if not replayed.same:
        print(f"notifier-sim: the replay diverged: recorded trace hash {artifact.data.get('trace_hash')}, now "
              f"{result.trace_hash}; first divergent {replayed.divergence or 'step unknown'}"
              + (" (the code changed since the artifact was written)" if replayed.code_changed else
                 " (the artifact's tape or trace was edited, or the run reads something outside its ports)"),
              file=sys.stderr)
        return 3
    return 1 if result.violations else 0


def _shrink(path: Path, out: Path) -> int:
    from harness._replay import Artifact
    from harness._shrink import shrink, sized

    with progress() as bar:
        bar.task("shrink", None, f"shrink {path.name}: runs tried")
        done = shrink(Artifact.load(path), out, on_run=lambda: bar.advance("shrink"))
    print(f"shrunk {path.name}: {done.invariant} still fails")
    print(f"  before: {sized(done.before)}")
    print(f"  after:  {sized(done.after)}")
    if done.firings:
        print(f"  faults it needs ({len(done.firings)}), nothing else firing:")
        for firing in done.firings:
            print(f"    {firing}")
    if done.story:
        print("  the race:")
        for line in done.story:
            print(f"  {line}")
    if done.script:
        print(f"  other choices it needs ({len(done.script)}; every other one is its simplest):")
        for key, value in sorted(done.script.items()):
            print(f"    {key} = {value}")
    print(f"  regression test: {done.test_path}")
    if done.timeline is not None:
        print(f"  timeline: {done.timeline}")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from harness._reproduce import command
    from harness.mutants import MUTANTS

    if args.mutant is not None and args.mutant not in MUTANTS:
        raise ConfigFileError("--mutant", 0, "", f"unknown mutant {args.mutant!r}; known: {', '.join(MUTANTS)}")
    with progress() as bar:
        bar.task("search", None, "reproduce: runs searched")
        return command(args.dumps, symptom=args.symptom, notification=args.notification, channel=args.channel,
                       replicas=args.replicas, workers=args.workers, budget=args.budget, jobs=args.jobs,
                       mutant=args.mutant, out=args.out, routing=args.routing, at=args.at,
                       namespace=args.namespace, shrinking=not args.no_shrink,
                       on_run=lambda _: bar.advance("search"))


def _check(args: argparse.Namespace) -> int:
    from harness._check import check_on, write_junit
    from harness.mutants import MUTANTS

    budget = args.budget
    if args.mutant is not None and args.mutant not in MUTANTS:
        raise ConfigFileError("--mutant", 0, "", f"unknown mutant {args.mutant!r}; known: {', '.join(MUTANTS)}")
    started = time.perf_counter()
    print(f"notifier-sim check: budget {budget:g}s, seeds from {args.seed}"
          + (f", mutant {args.mutant} forced" if args.mutant else ""))
    with progress() as bar:
        bar.task("check", budget, "check")
        verdict = check_on(args.jobs, budget, mutant=args.mutant, report_dir=args.report_dir, bar=bar,
                           max_seeds=args.seeds, base_seed=args.seed)
    for case in verdict.cases:
        mark = "ok  " if case.failure is None else "FAIL"
        print(f"{mark} {case.suite:<12} {case.name:<48} {case.seconds:7.2f}s")
        if case.failure:
            print(f"     {case.failure}")
    spent = ", ".join(f"{name} {verdict.strategy_runs[name]} runs in {seconds:.1f}s"
                      for name, seconds in sorted(verdict.spent.items(), key=lambda item: -item[1]))
    print(f"budget spent on: {spent or 'no run beyond the determinism check and the zoo'}")
    for name, covered in verdict.coverage.items():
        print(f"  sites on {name}: {covered}")
    if args.junit is not None:
        write_junit(verdict, args.junit)
        print(f"JUnit XML: {args.junit}")
    summary = args.report_dir / "check-summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps({"ok": verdict.ok, "runs": verdict.runs, "budget_seconds": budget,
                                   "base_seed": args.seed,
                                   "strategies": {name: {"runs": verdict.strategy_runs[name],
                                                         "seconds": round(seconds, 3)}
                                                  for name, seconds in sorted(verdict.spent.items())},
                                   "sites_coverage": verdict.coverage,
                                   "cases": [{"suite": c.suite, "name": c.name, "seconds": round(c.seconds, 3),
                                              "failure": c.failure} for c in verdict.cases]}, indent=1))
    print(f"summary: {summary}")
    failed = sum(1 for case in verdict.cases if case.failure)
    print(f"{verdict.runs} scenario runs in {time.perf_counter() - started:.1f}s; "
          f"{'every check held' if verdict.ok else 'the gate FAILED'}")
    print(f"check: {len(verdict.cases) - failed} passed, {failed} failed")
    return 0 if verdict.ok else 1


def _zoo(seeds: int, as_json: bool, jobs: int = 1) -> int:
    from harness._zoo import hunt_all

    with progress() as bar:
        rows = hunt_all(seeds, bar=bar, jobs=jobs)
    if as_json:
        print(json.dumps({"mutants": [row.as_json() for row in rows]}))
    else:
        print(f"{'mutant':<34} {'caught':<7} {'by':<26} {'seeds':>5} {'seconds':>8}")
        for row in rows:
            print(f"{row.name:<34} {'yes' if row.caught else 'NO':<7} {row.invariant or '-':<26} {row.seeds:>5} "
                  f"{row.seconds:>8.2f}")
        escaped = [row.name for row in rows if not row.caught]
        print("every mutant was caught" if not escaped else f"ESCAPED: {', '.join(escaped)}")
    return 0 if all(row.caught for row in rows) else 1


def _unused(replica: Any) -> Any:
    raise AssertionError("no replica is built to print the pct bound")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed the usage and the bad value (exit 2), or the help (0)
        return stop.code if isinstance(stop.code, int) else 2
    logging.getLogger("notifier").setLevel(logging.CRITICAL)
    try:
        if args.command == "list":
            return _list(args.json)
        if args.command == "run":
            return _run(args)
        if args.command == "merge":
            return _merge(args.summaries, args.out, args.junit_out)
        if args.command == "check":
            return _check(args)
        if args.command == "zoo":
            return _zoo(args.seeds, args.json, args.jobs)
        if args.command == "replay":
            return _replay(args.artifact)
        if args.command == "shrink":
            return _shrink(args.artifact, args.out)
        if args.command == "reproduce":
            return _reproduce(args)
        if args.command == "serve":
            from harness._sandbox import parse_answers, serve

            return serve(args.dir, args.port, args.kubeconfig, answers=dict(map(parse_answers, args.answer)))
    except ConfigFileError as error:
        print(f"notifier-sim: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as the Python docs advise (signal.SIGPIPE notes), and
        # point stdout at devnull so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:
        from harness._errors import DeterminismError

        if isinstance(error, DeterminismError):
            print(f"notifier-sim: determinism self-check failed: {error}", file=sys.stderr)
            return 3
        raise
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

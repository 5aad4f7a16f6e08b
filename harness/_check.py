"""`notifier-sim check`: the CI gate. Within a time budget: the determinism self-check of every bundled
scenario, the bug zoo, and as many seeds of every scenario as the rest of the budget allows (round robin).
Writes JUnit XML and a summary; the verdict is failed on any violation, divergence or escaped mutant.
"""

from __future__ import annotations

import itertools
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness._campaign import Outcome, runs
from harness._progress import Progress
from harness._run import RunResult
from harness._scenario import Scenario, bundled, bundled_dir, load_scenario
from harness._strategies import campaign_strategy
from harness._zoo import hunt
from harness.mutants import MUTANTS
from notifier import ConfigFileError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")


def parse_budget(text: str) -> float:
    """`60s`, `2m`, `1h` or a number of seconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ConfigFileError("--budget", 0, "", f"budget {text!r} is not a duration; use e.g. 60s, 2m or 90")
    value = float(match.group(1))
    return value * {"s": 1, None: 1, "m": 60, "h": 3600}[match.group(2)]


@dataclass(slots=True)
class Case:
    """One JUnit test case."""

    suite: str
    name: str
    seconds: float
    failure: str | None = None


@dataclass(slots=True)
class Verdict:
    cases: list[Case] = field(default_factory=list)
    runs: int = 0

    @property
    def ok(self) -> bool:
        return all(case.failure is None for case in self.cases)


def check(budget: float, *, mutant: str | None = None, report_dir: Path = Path("reports"),
          zoo_seeds: int = 60, on_case: Callable[[Case], None] | None = None,
          bar: Progress | None = None, max_seeds: int | None = None) -> Verdict:
    """The gate, within `budget` wall seconds in all: no run starts after it and none runs past it.

    Each scenario's seed 0 runs twice (the determinism self-check; the first run is also its seed 0), then
    the zoo hunts every mutant, then seeds 1, 2, ... of every scenario take turns until the budget is spent.
    What the budget did not reach is a failed case that says so: the gate is never green for work it skipped.
    With `max_seeds`, the gate also ends once every scenario has run that many seeds. `on_case` is told of each
    case as it is decided; `bar` shows the budget being spent.
    """
    started = time.perf_counter()
    deadline = started + budget
    verdict = Verdict()
    scenarios: list[Scenario] = [load_scenario(path) for path in bundled()]
    if not scenarios:
        raise ConfigFileError(str(bundled_dir()), 0, "", "no bundled scenario is installed there: the gate would "
                                                          "check nothing")
    failures_dir = report_dir / "failures"
    seeds = {scenario.name: 0 for scenario in scenarios}
    failed: dict[str, str] = {}
    spent: dict[str, float] = {scenario.name: 0.0 for scenario in scenarios}

    cut: list[str] = []

    def unreached(what: str) -> str:
        return f"{what}: the budget of {budget:g}s was spent first" + (f" ({cut[0]})" if cut else "")

    def add(case: Case) -> None:
        verdict.cases.append(case)
        if on_case is not None:
            on_case(case)
        moved(f"{case.suite}: {case.name}")

    def moved(what: str) -> None:
        if bar is not None:
            bar.update("check", completed=min(budget, time.perf_counter() - started), description=f"check: {what}")

    def remaining() -> float:
        return deadline - time.perf_counter()

    #: Each scenario's seeds 0, 1, 2, ... as one campaign, advanced a seed at a time, round robin.
    streams: dict[str, Iterator[Outcome]] = {
        scenario.name: runs(scenario, itertools.count(), strategy=campaign_strategy(scenario), mutant=mutant,
                            failures=failures_dir, deadline=deadline) for scenario in scenarios}

    def seed_run(scenario: Scenario) -> RunResult | None:
        """The scenario's next seed, within the budget; None once the budget ran out before it could finish."""
        began = time.perf_counter()
        outcome = next(streams[scenario.name], None)
        spent[scenario.name] += time.perf_counter() - began
        if outcome is None:
            return None
        if outcome.cut:
            cut.append(f"{scenario.name} seed {outcome.seed} was cut at {outcome.result.world_steps:,} steps, "
                       f"virtual time {outcome.result.virtual_time:.3f} s")
            return None  # cut by the gate's budget: not a verdict on the controller
        seeds[scenario.name] = outcome.seed + 1
        verdict.runs += 1
        moved(f"{scenario.name} seed {outcome.seed}")
        result = outcome.result
        if result.violations and scenario.name not in failed:
            v = result.violations[0]
            where = outcome.artifact.path if outcome.artifact else "?"
            failed[scenario.name] = (f"seed {outcome.seed}: {v.invariant}: {v.notification} {v.channel} "
                                     f"{v.message}; replay: notifier-sim replay {where}")
        return result

    for scenario in scenarios:
        began = time.perf_counter()
        first = seed_run(scenario)
        second = None
        if first is not None:
            again = next(runs(scenario, [0], strategy=campaign_strategy(scenario), mutant=mutant,
                              deadline=deadline), None)
            second = again.result if again is not None and not again.cut else None
        took = time.perf_counter() - began
        if first is None or second is None:
            add(Case("determinism", scenario.name, took, unreached("not checked")))
        elif first.trace_hash != second.trace_hash:
            add(Case("determinism", scenario.name, took, f"{scenario.name} seed 0 is not deterministic: trace "
                                                         f"hashes {first.trace_hash} and {second.trace_hash}"))
        else:
            add(Case("determinism", scenario.name, took))
    if mutant is None:
        for name in MUTANTS:
            found = hunt(name, zoo_seeds, deadline=deadline)
            if found.caught:
                add(Case("zoo", name, found.seconds))
            elif found.seeds < zoo_seeds:
                add(Case("zoo", name, found.seconds, f"mutant {name} not hunted to the end: the budget of {budget:g}s "
                                                     f"was spent after {found.seeds} of {zoo_seeds} seeds"))
            else:
                add(Case("zoo", name, found.seconds, f"mutant {name} escaped every invariant in {found.seeds} seeds"))
    while remaining() > 0:
        progressed = False
        for scenario in scenarios:
            if scenario.name in failed or (max_seeds is not None and seeds[scenario.name] >= max_seeds):
                continue
            if seed_run(scenario) is None:
                break
            progressed = True
        if not progressed:
            break
    for scenario in scenarios:
        add(Case("scenarios", f"{scenario.name} ({seeds[scenario.name]} seeds)", spent[scenario.name],
                 failed.get(scenario.name) or (None if seeds[scenario.name] else unreached("no seed ran"))))
    return verdict


def write_junit(verdict: Verdict, path: Path) -> None:
    """JUnit XML: one suite per kind of check, one case per scenario, mutant or determinism check."""
    root = ET.Element("testsuites", name="notifier-sim check")
    for suite_name in ("determinism", "zoo", "scenarios"):
        cases = [case for case in verdict.cases if case.suite == suite_name]
        if not cases:
            continue
        suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(cases)),
                              failures=str(sum(1 for c in cases if c.failure)), errors="0",
                              time=f"{sum(c.seconds for c in cases):.3f}")
        for case in cases:
            element = ET.SubElement(suite, "testcase", classname=f"notifier_sim.{suite_name}", name=case.name,
                                    time=f"{case.seconds:.3f}")
            if case.failure is not None:
                failure = ET.SubElement(element, "failure", message=case.failure[:200])
                failure.text = case.failure
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

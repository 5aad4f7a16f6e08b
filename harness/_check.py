"""`notifier-sim check`: the CI gate. Within a time budget: the determinism self-check of every bundled
scenario, the bug zoo, the systematic `sites` strategy on the small scenarios, then as many runs of every
scenario under its own strategy, pct and swarm as the rest of the budget allows (round robin). Writes JUnit
XML and a summary that says how the budget was spent; the verdict is failed on any violation, divergence or
escaped mutant.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from harness import _junit as junit
from harness._campaign import Outcome, processes, runs
from harness._junit import Case
from harness._progress import Progress
from harness._run import plan_for, recorded_plan
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
class Verdict:
    cases: list[Case] = field(default_factory=list)
    runs: int = 0
    #: Wall seconds and runs each strategy took (the determinism self-check and the zoo aside).
    spent: dict[str, float] = field(default_factory=dict)
    strategy_runs: dict[str, int] = field(default_factory=dict)
    #: What the sites strategy covered, per scenario.
    coverage: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(case.failure is None for case in self.cases)


#: A scenario is small when its replicas times its notifications is at most this: the gate explores it
#: systematically (the `sites` strategy) before anything runs at random.
SMALL: Final = 4


@dataclass(slots=True)
class Stream:
    """One scenario under one strategy: its runs, one after another, and what they cost."""

    scenario: Scenario
    strategy: str
    outcomes: Iterator[Outcome]
    runs: int = 0
    seconds: float = 0.0
    done: bool = False

    @property
    def label(self) -> str:
        return f"{self.scenario.name} ({self.strategy})"


def _failure(strategy: str, outcome: Outcome) -> str:
    """A failed case's text: the run, what broke first, and the command that replays it."""
    v = outcome.result.violations[0]
    where = outcome.artifact.path if outcome.artifact else "?"
    how = "".join(f" [{note}]" for note in outcome.result.notes if note.startswith("sites:"))
    return (f"{strategy} seed {outcome.seed}{how}: {v}; "
            f"replay: notifier-sim replay {where}")


def site_numbers(scenario: Scenario, mutant: str | None, deadline: float) -> Iterator[int]:
    """The sites strategy's run numbers for `scenario`, 0, 1, 2, ... to its last (its recording spends no more
    than the time left)."""
    k = 0
    while (left := deadline - time.perf_counter()) > 0:
        plan = plan_for(scenario, mutant=mutant, wall_seconds=min(left, scenario.world.wall_seconds))
        if plan.runs(k + 1) <= k:
            return
        yield k
        k += 1


def streams_of(scenario: Scenario, *, base_seed: int, mutant: str | None, failures: Path,
               deadline: float) -> tuple[Stream | None, list[Stream]]:
    """A scenario's systematic stream (`sites`, for a small scenario) and its random ones: its own campaign
    strategy, pct where there is concurrency to schedule, swarm where there are faults to choose from."""
    def stream(strategy: str, seeds: Iterable[int]) -> Stream:
        return Stream(scenario, strategy, runs(scenario, seeds, strategy=strategy, mutant=mutant, failures=failures,
                                               deadline=deadline))

    small = scenario.world.replicas * sum(n.count for n in scenario.notifications) <= SMALL
    systematic = stream("sites", site_numbers(scenario, mutant, deadline)) if small and scenario.faults else None
    chosen = [campaign_strategy(scenario)]
    if scenario.world.replicas > 1 or scenario.world.workers > 1:
        chosen.append("pct")
    if scenario.faults:
        chosen.append("swarm")
    chosen = [name for name in dict.fromkeys(chosen) if name != "sites"] or ["random"]
    return systematic, [stream(name, itertools.count(base_seed)) for name in chosen]


def check(budget: float, *, mutant: str | None = None, report_dir: Path = Path("reports"),
          zoo_seeds: int = 60, on_case: Callable[[Case], None] | None = None,
          bar: Progress | None = None, max_seeds: int | None = None, base_seed: int = 0,
          part: tuple[int, int] = (0, 1)) -> Verdict:
    """The gate, within `budget` wall seconds in all: no run starts after it and none runs past it.

    1. Determinism: each scenario's seed `base_seed` runs twice (under its campaign strategy).
    2. The zoo hunts every mutant (unless `mutant` forces one on every run).
    3. Systematic: half of what is left goes to the `sites` strategy on the small scenarios (those with faults),
       the one that has spent least going next, so that every one of them gets its share.
    4. Random: the rest goes round robin to every scenario under its campaign strategy, pct and swarm (seeds
       from `base_seed`), and the small scenarios' sites runs go on among them.

    What the budget did not reach is a failed case that says so: the gate is never green for work it skipped.
    With `max_seeds`, a stream ends after that many runs, and the gate once every stream has. `on_case` is
    told of each case as it is decided; `bar` shows the budget being spent. `verdict.spent` says where the
    budget went; `verdict.coverage` what the sites strategy covered. `part` (k, n): only the k-th of n shares of
    the scenarios and of the mutants (those whose index is k modulo n), as one process of `check -j n` runs.
    """
    started = time.perf_counter()
    deadline = started + budget
    verdict = Verdict()
    everyone: list[Scenario] = [load_scenario(path) for path in bundled()]
    if not everyone:
        raise ConfigFileError(str(bundled_dir()), 0, "", "no bundled scenario is installed there: the gate would "
                                                          "check nothing")
    k, n = part
    scenarios = everyone[k::n]
    failures_dir = report_dir / "failures"
    failed: dict[str, str] = {}
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

    def advance(stream: Stream) -> bool:
        """The stream's next run, within the budget; False once it cannot run one (budget, limit, or end)."""
        if stream.done or stream.scenario.name in failed or (max_seeds is not None and stream.runs >= max_seeds):
            return False
        began = time.perf_counter()
        outcome = next(stream.outcomes, None)
        stream.seconds += time.perf_counter() - began
        if outcome is None:
            stream.done = True
            return False
        if outcome.cut:
            cut.append(f"{stream.label} seed {outcome.seed} was cut at {outcome.result.world_steps:,} steps, "
                       f"virtual time {outcome.result.virtual_time:.3f} s")
            stream.done = True
            return False  # cut by the gate's budget: not a verdict on the controller
        stream.runs += 1
        verdict.runs += 1
        moved(f"{stream.label} seed {outcome.seed}")
        result = outcome.result
        if result.violations and stream.scenario.name not in failed:
            failed[stream.scenario.name] = _failure(stream.strategy, outcome)
        return True

    systematic: list[Stream] = []
    randomly: list[Stream] = []
    for scenario in scenarios:
        began = time.perf_counter()
        own = campaign_strategy(scenario)
        first_seed = 0 if own == "sites" else base_seed  # --seed moves the random strategies' seeds only
        first = next(runs(scenario, [first_seed], strategy=own, mutant=mutant, failures=failures_dir,
                          deadline=deadline), None)
        second = None
        if first is not None and not first.cut:
            verdict.runs += 1
            if first.result.violations and scenario.name not in failed:
                failed[scenario.name] = _failure(own, first)
            again = next(runs(scenario, [first_seed], strategy=own, mutant=mutant, deadline=deadline), None)
            second = again.result if again is not None and not again.cut else None
        took = time.perf_counter() - began
        if first is None or first.cut or second is None:
            add(Case("determinism", scenario.name, took, unreached("not checked")))
        elif first.result.trace_hash != second.trace_hash:
            add(Case("determinism", scenario.name, took, f"{scenario.name} seed {first_seed} is not deterministic: "
                                                         f"trace hashes {first.result.trace_hash} and "
                                                         f"{second.trace_hash}"))
        else:
            add(Case("determinism", scenario.name, took))
        sites, others = streams_of(scenario, base_seed=base_seed, mutant=mutant, failures=failures_dir,
                                   deadline=deadline)
        systematic += [sites] if sites is not None else []
        randomly += others
    if mutant is None:
        for name in list(MUTANTS)[k::n]:
            found = hunt(name, zoo_seeds, deadline=deadline)
            if found.caught:
                add(Case("zoo", name, found.seconds))
            elif found.cut:
                add(Case("zoo", name, found.seconds, f"mutant {name} not hunted to the end: the budget of {budget:g}s "
                                                     f"was spent after {found.seeds} seeds"))
            else:
                add(Case("zoo", name, found.seconds, f"mutant {name} escaped every invariant in {found.seeds} seeds"))
    phase_end = time.perf_counter() + max(0.0, remaining()) / 2
    while time.perf_counter() < phase_end and remaining() > 0:
        ready = [stream for stream in systematic if not stream.done and stream.scenario.name not in failed
                 and (max_seeds is None or stream.runs < max_seeds)]
        if not ready:
            break
        advance(min(ready, key=lambda stream: stream.seconds))  # a stream that cannot go on is done
    everything = [*randomly, *systematic]
    while remaining() > 0:
        if not [stream for stream in everything if advance(stream)]:
            break
    streams_by: dict[str, list[Stream]] = {}
    for stream in everything:
        streams_by.setdefault(stream.scenario.name, []).append(stream)
        verdict.spent[stream.strategy] = verdict.spent.get(stream.strategy, 0.0) + stream.seconds
        verdict.strategy_runs[stream.strategy] = verdict.strategy_runs.get(stream.strategy, 0) + stream.runs
    for stream in systematic:
        plan = recorded_plan(stream.scenario, mutant=mutant)
        if plan is not None:
            verdict.coverage[stream.scenario.name] = plan.coverage(stream.runs)
    for scenario in scenarios:
        mine = streams_by.get(scenario.name, [])
        ran = ", ".join(f"{stream.strategy} {stream.runs}" for stream in mine)
        total = sum(stream.runs for stream in mine)
        add(Case("scenarios", f"{scenario.name} ({ran} runs)", sum(stream.seconds for stream in mine),
                 failed.get(scenario.name) or (None if total else unreached("no seed ran"))))
    return verdict


def check_on(jobs: int, budget: float, *, mutant: str | None = None, report_dir: Path = Path("reports"),
             zoo_seeds: int = 60, bar: Progress | None = None, max_seeds: int | None = None,
             base_seed: int = 0) -> Verdict:
    """`check` on `jobs` processes, each the gate of its share of the scenarios and the mutants for the whole
    budget; their verdicts joined in the order `check` on one process gives its cases."""
    if jobs <= 1:
        return check(budget, mutant=mutant, report_dir=report_dir, zoo_seeds=zoo_seeds, bar=bar,
                     max_seeds=max_seeds, base_seed=base_seed)
    started = time.perf_counter()
    # The gate's wall budget (never a world's time): perf_counter instants mean nothing in another process, so the
    # deadline goes to the workers on the one clock they share.
    until = time.time() + budget
    with processes(jobs) as pool:
        futures = [pool.submit(_check_part, until, (k, jobs), mutant, report_dir, zoo_seeds, max_seeds, base_seed)
                   for k in range(jobs)]
        while wait(futures, timeout=0.25).not_done:
            if bar is not None:
                bar.update("check", completed=min(budget, time.perf_counter() - started),
                           description=f"check: {jobs} processes")
        parts = [future.result() for future in futures]
    verdict = Verdict(runs=sum(part.runs for part in parts))
    for suite in ("determinism", "zoo", "scenarios"):
        # part k holds every k-th case of each suite: dealt back, they are in the one-process order
        dealt = [[case for case in part.cases if case.suite == suite] for part in parts]
        for index in range(sum(map(len, dealt))):
            verdict.cases.append(dealt[index % jobs][index // jobs])
    for part in parts:
        for name, seconds in part.spent.items():
            verdict.spent[name] = verdict.spent.get(name, 0.0) + seconds
        for name, count in part.strategy_runs.items():
            verdict.strategy_runs[name] = verdict.strategy_runs.get(name, 0) + count
    order = {scenario: index for index, scenario in enumerate(
        case.name for case in verdict.cases if case.suite == "determinism")}
    verdict.coverage = dict(sorted((item for part in parts for item in part.coverage.items()),
                                   key=lambda item: order.get(item[0], len(order))))
    return verdict


def _check_part(until: float, part: tuple[int, int], mutant: str | None, report_dir: Path, zoo_seeds: int,
                max_seeds: int | None, base_seed: int) -> Verdict:
    return check(max(0.0, until - time.time()), mutant=mutant, report_dir=report_dir, zoo_seeds=zoo_seeds,
                 max_seeds=max_seeds, base_seed=base_seed, part=part)


def write_junit(verdict: Verdict, path: Path) -> None:
    """JUnit XML: one suite per kind of check, one case per scenario, mutant or determinism check."""
    junit.write(verdict.cases, path, title="notifier-sim check", suites=("determinism", "zoo", "scenarios"))

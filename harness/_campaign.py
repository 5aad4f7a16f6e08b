"""The one campaign runner: a scenario's seeds, one after another, within a deadline.

`run`, `check`, `zoo` and the benchmarks all run their seeds through `runs`, so that what a campaign means
(budgets, the deadline, artifacts, a run cut short) is decided in one place, and so that parallel or
distributed execution has one place to go.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from harness._replay import Artifact, run_recorded
from harness._run import RunResult, run
from harness._scenario import Scenario
from notifier import ConfigFileError


@dataclass(frozen=True, slots=True)
class Outcome:
    """One seed of a campaign: its result, its artifact (kept for a failure), and whether the campaign's
    deadline cut it short (then it is no verdict on the controller, and the campaign ends with it)."""

    seed: int
    result: RunResult
    artifact: Artifact | None = None
    cut: bool = False


def runs(scenario: Scenario, seeds: Iterable[int], *, strategy: str, mutant: str | None = None,
         failures: Path | None = None, max_steps: int | None = None, wall_seconds: float | None = None,
         deadline: float | None = None, keep: bool = False, jobs: int = 1, engine: str = "local",
         scheduler: str | None = None) -> Iterator[Outcome]:
    """Run `seeds` of `scenario` in order, yielding each outcome.

    Args:
        failures: where failing runs leave their artifacts (written before each run starts); None: no artifacts.
        max_steps, wall_seconds: each world's budgets (default: the scenario's).
        deadline: a `time.perf_counter()` instant: no run starts after it, and none runs past it (a run the
            deadline stops is yielded with `cut` set, and is the last).
        keep: keep each world in its result (to inspect it), at the cost of its memory (one process only).
        jobs: how many processes run seeds at once (`engine` "local"), or how many workers the in-process Dask
            cluster starts (`engine` "dask" without `scheduler`). Whatever runs them, the outcomes come in the
            order of `seeds`, and are the same: a run depends on its seed alone.
        engine, scheduler: "local" (this machine), or "dask" (Dask distributed: the cluster at `scheduler`, or
            a `LocalCluster` of `jobs` workers); a failure's artifact is written here, by this process.
    """
    if jobs > 1 or engine != "local":
        if keep:
            raise ValueError("a world cannot be kept from another process")
        yield from _spread(scenario, seeds, strategy=strategy, mutant=mutant, failures=failures,
                           max_steps=max_steps, wall_seconds=wall_seconds, deadline=deadline, jobs=jobs,
                           engine=engine, scheduler=scheduler)
        return
    own_wall = scenario.world.wall_seconds if wall_seconds is None else wall_seconds
    for seed in seeds:
        wall = _wall(wall_seconds, own_wall, deadline)
        if wall == 0:
            return
        if failures is not None:
            result, artifact = run_recorded(scenario, seed, failures, strategy=strategy, mutant=mutant,
                                            max_steps=max_steps, wall_seconds=wall, keep_world=keep)
        else:
            result, artifact = run(scenario, seed, strategy=strategy, mutant=mutant, max_steps=max_steps,
                                   wall_seconds=wall, keep=keep), None
        if _cut(result, wall, own_wall):
            if artifact is not None:
                artifact.path.unlink(missing_ok=True)
            yield Outcome(seed, result, None, cut=True)
            return
        yield Outcome(seed, result, artifact)


def _wall(wall_seconds: float | None, own_wall: float, deadline: float | None) -> float | None:
    """The next run's wall budget: its own, or the time the deadline leaves if that is less (0: none left)."""
    if deadline is None:
        return wall_seconds
    return max(0.0, min(deadline - time.perf_counter(), own_wall))


def _cut(result: RunResult, wall: float | None, own_wall: float) -> bool:
    """Whether the campaign's deadline, not the world's own wall budget, stopped the run."""
    return result.stopped == "wall" and wall is not None and wall < own_wall


class _Pool(Protocol):
    def submit(self, fn: Any, /, *args: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Submit:
    submit: Any


def _one(scenario: Scenario, seed: int, strategy: str, mutant: str | None, record: bool, max_steps: int | None,
         wall_seconds: float | None, level: int) -> tuple[RunResult, dict[str, Any] | None]:
    """One seed, wherever a pool runs it: its result, and its artifact's content if it failed (the artifact
    is written by the campaign's own process, so it comes back from a worker on another machine too)."""
    # as the command that started the campaign has it: the controller's log is not the campaign's output
    logging.getLogger("notifier").setLevel(level)
    if not record:
        return run(scenario, seed, strategy=strategy, mutant=mutant, max_steps=max_steps,
                   wall_seconds=wall_seconds), None
    with tempfile.TemporaryDirectory(prefix="notifier-sim-") as directory:
        result, artifact = run_recorded(scenario, seed, Path(directory), strategy=strategy, mutant=mutant,
                                        max_steps=max_steps, wall_seconds=wall_seconds)
        return result, None if artifact is None else artifact.data


def processes(jobs: int) -> ProcessPoolExecutor:
    """A pool of `jobs` fresh interpreters (spawned: never a fork of this one's threads, a progress bar's),
    whose controller log is as quiet as this process's."""
    return ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_quiet,
                               initargs=(logging.getLogger("notifier").level,))


def _quiet(level: int) -> None:
    logging.getLogger("notifier").setLevel(level)


@contextmanager
def _pool(jobs: int, engine: str, scheduler: str | None) -> Iterator[tuple[_Pool, int]]:
    """A pool that runs `_one`, and how many of its runs to keep under way."""
    if engine == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigFileError("--engine", 0, "", "dask needs Dask distributed: pip install 'notifier-sim[dask]'"
                                  ) from None
        cluster: Any = None
        if scheduler is None:
            # dashboard_address=None still binds the scheduler's HTTP routes to 8787 and warns when it is taken
            # (distributed/node.py, start_http_server: `dashboard_address or default_port`); a free port on the
            # loopback lets two campaigns, or a campaign beside a dashboard, start side by side
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0")
        try:
            client = Client(scheduler if cluster is None else cluster, timeout=10)  # type: ignore[no-untyped-call]
        except OSError as error:
            if cluster is not None:
                cluster.close()
            raise ConfigFileError("--scheduler", 0, "", f"cannot reach the Dask scheduler {scheduler}: {error}"
                                  ) from None
        with client:
            try:
                workers = max(1, sum(int(w.get("nthreads", 1)) for w in client.scheduler_info()["workers"].values()))
                # pure=False: a seed is handed out once, and its arguments need no hashing
                yield _Submit(partial(client.submit, pure=False)), 2 * workers
            finally:
                if cluster is not None:
                    cluster.close()
        return
    with processes(jobs) as executor:
        try:
            yield executor, 2 * jobs
        finally:
            executor.shutdown(wait=True, cancel_futures=True)


def _spread(scenario: Scenario, seeds: Iterable[int], *, strategy: str, mutant: str | None, failures: Path | None,
            max_steps: int | None, wall_seconds: float | None, deadline: float | None, jobs: int, engine: str,
            scheduler: str | None) -> Iterator[Outcome]:
    """`runs` over a pool: a few seeds ahead under way, outcomes yielded in the seeds' order, each failure's
    artifact started here before its seed is handed out (a campaign killed meanwhile leaves it, `running`)
    and finished from what the worker sent back."""
    own_wall = scenario.world.wall_seconds if wall_seconds is None else wall_seconds
    order = iter(seeds)
    with _pool(jobs, engine, scheduler) as (pool, ahead):
        under_way: deque[tuple[int, float | None, Artifact | None, Any]] = deque()

        def hand_out() -> bool:
            seed = next(order, None)
            if seed is None:
                return False
            wall = _wall(wall_seconds, own_wall, deadline)
            if wall == 0:
                return False
            started = None if failures is None else Artifact.start(failures, scenario, seed, strategy=strategy,
                                                                    mutant=mutant, tape=None)
            under_way.append((seed, wall, started, pool.submit(_one, scenario, seed, strategy, mutant,
                                                                failures is not None, max_steps, wall,
                                                                logging.getLogger("notifier").level)))
            return True

        while len(under_way) < ahead and hand_out():
            pass
        try:
            yield from _collect(under_way, hand_out, own_wall)
        finally:
            # the campaign stopped early (its first failure, a cut): what was handed out leaves no artifact
            for _, _, started, future in under_way:
                future.cancel()
                if started is not None:
                    started.path.unlink(missing_ok=True)


def _collect(under_way: deque[tuple[int, float | None, Artifact | None, Any]], hand_out: Callable[[], bool],
             own_wall: float) -> Iterator[Outcome]:
    """The outcomes of what is under way, in order, handing out one more seed as each comes back; a run the
    deadline cut is the last (what is still under way is dropped with it)."""
    while under_way:
        seed, wall, started, future = under_way.popleft()
        result, data = future.result()
        artifact = None
        if started is not None:
            if data is None or _cut(result, wall, own_wall):
                started.path.unlink(missing_ok=True)
            else:
                artifact = Artifact(started.path, data)
                artifact.flush()
        if _cut(result, wall, own_wall):
            yield Outcome(seed, result, None, cut=True)
            return
        yield Outcome(seed, result, artifact)
        hand_out()

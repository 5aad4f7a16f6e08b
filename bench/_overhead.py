"""Section 2: what one simulated scheduling point costs against a plain simpy event, measured side by side,
and where the rest of a run's time goes (a profile of the 3-replica scenario)."""

from __future__ import annotations

import cProfile
import gc
import pstats
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import simpy

from bench._common import ROOT, judge, median, scenario
from fakes.apiserver import ApiServer, FakeKubeApi
from harness import EPOCH, SimRuntime, run
from notifier import NOTIFICATIONS

TASKS = 10


def plain_simpy(per_task: int) -> float:
    """Seconds per event: simpy processes that each yield `timeout(0)` over and over."""
    env = simpy.Environment()

    def process() -> Generator[simpy.Event, Any, None]:
        for _ in range(per_task):
            yield env.timeout(0)

    for _ in range(TASKS):
        env.process(process())
    started = time.perf_counter()
    env.run()
    return (time.perf_counter() - started) / (TASKS * per_task)


def _timed(env: simpy.Environment, runtime: SimRuntime, step: Callable[[], Awaitable[object]],
           per_task: int) -> float:
    """Seconds per awaited `step`, over TASKS controller coroutines each awaiting it `per_task` times."""
    async def task() -> None:
        for _ in range(per_task):
            await step()

    for i in range(TASKS):
        runtime.spawn(task(), name=f"task-{i}")
    started = time.perf_counter()
    env.run()
    return (time.perf_counter() - started) / (TASKS * per_task)


def bridged(per_task: int) -> float:
    """Seconds per scheduling point: controller coroutines awaiting `Runtime.sleep(0)` through the bridge."""
    env = simpy.Environment()
    runtime = SimRuntime(env)
    return _timed(env, runtime, lambda: runtime.sleep(0), per_task)


def api_point(per_task: int) -> float:
    """Seconds per API scheduling point: a `get` of a NotificationRequest through the fake client, no faults."""
    env = simpy.Environment()
    runtime = SimRuntime(env)
    server = ApiServer(clock=lambda: EPOCH + env.now)
    server.create(NOTIFICATIONS, "default", {"metadata": {"name": "n"}, "spec": {
        "type": "Simple", "priority": "High", "subject": "s", "body": "b"}})
    api = FakeKubeApi(server, runtime)
    return _timed(env, runtime, lambda: api.get(NOTIFICATIONS, "default", "n"), per_task)


def _where(filename: str) -> str:
    if filename == "~":
        return "builtins"
    path = filename.replace(str(ROOT) + "/", "")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    if "/lib/python3" in path:
        return "stdlib/" + path.rsplit("/", 1)[-1]
    return path


def _enclosing(key: tuple[str, int, str], stats: dict[Any, Any]) -> tuple[str, int, str]:
    """A comprehension's own time belongs to the function it is written in (3.11 profiles it apart)."""
    file, line, name = key
    if not name.startswith(("<dictcomp>", "<listcomp>", "<setcomp>", "<genexpr>")):
        return key
    around = [k for k in stats if k[0] == file and k[1] <= line and not k[2].startswith("<")]
    return max(around, key=lambda k: k[1]) if around else key


def profile(seeds: int) -> dict[str, Any]:
    spec = scenario("three-replicas-all-faults")
    # The sections before this one leave worlds they kept for the collector; the first collection of the profiled
    # runs walked them all (23% of the profile after the throughput section's 500-notification worlds).
    gc.collect()
    profiler = cProfile.Profile()
    results = []
    profiler.enable()
    for seed in range(seeds):
        results.append(run(spec, seed, strategy="swarm"))
    profiler.disable()
    for result in results:
        judge(spec, result)
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    own: Counter[tuple[str, int, str]] = Counter()
    calls: Counter[tuple[str, int, str]] = Counter()
    for key, row in stats.items():
        own[_enclosing(key, stats)] += row[2]
        calls[key] += row[1]
    total = sum(own.values())
    top = [{"function": f"{_where(file)}:{line}({name})", "own_seconds": round(seconds, 3),
            "share": round(seconds / total, 3), "calls": calls[(file, line, name)]}
           for (file, line, name), seconds in own.most_common(10)]
    by_module: Counter[str] = Counter()
    for (file, _, _), seconds in own.items():
        by_module[_where(file)] += seconds
    modules = [{"module": module, "share": round(seconds / total, 3)} for module, seconds in by_module.most_common(8)]
    sides: dict[str, float] = defaultdict(float)
    memo: dict[Any, dict[str, float]] = {}
    for key, row in stats.items():
        for where, part in _side(key, stats, memo).items():
            sides[where] += row[2] * part
    return {"seeds": seeds, "profiled_seconds": round(total, 2), "top_functions": top, "top_modules": modules,
            "controller_share": round(sides["controller"] / total, 3),
            "outside_controller_share": round(1 - sides["controller"] / total, 3)}


def _owner(filename: str) -> str | None:
    """Whose code a file is: the controller's (`src/notifier`, but for the copy helper the fake server calls
    too), the harness's (the harness, the fakes, simpy), or neither (the standard library, other packages,
    builtins), whose time belongs to whoever called it."""
    path = _where(filename)
    if path.startswith("src/notifier/") and not path.endswith("/_resources.py"):
        return "controller"
    if path.startswith(("harness/", "fakes/", "bench/", "simpy/")):
        return "harness"
    return None


def _side(key: tuple[str, int, str], stats: dict[Any, Any], memo: dict[Any, dict[str, float]],
          depth: int = 0) -> dict[str, float]:
    """The share of a function's own time that is the controller's and the harness's: its own if the
    function is theirs, else its callers', split by the time spent through each call edge (a `dict.get`
    called by the controller's model and by the fake server's schema is split between the two)."""
    if key in memo:
        return memo[key]
    owner = _owner(key[0])
    if owner is not None:
        return {owner: 1.0}
    callers = stats[key][4]
    through = sum(edge[3] for edge in callers.values())
    out: dict[str, float] = defaultdict(float)
    if depth > 40 or through <= 0:
        out["harness"] = 1.0  # no caller to charge (the profiler's own frames): counted against the harness
    else:
        for caller, edge in callers.items():
            for where, part in _side(caller, stats, memo, depth + 1).items():
                out[where] += part * edge[3] / through
    memo[key] = out
    return out


def section(quick: bool = False) -> dict[str, Any]:
    per_task = 200 if quick else 20_000
    plain, bridge, api = [], [], []
    for _ in range(1 if quick else 5):  # interleaved, so that a busy moment hurts all three alike
        plain.append(plain_simpy(per_task))
        bridge.append(bridged(per_task))
        api.append(api_point(per_task // 4))
    point = {"plain_simpy_event_us": round(median(plain) * 1e6, 3),
             "scheduling_point_us": round(median(bridge) * 1e6, 3),
             "api_call_point_us": round(median(api) * 1e6, 3)}
    point["scheduling_point_over_simpy_event"] = round(median(bridge) / median(plain), 2)
    point["api_call_point_over_simpy_event"] = round(median(api) / median(plain), 2)
    return {**point, "profile": profile(1 if quick else 8),
            "goal": "a scheduling point at most 5x a plain simpy event"}

"""The pytest plugin of notifier-sim: the `sim` fixture, per-test seeds, many-seed tests, replay lines.

Light on import: only `pytest` at module level; the harness is imported inside hooks and fixtures. A test's
seed is `base + crc32(nodeid)` (plus the seed index under `sim_seeds`, whose `seedN` id is left out of the node
id first, so that parametrized variants get seeds of their own), so it does not depend on the xdist worker,
the test order or PYTHONHASHSEED. Every simulated run writes its failure artifact before it starts;
a failing test's report carries the seed and the replay command, and the artifact stays (also when pytest-
timeout kills the test); a passing test's artifacts are removed.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest

SEED_OPTION = "--sim-seed"
SEEDS_OPTION = "--sim-seeds"
STRATEGY_OPTION = "--sim-strategy"
BUDGET_OPTION = "--sim-budget"
REPLAY_OPTION = "--sim-replay"
REPORT_OPTION = "--sim-report-dir"
DEFAULT_SEED = 1729
MARKER = "sim_seeds"
_BASE_SEED = pytest.StashKey[int]()
_RUNS = pytest.StashKey[list[str]]()
_SPENT = pytest.StashKey[dict[str, float]]()


def _whole(option: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise pytest.UsageError(f"{option} takes a whole number, not {text!r}") from None
        if value < 0:
            raise pytest.UsageError(f"{option} takes a number of 0 or more, not {value!r}")
        return value
    return parse


def _seconds(text: str) -> float:
    try:
        from harness._check import parse_budget

        return parse_budget(text)
    except Exception:
        raise pytest.UsageError(f"{BUDGET_OPTION} takes a duration such as 30s or 2m, not {text!r}") from None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("notifier-sim", "deterministic simulation of the notifier controller")
    group.addoption(SEED_OPTION, type=_whole(SEED_OPTION), default=DEFAULT_SEED,
                    help="Base seed of every simulated world")
    group.addoption(SEEDS_OPTION, type=_whole(SEEDS_OPTION), default=None,
                    help="Seeds per test marked sim_seeds (default: the marker's own count)")
    group.addoption(STRATEGY_OPTION, choices=("random", "pct", "swarm"), default=None,
                    help="Exploration strategy for sim.run (default: the scenario's)")
    group.addoption(BUDGET_OPTION, type=_seconds, default=None,
                    help="Stop a sim_seeds test's further seeds once this much time is spent")
    group.addoption(REPLAY_OPTION, type=Path, default=None,
                    help="Run the selected test with the seed of this failure artifact")
    group.addoption(REPORT_OPTION, type=Path, default=Path("reports"),
                    help="Where failure artifacts go (default: reports/)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(n): run the test body once per seed, over n seeds")
    config.addinivalue_line("markers", "sim_demo_failure: a deliberately failing simulated test (deselected)")
    config.stash[_BASE_SEED] = config.getoption(SEED_OPTION)
    config.stash[_SPENT] = {}


def pytest_report_header(config: pytest.Config) -> str:
    return f"notifier-sim: {SEED_OPTION}={config.stash[_BASE_SEED]}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None or "sim" not in metafunc.fixturenames:
        return
    count = metafunc.config.getoption(SEEDS_OPTION) or (int(marker.args[0]) if marker.args else 1)
    metafunc.parametrize("sim", list(range(count)), indirect=True, ids=[f"seed{i}" for i in range(count)])


def base_id(nodeid: str, index: int = 0) -> str:
    """The node id without the `seed<index>` part that `sim_seeds` adds (other parameters stay)."""
    head, bracket, params = nodeid.partition("[")
    if not bracket or not params.endswith("]"):
        return nodeid
    parts = params[:-1].split("-")
    if f"seed{index}" in parts:
        parts.remove(f"seed{index}")
    return head + (f"[{'-'.join(parts)}]" if parts else "")


def test_seed(config: pytest.Config, nodeid: str, index: int = 0) -> int:
    """The seed of one test (and one of its sim_seeds indexes): base + crc32(node id without the index)."""
    return config.stash[_BASE_SEED] + zlib.crc32(base_id(nodeid, index).encode()) + index


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Any:
    """Isolated simulated worlds for this test: `sim.scenario(...)`, `sim.run(...)`, `sim.check(...)`."""
    import time

    from harness._simfixture import Sim

    index = int(getattr(request, "param", 0))
    config = request.config
    nodeid = request.node.nodeid
    seed = test_seed(config, nodeid, index)
    budget = config.getoption(BUDGET_OPTION)
    key = base_id(nodeid, index)
    spent = config.stash[_SPENT]
    # The first seed of a test to run always runs, whatever the order (pytest-randomly) or the worker.
    if budget is not None and key in spent and spent[key] >= budget:
        pytest.skip(f"{BUDGET_OPTION} of {budget:g}s spent on the earlier seeds of this test")
    started = time.perf_counter()
    replaying = _replaying(config)
    if replaying is not None:
        seed = int(replaying.data["seed"])
    runs: list[str] = []
    request.node.stash[_RUNS] = runs
    fixture = Sim(seed=seed, name=request.node.name, report_dir=config.getoption(REPORT_OPTION),
                  strategy=config.getoption(STRATEGY_OPTION), runs=runs, nodeid=nodeid, replaying=replaying)
    yield fixture
    spent[key] = spent.get(key, 0.0) + time.perf_counter() - started
    report = getattr(request.node, "_sim_call_report", None)
    if report is not None and report.passed and replaying is None:
        fixture.discard_artifacts()


def _replaying(config: pytest.Config) -> Any:
    """The artifact named by --sim-replay, loaded (a bad file is a usage error naming it), or None."""
    path = config.getoption(REPLAY_OPTION)
    if path is None:
        return None
    from harness._replay import Artifact
    from notifier import ConfigFileError

    try:
        return Artifact.load(Path(path))
    except ConfigFileError as error:
        raise pytest.UsageError(f"{REPLAY_OPTION}: {error}") from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item._sim_call_report = report  # type: ignore[attr-defined]
        runs = item.stash.get(_RUNS, [])
        if report.failed and runs:
            report.sections.append(("notifier-sim", "\n".join(runs)))
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """List every failed test's replay commands (read from the reports, so it works under xdist too)."""
    replays = [f"{report.nodeid}: {line.split('; replay: ', 1)[1]}"
               for report in terminalreporter.stats.get("failed", [])
               for title, text in getattr(report, "sections", []) if title == "notifier-sim"
               for line in text.splitlines() if "; replay: " in line]
    if replays:
        terminalreporter.section("notifier-sim replay commands")
        for line in replays:
            terminalreporter.write_line(line)

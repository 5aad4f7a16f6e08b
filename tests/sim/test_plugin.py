"""The pytest plugin, driven as a user drives it: seeds, xdist, the replay line, and replaying it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = "tests/sim/catalogue/test_demo_failure.py"


def pytest_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "NOTIFIER_SIM"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                           "-c", str(ROOT / "pyproject.toml"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_demo_failure_is_deselected_by_default(tmp_path: Path) -> None:
    done = pytest_run(str(ROOT / DEMO), cwd=tmp_path)
    assert done.returncode == 5 and "1 deselected" in done.stdout


@pytest.mark.parametrize("workers", ["0", "2", "4"])
def test_a_failing_sim_test_prints_one_replay_line_with_a_stable_seed(tmp_path: Path, workers: str) -> None:
    done = pytest_run(str(ROOT / DEMO), "-m", "sim_demo_failure", "-n", workers, "--sim-report-dir",
                      str(tmp_path / "reports"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    replays = re.findall(r"^seed (\d+); replay: notifier-sim replay (\S+)$", done.stdout, re.MULTILINE)
    assert len(replays) == 1
    seed, artifact = replays[0]
    expected = 1729 + __import__("zlib").crc32(
        b"tests/sim/catalogue/test_demo_failure.py::test_status_triggered_reconciles_bypass_the_backoff")
    assert int(seed) == expected
    assert "notifier-sim replay commands" in done.stdout
    recorded = json.loads(Path(artifact).read_text())
    replay = subprocess.run([sys.executable, "-m", "harness.cli", "replay", artifact], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert replay.returncode == 1
    assert f"same trace hash {recorded['trace_hash']}" in replay.stdout
    assert "retry-policy-respected" in replay.stdout


def test_sim_seeds_marker_runs_the_body_over_distinct_seeds(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_many="""
        import pytest
        SEEN = []

        @pytest.mark.sim_seeds(4)
        def test_body(sim):
            SEEN.append(sim.seed)
            assert len(set(SEEN)) == len(SEEN)
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_body?seed0? PASSED*", "*test_body?seed3? PASSED*"])


def test_header_names_the_base_seed_and_a_bad_seed_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider", "--sim-seed", "42")
    result.stdout.fnmatch_lines(["notifier-sim: --sim-seed=42"])
    bad = pytester.runpytest("-p", "no:cacheprovider", "--sim-seed", "soon")
    assert bad.ret != 0
    bad.stderr.fnmatch_lines(["*--sim-seed takes a whole number, not 'soon'*"])


def test_a_test_killed_by_a_timeout_leaves_its_replay_artifact(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_slow="""
        import pytest, time

        @pytest.mark.timeout(2)
        def test_slow(sim):
            scenario = sim.scenario(channels={"c": ["console"]}, notifications=[{"name": "a", "channels": "c"}])
            sim.run(scenario, prepare=lambda world: time.sleep(30))
    """)
    # In a subprocess: the killed world's coroutines die with it instead of being collected in this process.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sim-report-dir",
                                           str(pytester.path / "reports"))
    result.assert_outcomes(failed=1)
    (artifact,) = list((pytester.path / "reports" / "failures").glob("*.json"))
    data = json.loads(artifact.read_text())
    assert data["state"] == "running" and data["seed"] > 0
    # The test scripts client actions (prepare), which the artifact cannot hold: it replays through the test.
    line = f"*seed {data['seed']}; replay: pytest test_slow.py::test_slow --sim-replay *{artifact.name}"
    result.stdout.fnmatch_lines([line])
    assert data["test"] == "test_slow.py::test_slow"


def test_sim_budget_stops_further_seeds_once_spent(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_many="""
        import time, pytest

        @pytest.mark.sim_seeds(5)
        def test_body(sim):
            time.sleep(0.5)
    """)
    # Two seeds spend 1 s, over the 0.75 s budget; one spends 0.5 s plus its overhead, under it on a loaded machine.
    result = pytester.runpytest("-p", "no:cacheprovider", "--sim-budget", "0.75s")
    result.assert_outcomes(passed=2, skipped=3)


def test_parametrized_variants_get_seeds_and_artifacts_of_their_own(pytester: pytest.Pytester) -> None:
    """Under `sim_seeds` and `parametrize`, no two variants share a seed or an artifact, in parallel too: a
    passing variant never deletes a failing one's artifact."""
    pytester.makepyfile(test_variants="""
        import json, pytest

        @pytest.mark.sim_seeds(3)
        @pytest.mark.parametrize("kind", ["ok", "fail"])
        def test_body(sim, kind):
            scenario = sim.scenario(channels={"c": ["console"]}, notifications=[{"name": "a", "channels": "c"}])
            sim.run(scenario)
            print("SEED", kind, sim.seed)
            assert kind == "ok"
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-n", "2", "--sim-seed", "42", "-rA",
                                "--sim-report-dir", str(pytester.path / "reports"))
    result.assert_outcomes(passed=3, failed=3)
    seeds = re.findall(r"^SEED (\w+) (\d+)$", result.stdout.str(), re.MULTILINE)
    assert len(seeds) == 6 and len({seed for _, seed in seeds}) == 6
    kept = sorted(p.name for p in (pytester.path / "reports" / "failures").glob("*.json"))
    assert len(kept) == 3  # each failing variant's own artifact, none deleted by a passing one
    replays = re.findall(r"replay: notifier-sim replay (\S+)$", result.stdout.str(), re.MULTILINE)
    assert sorted(Path(line).name for line in set(replays)) == kept


def test_a_failing_test_with_prepare_replays_from_the_line_it_prints(pytester: pytest.Pytester) -> None:
    """Client actions scripted in the test are not in the artifact: the printed line re-runs the test, which
    replays the artifact's seed and strategy and reports the same trace hash and the same violation."""
    pytester.makepyfile(test_prepared="""
        def test_labelled_then_failing(sim):
            from notifier import NOTIFICATIONS

            scenario = sim.scenario(channels={"c": ["slack"]},
                                    backends={"slack:c": {"default": 503}},
                                    notifications=[{"name": "a", "channels": "c",
                                                    "retryPolicy": {"maxAttempts": 2, "initialBackoffSeconds": 1,
                                                                    "backoffMultiplier": 2,
                                                                    "maxBackoffSeconds": 60}}],
                                    expect=[{"name": "a", "phase": "Sent"}])

            def prepare(world):
                async def touch():
                    await world.client_api.patch(NOTIFICATIONS, "default", "a",
                                                 {"metadata": {"labels": {"touched": "yes"}}})
                world.at(0.5, touch, name="touch")
            sim.check(sim.run(scenario, prepare=prepare))
    """)
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sim-report-dir",
                                          str(pytester.path / "reports"))
    first.assert_outcomes(failed=1)
    (line,) = re.findall(r"^seed \d+; replay: (pytest .+)$", first.stdout.str(), re.MULTILINE)[:1]
    assert line.startswith("pytest test_prepared.py::test_labelled_then_failing --sim-replay ")
    artifact = Path(line.rsplit(" ", 1)[1])
    recorded = json.loads(artifact.read_text())
    assert recorded["violations"][0]["invariant"] == "expected-outcome"
    plain = subprocess.run([sys.executable, "-m", "harness.cli", "replay", str(artifact)], capture_output=True,
                           text=True, timeout=60, check=False)
    assert plain.returncode == 2 and "pytest test_prepared.py::test_labelled_then_failing --sim-replay" in plain.stderr
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sim-report-dir",
                                          str(pytester.path / "reports"), *line.split()[1:])
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines([f"*replayed {artifact}: same trace hash {recorded['trace_hash']}*"])
    again.stdout.fnmatch_lines(["*expected-outcome: a*phase is 'Failed', expected 'Sent'*"])

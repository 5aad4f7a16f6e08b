"""A controller that loops, even in zero virtual time, ends its world as `no-progress`, never as a hang; what
it leaves behind is small and replays."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import simpy

from harness._bridge import Budget, SimRuntime
from harness._replay import TRACE_KEEP, Artifact, replay, run_recorded
from harness._run import run
from harness._scenario import bundled_dir, load_scenario

SLACK_RETRIES = load_scenario(bundled_dir() / "slack-retries.yaml")


def test_a_budget_stops_the_environment_at_its_step_count() -> None:
    env = simpy.Environment()
    budget = Budget(env, max_steps=10_000)
    runtime = SimRuntime(env, budget=budget)

    async def spin() -> None:
        while True:
            await runtime.sleep(0)
    runtime.spawn(spin(), name="spin")
    env.run(until=1.0)
    assert (budget.exceeded, budget.stopped_at, env.now) == ("steps", 10_000, 0.0)


def test_a_zero_virtual_time_loop_ends_as_no_progress_naming_the_busiest_actor_and_key() -> None:
    result = run(SLACK_RETRIES, 0, mutant="touch-every-reconcile", max_steps=20_000)
    assert result.stopped == "steps" and result.virtual_time == 0.0
    assert [v.invariant for v in result.violations] == ["no-progress"]
    message = result.violations[0].message
    assert "step budget: 20,000 steps by virtual time 0.000000 s" in message
    assert "replica-0 default/flaky" in message and result.violations[0].notification == "flaky"


def test_the_wall_budget_stops_a_loop_and_the_artifact_replays_it_to_the_same_step(tmp_path: Path) -> None:
    began = time.perf_counter()
    result, artifact = run_recorded(SLACK_RETRIES, 0, tmp_path, mutant="touch-every-reconcile",
                                    max_steps=10**9, wall_seconds=1.0)
    assert time.perf_counter() - began < 20
    assert result.stopped == "wall" and [v.invariant for v in result.violations] == ["no-progress"]
    assert artifact is not None and "wall budget" in result.violations[0].message
    replayed = replay(Artifact.load(artifact.path))
    assert replayed.same and replayed.result.trace_hash == result.trace_hash


def test_a_run_that_requeues_every_millisecond_leaves_a_small_artifact_that_replays(tmp_path: Path) -> None:
    result, artifact = run_recorded(SLACK_RETRIES, 0, tmp_path, mutant="requeue-every-millisecond",
                                    max_steps=40_000)
    assert artifact is not None and result.stopped == "steps"
    assert artifact.path.stat().st_size < 5_000_000
    loaded = Artifact.load(artifact.path)
    assert len(loaded.data["trace"]) == 2 * TRACE_KEEP and loaded.data["trace_elided"] > 0
    replayed = replay(loaded)
    assert replayed.same and [v.invariant for v in replayed.result.violations] == ["no-progress"]


def test_a_replay_names_the_first_divergent_step_even_past_the_kept_head(tmp_path: Path) -> None:
    _, artifact = run_recorded(SLACK_RETRIES, 0, tmp_path, mutant="requeue-every-millisecond", max_steps=40_000)
    assert artifact is not None
    loaded = Artifact.load(artifact.path)
    loaded.data["trace_hash"] = "0" * 32
    kept = loaded.data["trace"]
    kept[-1] = kept[-1].replace('"world.no-progress"', '"world.edited"')
    replayed = replay(loaded)
    assert not replayed.same and replayed.divergence is not None
    assert replayed.divergence.startswith(f"step {loaded.data['trace_steps'] - 1}:")


@pytest.mark.timeout(90)
def test_check_with_a_looping_controller_ends_within_its_budget_and_fails(tmp_path: Path) -> None:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness.cli", "check", "--budget", "5s", "--mutant",
                           "touch-every-reconcile", "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=80)
    assert done.returncode == 1, done.stdout + done.stderr
    assert time.perf_counter() - began < 5 + 25  # the budget, plus the interpreter's start and the shutdown
    assert "the gate FAILED" in done.stdout and "Traceback" not in done.stderr

"""Failure artifacts replay bit for bit, survive a killed run, and shrink to a regression test that works."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness._replay import Artifact, replay, run_recorded
from harness._run import run
from harness._scenario import bundled_dir, load_scenario
from harness._shrink import shrink
from harness.mutants import MUTANTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_zoo_failure_replays_with_the_same_trace_hash(tmp_path: Path, name: str) -> None:
    from harness._zoo import hunt

    found = hunt(name, 60)
    assert found.caught and found.seed is not None
    mutant = MUTANTS[name]
    scenario = load_scenario(bundled_dir() / f"{mutant.scenario}.yaml")
    result, artifact = run_recorded(scenario, found.seed, tmp_path, mutant=name,
                                    strategy=scenario.campaign.strategy)
    assert artifact is not None and result.violations
    replayed = replay(Artifact.load(artifact.path))
    assert replayed.same and replayed.result.trace_hash == result.trace_hash
    assert [v.invariant for v in replayed.result.violations] == [v.invariant for v in result.violations]


def test_a_run_killed_by_a_timeout_leaves_an_artifact_replay_accepts(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path\n"
        "from harness._replay import Artifact\n"
        "from harness._scenario import bundled_dir, load_scenario\n"
        "s = load_scenario(bundled_dir() / 'all-faults-three-replicas.yaml')\n"
        f"Artifact.start(Path({str(tmp_path)!r}), s, 42, strategy='swarm', mutant=None)\n"
        "print('started', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    (path,) = list(tmp_path.glob("*.json"))
    artifact = Artifact.load(path)
    assert artifact.data["state"] == "running" and artifact.data["seed"] == 42
    replayed = replay(artifact)
    assert replayed.same and replayed.result.seed == 42


def test_replay_names_the_first_divergent_step(tmp_path: Path) -> None:
    scenario = load_scenario(bundled_dir() / "slack-retries.yaml")
    _, artifact = run_recorded(scenario, 0, tmp_path, mutant="no-backoff-gate")
    assert artifact is not None
    data = json.loads(artifact.path.read_text())
    data["trace"][5] = "[5, 0.0, \"nobody\", \"tampered\", {}]"
    data["trace_hash"] = "0" * 32
    artifact.path.write_text(json.dumps(data))
    replayed = replay(Artifact.load(artifact.path))
    assert not replayed.same and replayed.divergence is not None and replayed.divergence.startswith("step 5: ")


@pytest.mark.parametrize("name", ["no-lease", "max-attempts-without-reservation", "no-backoff-gate"])
def test_shrink_makes_it_smaller_and_the_emitted_test_fails_only_on_the_mutant(tmp_path: Path, name: str) -> None:
    from harness._zoo import hunt

    mutant = MUTANTS[name]
    scenario = load_scenario(bundled_dir() / f"{mutant.scenario}.yaml")
    found = hunt(name, 60)
    assert found.seed is not None
    _, artifact = run_recorded(scenario, found.seed, tmp_path / "failures", mutant=name,
                               strategy=scenario.campaign.strategy)
    assert artifact is not None
    done = shrink(artifact, tmp_path / "regressions")
    assert done.after["choices"] <= done.before["choices"]
    assert sum(done.after.values()) < sum(done.before.values())

    def pytest_on(test: Path, mutant_name: str | None) -> int:
        env = {k: v for k, v in os.environ.items() if k != "NOTIFIER_SIM_MUTANT"}
        if mutant_name:
            env["NOTIFIER_SIM_MUTANT"] = mutant_name
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                               cwd=ROOT, env=env, capture_output=True, check=False).returncode

    assert pytest_on(done.test_path, None) == 0
    assert pytest_on(done.test_path, name) == 1


def test_replay_of_a_file_that_is_not_an_artifact_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    assert main(["replay", str(bogus)]) == 2
    assert capsys.readouterr().err.strip() == f"notifier-sim: {bogus}: format: not a format-2 failure artifact"


def test_zoo_json_catches_every_mutant(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    started = time.perf_counter()
    assert main(["zoo", "--json", "--seeds", "60"]) == 0
    rows = json.loads(capsys.readouterr().out)["mutants"]
    assert len(rows) >= 12 and all(row["caught"] for row in rows)
    assert {tuple(sorted(row)) for row in rows} == {("caught", "invariant", "name", "seconds", "seeds")}
    assert time.perf_counter() - started < 120


def test_a_random_runs_failure_shrinks_to_a_few_explicit_firings_and_no_other_choice(tmp_path: Path) -> None:
    """The lock bug of 2026-11 (its mutant), found by random at seed 50 of paused-past-lease: its faults become
    explicit firings at named sites and its other choices named draws, exactly; then ddmin takes out every
    firing, notification and choice the failure does not need. The test it writes names each firing."""
    scenario = load_scenario(bundled_dir() / "paused-past-lease.yaml")
    _, artifact = run_recorded(scenario, 50, tmp_path / "failures", mutant="lease-observed-before-read")
    assert artifact is not None and artifact.data["fired"]
    done = shrink(artifact, tmp_path / "regressions")
    assert done.after["choices"] == 0 and done.after["notifications"] == 1 and done.after["replicas"] == 2
    assert 0 < done.after["faults fired"] < done.before["faults fired"] == len(artifact.data["fired"])
    assert len(done.firings) == done.after["faults fired"]
    assert any("api.get leases" in firing and "replica.pause" in firing for firing in done.firings)
    text = done.test_path.read_text()
    assert "TAPE" not in text and "CHOICES" not in text and "FIRED = [" in text and "replica.pause" in text
    again = shrink(artifact, tmp_path / "again")
    assert again.firings == done.firings and again.test_path.read_text() == text  # byte for byte
    # the story: what fired when, then what broke; the test says the race, the mutant, and what it proves
    assert done.story[-1].split("s  ", 1)[1].startswith("lock-safety broke:")
    assert any("replica.pause at=api.get seconds=" in line for line in done.story)
    assert done.test_path.name == "test_lock_safety_paused_past_lease_50.py"
    assert "mutant `lease-observed-before-read`" in text and "The race, as the shrunk run tells it:" in text
    assert done.story[0].strip() in text


def test_drawn_client_traffic_is_scripted_when_a_failure_shrinks_to_firings(tmp_path: Path) -> None:
    """A bug that needs a client's re-creation and a stale cache: the actions the run drew become scripted ones,
    the faults named firings, and ddmin keeps the few of each that the failure needs."""
    scenario = load_scenario(bundled_dir() / "recreate-across-relist.yaml")
    seed = next(s for s in range(40) if not run_recorded(scenario, s, tmp_path / "probe",
                                                         mutant="reconcile-other-uid")[0].ok)
    _, artifact = run_recorded(scenario, seed, tmp_path / "failures", mutant="reconcile-other-uid")
    assert artifact is not None and artifact.data["traffic"]
    done = shrink(artifact, tmp_path / "regressions")
    assert 0 < done.after["faults fired"] < done.before["faults fired"]
    assert done.scenario.clients is None and done.scenario.traffic
    assert done.after["replicas"] <= done.before["replicas"]


def test_replay_tells_what_happened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    scenario = load_scenario(bundled_dir() / "paused-past-lease.yaml")
    _, artifact = run_recorded(scenario, 50, tmp_path, mutant="lease-observed-before-read")
    assert artifact is not None
    assert main(["replay", str(artifact.path)]) == 1
    out = capsys.readouterr().out
    assert "what happened" in out and "replica.pause at=api.get seconds=" in out
    assert out.rstrip().splitlines()[-1].split("s  ", 1)[1].startswith("lock-safety broke:")


@pytest.mark.parametrize("strategy", ["random", "pct", "swarm"])
def test_any_run_converts_exactly_into_its_script(strategy: str) -> None:
    """A run's faults as firings at named sites (with each delay's seconds, through JSON), its drawn client
    actions as scripted ones and its other draws by name replay the same trace, under every strategy: what
    the shrinker starts from is the failure itself."""
    from harness._shrink import case_of

    scenario = load_scenario(bundled_dir() / "all-faults-three-replicas.yaml")
    for seed in range(4):
        original = run(scenario, seed, strategy=strategy)
        original.fired = json.loads(json.dumps(original.fired))  # as an artifact holds them
        case = case_of(scenario, original, "pct" if strategy == "pct" else "sites", seed)
        again = run(case.scenario, case.seed, strategy=case.strategy, firings=case.firings, durations=case.durations,
                    script=case.script)
        assert again.trace_hash == original.trace_hash, (strategy, seed)


def test_a_race_timed_by_other_notifications_shrinks_to_its_own_world(tmp_path: Path) -> None:
    """A failure of the lock bug that pct finds on the 3-replica all-faults scenario (seed 731, the second in
    1,500 seeds; the first, 430, shrinks alike in twice the time): the claimant is frozen during its Lease GET,
    and the timing that let it take the Lease over came from faults at other notifications' await points. The
    shrinker keeps that timing in the violation's own world (one notification, the two replicas the violation
    names) by a pause at the passage the freeze held back; matching each passage with a latency alone, such
    failures ended at 4 notifications, 3 replicas and 8 firings."""
    scenario = load_scenario(bundled_dir() / "all-faults-three-replicas.yaml")
    _, artifact = run_recorded(scenario, 731, tmp_path / "failures", strategy="pct",
                               mutant="lease-observed-before-read")
    assert artifact is not None
    done = shrink(artifact, tmp_path / "regressions")
    assert (done.after["notifications"], done.after["replicas"], done.after["workers"]) == (1, 2, 1)
    assert done.after["faults fired"] <= 4 and done.after["choices"] == 0
    # the claimant frozen during its Lease GET
    assert any(" api.get leases " in firing and firing.endswith("replica.pause") for firing in done.firings)
    text = done.test_path.read_text()
    assert len(text.splitlines()) < 60 and "TAPE" not in text
    # the emitted test: run as its own module, it fails with the mutant and passes without it
    namespace: dict[str, Any] = {}
    exec(compile(text, str(done.test_path), "exec"), namespace)  # the file the shrink just wrote
    test = namespace[done.test_path.stem]
    test()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NOTIFIER_SIM_MUTANT", "lease-observed-before-read")
        with pytest.raises(AssertionError, match=r"went from replica-\d to replica-\d"):
            test()

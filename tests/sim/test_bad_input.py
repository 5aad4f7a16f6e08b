"""What a user types gets a clear answer: a bad value is exit 2 with one line naming it, never a traceback; a
replay that does not reproduce its run is exit 3 (the determinism exit), naming the first divergent step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness._replay import run_recorded
from harness._scenario import bundled_dir, load_scenario
from harness.cli import main


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(("argv", "named"), [
    (["--seeds", "0"], "--seeds takes a number of 1 or more, not 0"),
    (["--seeds", "-5"], "--seeds takes a number of 1 or more, not -5"),
    (["--seed", "-1"], "--seed takes a number of 0 or more, not -1"),
    (["--seed", "soon"], "--seed takes a whole number, not 'soon'"),
    (["--strategy", "sideways"], "invalid choice: 'sideways'"),
    (["--max-steps", "0"], "--max-steps takes a number of 1 or more, not 0"),
    (["--max-wall", "forever"], "--max-wall takes a duration such as 30s, 2m or 90, not 'forever'"),
    (["--mutant", "no-such-bug"], "unknown mutant 'no-such-bug'"),
])
def test_a_bad_run_argument_is_one_line_and_exit_2(argv: list[str], named: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "two-replicas-lease", *argv]) == 2
    assert named in one_line_error(capsys)


def test_an_unknown_scenario_name_lists_the_bundled_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "two-replicas-leese"]) == 2
    line = one_line_error(capsys)
    assert "no bundled scenario of that name" in line and "two-replicas-lease" in line


def test_a_scenario_without_channels_names_its_file_line_and_field(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bare.yaml"
    path.write_text("name: bare\nnotifications: [{name: a}]\n")
    assert main(["run", str(path), "--seeds", "1"]) == 2
    line = one_line_error(capsys)
    assert line.startswith(f"notifier-sim: {path}:1: channels: a scenario needs at least one channel set")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A real artifact of a run with many choices (kept although it passed), as JSON to edit."""
    scenario = load_scenario(bundled_dir() / "all-faults-three-replicas.yaml")
    _, kept = run_recorded(scenario, 3, tmp_path_factory.mktemp("artifact"), strategy="swarm", keep_passing=True)
    assert kept is not None
    data: dict = json.loads(kept.path.read_text())
    assert len(data["tape"]) > 50
    return data


def edited(tmp_path: Path, data: dict, **changes: object) -> Path:
    copy = {**data, **changes}
    for key, value in changes.items():
        if value is None:
            del copy[key]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(copy))
    return path


def test_the_unedited_artifact_replays(tmp_path: Path, artifact: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(edited(tmp_path, artifact))]) == 0
    assert f"same trace hash {artifact['trace_hash']}" in capsys.readouterr().out


def test_a_tape_whose_numbers_were_edited_diverges_with_exit_3(tmp_path: Path, artifact: dict,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    tape = [0 if value else 7 for value in artifact["tape"]]
    assert main(["replay", str(edited(tmp_path, artifact, tape=tape))]) == 3
    line = one_line_error(capsys)
    assert "the replay diverged" in line and "first divergent step " in line


@pytest.mark.parametrize(("changes", "named"), [
    ({"tape": ["seven"]}, "tape[0]: a tape holds whole numbers of 0 or more, not 'seven'"),
    ({"tape": "1,2,3"}, "tape: not a tape"),
    ({"scenario": None}, "scenario: missing"),
    ({"mutant": None}, "mutant: missing"),
    ({"mutant": "no-such-bug"}, "mutant: unknown mutant 'no-such-bug'"),
    ({"seed": "seven"}, "seed: must be a whole number of 0 or more, not 'seven'"),
    ({"strategy": "sideways"}, "strategy: unknown strategy 'sideways'"),
    ({"format": 99}, "format: not a format-2 failure artifact"),
    ({"format": 1}, "format: a format-1 artifact, from an older notifier-sim"),
])
def test_a_damaged_artifact_is_one_line_naming_the_field_and_exit_2(tmp_path: Path, artifact: dict,
                                                                    changes: dict, named: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(edited(tmp_path, artifact, **changes))]) == 2
    assert named in one_line_error(capsys)


def test_a_damaged_scenario_in_an_artifact_names_its_field(tmp_path: Path, artifact: dict,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    scenario = {**artifact["scenario"], "world": {**artifact["scenario"]["world"], "replicas": 0}}
    assert main(["replay", str(edited(tmp_path, artifact, scenario=scenario))]) == 2
    assert "scenario.world.replicas: Input should be greater than or equal to 1" in one_line_error(capsys)


@pytest.mark.parametrize(("argv", "named"), [
    (["missing.yaml"], "missing.yaml: cannot read the file"),
    (["DUMP", "--symptom", "slowness"], "unknown symptom 'slowness'"),
    (["DUMP", "--symptom", "duplicate-delivery", "--notification", "nope"], "no NotificationRequest 'nope'"),
    (["DUMP", "--notification", "nope"], "no NotificationRequest 'nope' in the dump (it shows disk-full)"),
    (["DUMP", "--channel", "slack:nowhere"], "no channel 'slack:nowhere' in the dump"),
    (["DUMP", "--at", "yesterday"], "--at takes an RFC 3339 time"),
    (["DUMP", "--namespace", "prod"], "no NotificationRequest in the dump in namespace 'prod'"),
    (["DUMP", "--budget", "0"], "reproduce: --budget takes a duration above zero"),  # named once
    (["DUMP", "-j", "0"], "reproduce: --jobs takes a number of 1 or more, not 0"),
    (["DUMP", "--mutant", "no-such-bug"], "unknown mutant 'no-such-bug'"),
])
def test_a_bad_reproduce_argument_is_one_line_and_exit_2(argv: list[str], named: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "dump.yaml"
    dump.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
         "metadata": {"name": "disk-full", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
         "spec": {"type": "Simple", "priority": "High", "subject": "s", "body": "b"}, "status": {"phase": "Sent"}}]}))
    args = [str(dump) if a == "DUMP" else str(tmp_path / a) if a == "missing.yaml" else a for a in argv]
    assert main(["reproduce", *args, "--out", str(tmp_path / "out")]) == 2
    assert named in one_line_error(capsys)

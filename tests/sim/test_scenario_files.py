"""Scenario files are validated on load: a bad file exits 2 naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness._scenario import bundled, load_scenario
from harness.cli import main

GOOD = """\
name: ok
channels:
  slack-only: [slack]
notifications:
  - {name: alert, channels: slack-only}
"""

BAD = [
    ("bad-yaml", "name: ok\nnotifications: [\n", 3, "", "not valid YAML"),
    ("unknown-fault", GOOD + "faults:\n  api.teleport: {probability: 0.5}\n", 6, "faults",
     "unknown fault 'api.teleport'"),
    ("wrong-type", GOOD.replace("name: ok\n", "name: ok\nworld: {replicas: two}\n"), 2, "world.replicas",
     "valid integer"),
    ("missing-field", "name: ok\nchannels: {c: [console]}\n", 1, "notifications", "required field is missing"),
    ("negative-count", GOOD.replace("{name: alert, channels: slack-only}",
                                    "{name: alert, channels: slack-only, count: -3}"), 5, "notifications[0].count",
     "greater than or equal to 1"),
    ("unknown-invariant", GOOD + "invariants: [no-duplicate-delivery, no-typos]\n", 6, "invariants",
     "unknown invariant 'no-typos'"),
    ("unknown-field", GOOD + "replicas: 3\n", 6, "replicas", "unknown field"),
    ("probability-above-one", GOOD + "faults:\n  watch.delay: {probability: 1.5}\n", 7,
     "faults.watch.delay.probability", "less than or equal to 1"),
    ("undefined-channel-set", GOOD.replace("channels: slack-only}", "channels: pager}"), 1, "",
     "uses channel set 'pager', which is not defined"),
    ("bad-lock", GOOD.replace("name: ok\n", "name: ok\nworld: {lock: mutex}\n"), 2, "world.lock", "'lease' or 'none'"),
    ("bad-status-code", GOOD + "backends:\n  slack:slack-only: {default: 700}\n", 7,
     "backends.slack:slack-only.default", "less than or equal to 599"),
    ("bad-name", GOOD.replace("name: ok", "name: Not_OK"), 1, "name", "should match pattern"),
    ("empty-file", "", 1, "", "the file is empty"),
    ("unknown-backend", GOOD + "backends:\n  teams:slack-only: {default: 200}\n", 1, "",
     "backend 'teams:slack-only' matches no credentialed channel"),
]


@pytest.mark.parametrize(("case", "text", "line", "field", "problem"), BAD, ids=[b[0] for b in BAD])
def test_malformed_scenario_exits_2_naming_file_line_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, text: str, line: int, field: str,
        problem: str) -> None:
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    assert main(["run", str(path), "--seed", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"notifier-sim: {path}:{line}: "), err
    if field:
        assert f": {field}: " in err, err
    assert problem in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_a_good_file_loads() -> None:
    assert [n.names() for n in load_scenario_text(GOOD).notifications] == [["alert"]]


def load_scenario_text(text: str) -> object:
    from harness._scenario import Scenario
    from notifier._yamlload import load_model

    return load_model(text, Scenario, "inline.yaml")


def test_every_bundled_scenario_loads_and_there_are_at_least_12() -> None:
    names = [load_scenario(path).name for path in bundled()]
    assert len(names) >= 12 and names == [path.stem for path in bundled()]

"""The project as a wheel, installed apart from the checkout, run in an empty directory: the bundled scenarios
come with it, and a command that finds nothing to run never reports success."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import bundled

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from this checkout and installed (without its dependencies, which this environment
    has) into a directory of its own."""
    wheels = tmp_path_factory.mktemp("wheels")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels),
                            str(ROOT)], capture_output=True, text=True, timeout=240, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    site = tmp_path_factory.mktemp("site")
    wheel = next(wheels.glob("notifier_sim-*.whl"))
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                           str(wheel)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return site


#: `notifier-sim`, saying first which harness it imported.
ENTRY = "import sys, harness.cli; print(harness.cli.__file__, file=sys.stderr); sys.exit(harness.cli.main())"


def sim(site: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}  # before the checkout's editable install on the path
    return subprocess.run([sys.executable, "-c", ENTRY, *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240, check=False)


@pytest.mark.timeout(300)
def test_an_installed_wheel_lists_and_runs_its_bundled_scenarios_anywhere(installed: Path, tmp_path: Path) -> None:
    listed = sim(installed, tmp_path, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.startswith(str(installed))  # the wheel's harness, not the checkout's
    names = json.loads(listed.stdout)["scenarios"]
    assert len(names) == len(bundled()) >= 14 and "two-replicas-lease" in names
    one = sim(installed, tmp_path, "run", "two-replicas-lease", "--seeds", "3")
    assert one.returncode == 0, one.stdout + one.stderr
    assert "all invariants held over 3 runs" in one.stdout
    every = sim(installed, tmp_path, "run", "--seeds", "1", "--no-self-check")
    assert every.returncode == 0, every.stdout + every.stderr
    count = len(bundled())
    assert f"{count} scenario(s) x 1 seed(s)" in every.stdout
    assert f"all invariants held over {count} runs" in every.stdout


@pytest.mark.timeout(300)
def test_a_wheel_without_its_scenarios_refuses_to_report_green(installed: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run(["cp", "-r", str(installed), str(bare)], check=True)
    for shipped in (bare / "harness" / "scenarios").glob("*.yaml"):
        shipped.unlink()
    (bare / "harness" / "scenarios").rmdir()
    done = sim(bare, tmp_path, "run")
    assert done.returncode == 2 and "nothing to run" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "reports" / "summary.json").exists()

"""Long commands draw progress on a terminal, on stderr only; piped or under CI their output is plain."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest


def run_with_terminal_stderr(tmp_path: Path, *, ci: bool) -> tuple[str, str]:
    """`notifier-sim run` with stderr on a pseudo-terminal and stdout on a pipe."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"TERM": "xterm", **({"CI": "true"} if ci else {})}
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "two-replicas-lease", "--seeds", "30",
                           "--no-self-check"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=secondary,
                          text=True, timeout=120, check=False)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal is closed once everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert done.returncode == 0
    return done.stdout, b"".join(chunks).decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_terminal_sees_a_progress_bar_and_stdout_stays_plain(tmp_path: Path) -> None:
    stdout, terminal = run_with_terminal_stderr(tmp_path, ci=False)
    assert "two-replicas-lease (swarm)" in terminal and "30/30" in terminal
    assert "\x1b" not in stdout and "all invariants held over 30 runs" in stdout


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_under_ci_a_terminal_sees_no_progress_bar(tmp_path: Path) -> None:
    stdout, terminal = run_with_terminal_stderr(tmp_path, ci=True)
    assert "30/30" not in terminal and "\x1b" not in terminal
    assert "all invariants held over 30 runs" in stdout

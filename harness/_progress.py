"""Progress of long commands: a rich progress bar on a terminal, nothing at all otherwise.

The bar goes to stderr and vanishes when the work is done, so what a command prints on stdout is the same on a
terminal, in a pipe and under CI (where `CI` is set, as GitHub Actions, GitLab and most others set it): tests and
scripts read stable plain text, a person at a terminal sees the work move.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def interactive() -> bool:
    """Whether to draw progress: stderr is a terminal and this is not a CI job."""
    return sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


class Progress:
    """One bar per task. Without a terminal every method does nothing (and costs nothing)."""

    def __init__(self, bar: Any = None) -> None:
        self._bar = bar
        self._tasks: dict[str, Any] = {}

    def task(self, name: str, total: float | None, description: str = "") -> None:
        """Start (or restart) the task `name`; `total=None` draws a spinner with a count."""
        if self._bar is None:
            return
        if name in self._tasks:
            self._bar.reset(self._tasks[name], total=total, description=description or name)
        else:
            self._tasks[name] = self._bar.add_task(description or name, total=total)

    def advance(self, name: str, amount: float = 1.0, description: str | None = None) -> None:
        if self._bar is None or name not in self._tasks:
            return
        self._bar.update(self._tasks[name], advance=amount, **({"description": description} if description else {}))

    def update(self, name: str, *, completed: float, description: str | None = None) -> None:
        if self._bar is None or name not in self._tasks:
            return
        self._bar.update(self._tasks[name], completed=completed,
                         **({"description": description} if description else {}))


@contextmanager
def progress(enabled: bool | None = None) -> Iterator[Progress]:
    """A `Progress` for the duration of a command (drawn only when `interactive()`, unless told)."""
    if not (interactive() if enabled is None else enabled):
        yield Progress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    # What the command prints to a terminal goes above the bar; printed to a pipe, it stays where it was sent.
    bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
              TimeElapsedColumn(), console=Console(stderr=True), transient=True,
              redirect_stdout=sys.stdout.isatty(), redirect_stderr=False)
    with bar:
        yield Progress(bar)

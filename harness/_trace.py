"""The trace of a world: every step that matters, in order, and its hash.

A step is (virtual time, actor, kind, details) with JSON-scalar details, so the trace of a run is a pure
function of (scenario, seed, code): the same in every process whatever its PYTHONHASHSEED. Two traces that
differ are compared step by step to name the first divergence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Scalar = str | int | float | bool | None

#: `json.dumps(..., sort_keys=True)` builds an encoder per call; one built once writes the same text.
_LINE = json.JSONEncoder(sort_keys=True)


@dataclass(frozen=True, slots=True)
class Step:
    index: int
    time: float
    actor: str
    kind: str
    details: tuple[tuple[str, Scalar], ...]

    def line(self) -> str:
        return _LINE.encode([self.index, self.time, self.actor, self.kind, dict(self.details)])

    def __str__(self) -> str:
        details = " ".join(f"{key}={value}" for key, value in self.details)
        return f"#{self.index} t={self.time:.6f} {self.actor} {self.kind} {details}".rstrip()


class Trace:
    """An append-only list of steps, timed by `clock` (virtual seconds)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.steps: list[Step] = []

    def record(self, actor: str, kind: str, **details: Any) -> Step:
        step = Step(len(self.steps), self._clock(), actor, kind, tuple(sorted(details.items())))
        self.steps.append(step)
        return step

    def hash(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for step in self.steps:
            digest.update(step.line().encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def lines(self) -> list[str]:
        return [step.line() for step in self.steps]


def first_divergence(a: list[str], b: list[str], length: int | None = None) -> int | None:
    """The index of the first step where two traces' lines differ, or None if they are equal.

    `a` may be a kept part of a longer trace (an artifact keeps the head and the tail): each of its lines is
    compared with the step of `b` that has its index, and `length` is how many steps the whole of `a` had.
    """
    total = len(a) if length is None else length
    for left in a:
        index = int(left[1:left.index(",")])
        if index >= len(b) or left != b[index]:
            return min(index, len(b))
    return None if total == len(b) else min(total, len(b))

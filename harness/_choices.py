"""One seeded source of every nondeterministic choice in a world, recorded as a tape.

`draw(label, low, high)` is the only way the harness takes chance. Each draw appends an index to the tape
(0 is the simplest choice: no delay, no fault), so a run replays exactly from its tape, and a shrinker can
edit the tape: a shorter or smaller tape is a simpler run. Past the end of a replayed tape every draw is 0.
Seeds derive from names with blake2b, never from `hash()`, which differs between processes.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from names and numbers, the same in every process and on every machine."""
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


class Choices:
    """The world's choice source.

    Args:
        seed: the run's seed; ignored for draws the tape already holds.
        tape: a recorded tape to replay; draws past its end choose the simplest value.
    """

    def __init__(self, seed: int, *, tape: list[int] | None = None) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self._replay = tape
        self.tape: list[int] = []
        self.counts: Counter[str] = Counter()

    def draw(self, label: str, low: int, high: int) -> int:
        """An integer in [low, high]; `low` is the simplest."""
        if high < low:
            raise ValueError(f"draw {label!r}: high {high!r} is below low {low!r}")
        span = high - low
        if self._replay is not None:
            index = self._replay[len(self.tape)] if len(self.tape) < len(self._replay) else 0
            index = min(max(index, 0), span)
        else:
            index = self._rng.randint(0, span) if span else 0
        self.tape.append(index)
        self.counts[label] += 1
        return low + index

    def chance(self, label: str, probability: float) -> bool:
        """True with `probability` (to a millionth); False is the simplest."""
        if probability <= 0:
            return False
        return self.draw(label, 0, 999_999) >= round((1.0 - probability) * 1_000_000)

    def uniform(self, label: str, low: float, high: float, *, steps: int = 1000) -> float:
        """A float in [low, high] on a grid of `steps`; `low` is the simplest."""
        if high <= low:
            return low
        return low + (high - low) * self.draw(label, 0, steps) / steps

"""One source of every nondeterministic choice in a world: per-site streams derived from the seed, recorded.

`draw(label, low, high, at=site)` is the only way the harness takes chance. A draw is named by its stream (the
label and the site it happens at: `api.error@replica-1, api.update_status notificationrequests page-00`) and
its occurrence on that stream (`#2`), and its value is a stable hash of the run's seed and that name, never a
position in one global sequence. So removing a notification or a replica from a scenario leaves every other
site's choices as they were, which is what lets a shrinker take a world apart (FoundationDB gives each actor
its own deterministic stream for the same reason). Every draw is recorded by name (`drawn`) and in order
(`tape`); 0 is always the simplest choice (no delay, no fault).

Three sources, one of which a world takes:
- the seed: each named draw hashed from it (a campaign's runs);
- a script: named draws given their values, every other one the simplest (a shrunk failure, a replay of one);
- a tape: values by position, past its end the simplest (what Hypothesis searches and shrinks).

Seeds derive from names with blake2b, never from `hash()`, which differs between processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from names and numbers, the same in every process and on every machine."""
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


class Choices:
    """The world's choice source.

    Args:
        seed: the run's seed; each draw's value is hashed from it and the draw's name, unless a script or a
            tape gives it.
        tape: values by position to replay; draws past its end choose the simplest value.
        script: values by draw name (`drawn` keys); every draw it does not name chooses the simplest value.
    """

    def __init__(self, seed: int, *, tape: list[int] | None = None, script: Mapping[str, int] | None = None) -> None:
        if tape is not None and script is not None:
            raise ValueError("a world draws from a tape or from a script, not both")
        self.seed = seed
        self._prefix = f"{seed}\x1f"
        self._replay = tape
        self._script = script
        self.tape: list[int] = []
        #: Every draw by name, `<stream>#<occurrence>`, in the order drawn, with the index chosen.
        self.drawn: dict[str, int] = {}
        self._occurrences: dict[str, int] = {}

    def draw(self, label: str, low: int, high: int, *, at: str = "") -> int:
        """An integer in [low, high]; `low` is the simplest. `at` names the site (who and where)."""
        if high < low:
            raise ValueError(f"draw {label!r}: high {high!r} is below low {low!r}")
        span = high - low
        stream = f"{label}@{at}" if at else label
        occurrences = self._occurrences
        occurrence = occurrences[stream] = occurrences.get(stream, 0) + 1
        name = f"{stream}#{occurrence}"
        if self._script is not None:
            index = self._script.get(name, 0)
        elif self._replay is not None:
            index = self._replay[len(self.tape)] if len(self.tape) < len(self._replay) else 0
        elif span:
            # derive_seed(self.seed, name), spelt out: this is the harness's most frequent call
            digest = hashlib.blake2b((self._prefix + name).encode(), digest_size=8).digest()
            index = (int.from_bytes(digest, "big") >> 1) % (span + 1)
        else:
            index = 0
        index = min(max(index, 0), span)
        self.tape.append(index)
        self.drawn[name] = index
        return low + index

    def chance(self, label: str, probability: float, *, at: str = "") -> bool:
        """True with `probability` (to a millionth); False is the simplest."""
        if probability <= 0:
            return False
        return self.draw(label, 0, 999_999, at=at) >= round((1.0 - probability) * 1_000_000)

    def uniform(self, label: str, low: float, high: float, *, steps: int = 1000, at: str = "") -> float:
        """A float in [low, high] on a grid of `steps`; `low` is the simplest."""
        if high <= low:
            return low
        return low + (high - low) * self.draw(label, 0, steps, at=at) / steps

"""Matching a world's showing with a dump's: the features kubectl shows of each notification, and how closely
another world's features agree with them (`compare`), on nothing but what kubectl prints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness._observed import Observed

#: The per-channel sequences of a notification's features.
PARTS = ("attempts", "replicas", "foreign")


def features(observed: Observed) -> dict[str, Any]:
    """What matching compares, per notification: phase, reason, counters, and per channel the attempts in order
    (number, status, whether a redelivery), which replica made each, the replicas renamed r0, r1, ... in the
    order they first appear (a cluster's pod names are not the simulator's), and, where a channel has attempts
    made for an earlier object of that name, which ones."""
    rename = {name: f"r{i}" for i, name in enumerate(observed.replicas)}
    out: dict[str, Any] = {}
    for name, seen in observed.notifications.items():
        out[name] = {
            "phase": seen.phase, "reason": seen.reason, "counters": list(seen.counters or ()),
            "attempts": {c: [[a.attempt, a.status.value, a.redelivery] for a in seen.attempts_of(c)]
                         for c in seen.channels},
            "replicas": {c: [rename.get(a.replica, "?") for a in seen.attempts_of(c)] for c in seen.channels},
            # which attempts were made for another object of that name, on the channels that have one
            "foreign": {c: [seen.foreign(a) for a in seen.attempts_of(c)]
                        for c in seen.channels if any(seen.foreign(a) for a in seen.attempts_of(c))},
        }
    return out


@dataclass(frozen=True, slots=True)
class Match:
    """How a world's features compare with the observed ones: how many agree, what differs, and how near the
    whole is (`near`: each thing compared counts from 0 to 1, a sequence by the share of its places that agree,
    so that of two runs that both miss an attempt history, the one with more of it right ranks first)."""

    agree: int
    total: int
    differences: tuple[str, ...]
    near: float = 0.0

    @property
    def score(self) -> float:
        return self.near / self.total if self.total else 1.0

    @property
    def exact(self) -> bool:
        return not self.differences


def compare(observed: dict[str, Any], simulated: dict[str, Any], *, only: str | None = None) -> Match:
    """Compare features (`features`) of the observed world with a simulated one's, on every notification the
    dump shows (or only `only`): each phase, reason, counters, each channel's attempts, who made them, and which
    were made for another object of that name."""
    agree = total = 0
    near = 0.0
    differences: list[str] = []
    for name, want in observed.items():
        if only is not None and name != only:
            continue
        got = simulated.get(name)
        for key in ("phase", "reason", "counters"):
            total += 1
            if got is not None and got[key] == want[key]:
                agree += 1
                near += 1.0
            else:
                near += _near(want[key], got[key]) if got is not None else 0.0
                differences.append(f"{name}: {key} {_shown(want[key])} observed, "
                                   f"{_shown(got[key]) if got else 'no such notification'} simulated")
        for part in PARTS:
            for channel, seq in want.get(part, {}).items():
                total += 1
                other = (got or {}).get(part, {}).get(channel, [])
                if other == seq:
                    agree += 1
                    near += 1.0
                else:
                    near += _near(seq, other)
                    differences.append(f"{name}: {channel} {part} {_shown(seq)} observed, {_shown(other)} "
                                       f"simulated")
    return Match(agree, total, tuple(differences), near)


def _near(want: Any, got: Any) -> float:
    """How much of `want` `got` has, from 0 to 1: a list place by place (an attempt by its number, status and
    redelivery), over the longer of the two; anything else all or nothing."""
    if not isinstance(want, list) or not isinstance(got, list):
        return float(want == got)
    longest = max(len(want), len(got))
    if not longest:
        return 1.0
    return sum(_near(w, g) for w, g in zip(want, got, strict=False)) / longest


def _shown(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "[" + ", ".join(f"{n} {s}{' (redelivery)' if r else ''}" for n, s, r in value) + "]"
    return json.dumps(value) if not isinstance(value, str) else (value or "(none)")

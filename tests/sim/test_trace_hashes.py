"""Refactors keep behaviour: every bundled scenario gives, seed for seed and strategy for strategy, the trace
hashes recorded in `trace_hashes.json` (`python -m bench.trace_hashes --write` records them anew, for a change
that means to alter behaviour)."""

from __future__ import annotations

import pytest

from bench.trace_hashes import hashes, recorded
from harness._scenario import bundled


@pytest.mark.parametrize("path", bundled(), ids=lambda path: path.stem)
def test_the_trace_hashes_are_the_recorded_ones(path) -> None:  # type: ignore[no-untyped-def]
    assert hashes(path) == recorded()[path.stem]

"""The pytest plugin of notifier-sim: per-test seeds derived from one run seed.

Light on import: only `pytest` at module level. A test's seed is `base + crc32(nodeid)`, so it does not
depend on the xdist worker, the test order or PYTHONHASHSEED; the header prints the base seed.
"""

from __future__ import annotations

import zlib

import pytest

SEED_OPTION = "--sim-seed"
DEFAULT_SEED = 1729
_BASE_SEED = pytest.StashKey[int]()


def _parse_seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise pytest.UsageError(f"{SEED_OPTION} takes a whole number, not {text!r}") from None
    if value < 0:
        raise pytest.UsageError(f"{SEED_OPTION} takes a number of 0 or more, not {value!r}")
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("notifier-sim", "deterministic simulation of the notifier controller")
    group.addoption(SEED_OPTION, type=_parse_seed, default=DEFAULT_SEED, help="Base seed of every simulated world")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_BASE_SEED] = config.getoption(SEED_OPTION)


def pytest_report_header(config: pytest.Config) -> str:
    return f"notifier-sim: {SEED_OPTION}={config.stash[_BASE_SEED]}"


@pytest.fixture
def sim_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed: the run's base seed plus the crc32 of the test's node id."""
    return request.config.stash[_BASE_SEED] + zlib.crc32(request.node.nodeid.encode())

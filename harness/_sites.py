"""The `sites` strategy: systematic fault injection, one site at a time, then pairs (after Sieve, OSDI'22).

A first run of the scenario, with no fault firing, records every *injection site* it passes: each API call
(per replica, verb and resource), each watch delivery, each cache read, each HTTP send, each reconcile and each
tick of the periodic faults, numbered by occurrence ("replica-1, api.get leases #2"). At each site, the faults
the scenario enables that apply there are the site's perturbations: a pause past the lease duration or a crash
at the await point, a stale view served at a read, an event held back, a write applied and its response lost,
and so on. A single fires exactly one of them; each single is followed by its extensions, which fire it and
one more (see `SitePlan`); once every single and its extensions have run, pairs of singles follow, in a fixed
pseudo-random order over all pairs. Run k of the strategy is the k-th in that order.

Everything else about a sites run is its simplest: no fault fires but the targets, every drawn choice is the
lowest (a crash's downtime is the shortest, a stale view is the newest stale one, a skewed clock the most
behind), the length of a fired delay is the scenario's `max_seconds` (a pause: just past the lease). So run k
is a pure function of the scenario, the code and k, and up to its first firing it is the recording run itself:
the site it names is reached exactly. Occurrences are counted per fault at a place (each fault is asked once
per passage, so they agree while nothing has fired).

Singles run breadth first: every site's first occurrence, then every second one, and so on, so that a small
budget covers every kind of site before it covers any kind twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from harness._choices import derive_seed


@dataclass(frozen=True, slots=True, order=True)
class Site:
    """One place a replica (or the world) passes, by occurrence: `replica-1, api.get leases #2`."""

    who: str
    place: str
    occurrence: int

    def __str__(self) -> str:
        return f"{self.who}, {self.place} #{self.occurrence}"


@dataclass(frozen=True, slots=True, order=True)
class Firing:
    """One fault at one site."""

    site: Site
    fault: str

    def __str__(self) -> str:
        return f"{self.site}: {self.fault}"


@dataclass(slots=True)
class SiteTargets:
    """What the injector consults in a sites run: the firings to make (none: the recording run)."""

    firings: frozenset[Firing] = frozenset()
    #: How long a firing that delays its actor lasts, where a run says so (a converted random run's firings);
    #: elsewhere the strategy's own (`seconds`).
    durations: dict[Firing, float] = field(default_factory=dict)
    #: Every (site, fault) the run passed, in order, with the virtual time it passed it.
    seen: dict[Firing, float] = field(default_factory=dict)
    fired: list[Firing] = field(default_factory=list)
    #: When each replica passed each of its await points and was sent each watch event (`Injector.passing`;
    #: occurrences count every passage, so in the fault phase they are a fault's), and when the API call made
    #: there reached the server, or the event reached it (after delays and any freeze): how a shrink keeps a
    #: race's timing in a smaller world.
    passed: dict[Site, float] = field(default_factory=dict)
    applied: dict[Site, float] = field(default_factory=dict)
    #: The passage each firing fired at. A firing counts the times its own fault was asked at its place, and a
    #: fault that fired may spare the next ones the asking (a crash, then no pause): its occurrence can then
    #: be behind the passage's.
    fired_at: dict[Firing, Site] = field(default_factory=dict)
    #: How many sites the run had passed when its first target fired, and when that firing's actor went on.
    seen_before_firing: int | None = None
    resumed_at: float = 0.0

    def decide(self, firing: Firing, now: float) -> bool:
        """This opportunity (the injector numbered it) passed at `now`; whether it is a target."""
        self.seen[firing] = now
        if firing in self.firings:
            if self.seen_before_firing is None:
                self.seen_before_firing, self.resumed_at = len(self.seen) - 1, now
            self.fired.append(firing)
            return True
        return False

    def delayed(self, seconds: float) -> None:
        """The first firing delays its actor this long (a pause, a latency): it goes on that much later."""
        if len(self.fired) == 1:
            self.resumed_at += seconds

    def after_firing(self) -> list[tuple[Firing, float]]:
        """What the run passed once its first target fired, with when."""
        if self.seen_before_firing is None:
            return []
        return list(self.seen.items())[self.seen_before_firing + 1:]


#: The most extensions of one single the strategy tries before it moves on: sites where another actor races
#: the delayed one as it goes on, the faulted actor's own next sites (while it recovers), then sites the
#: recording never reached.
RACING: Final = 4
RECOVERING: Final = 3
NOVEL: Final = 4


@dataclass(slots=True)
class SitePlan:
    """The recording run's sites and the order the strategy perturbs them in.

    Each single runs, then its *extensions*: sites of its own run, each perturbed once on top of the single,
    so that a race of depth two is looked for where the first fault leads: first the sites where other actors
    go on just as the single's actor comes back from its fault (a replica back from a slow read races the one
    that held on meanwhile), then the actor's own next sites, while it recovers from the fault (a replica whose
    status write timed out is paused before it looks again), then the kinds of site the recording never
    reached (a replica that took a Lease only because another was paused). Once every single and its
    extensions ran, every pair of singles, in a fixed pseudo-random order.
    """

    singles: tuple[Firing, ...]
    #: (who, place, fault) of every site the recording passed.
    known: frozenset[tuple[str, str, str]] = frozenset()
    #: Runs a single (by index) in a world of its own and returns what it passed (None: its budget cut it).
    rerun: Callable[[int], SiteTargets | None] | None = None
    _extensions: dict[int, tuple[Firing, ...]] = field(default_factory=dict)

    @property
    def sites(self) -> int:
        """Distinct sites found (a site with several applicable faults counts once)."""
        return len({firing.site for firing in self.singles})

    @property
    def pairs(self) -> int:
        n = len(self.singles)
        return n * (n - 1) // 2

    def learn(self, k: int, targets: SiteTargets) -> None:
        """Keep what single k's run reached beyond the recording (a campaign runs it anyway)."""
        if k < len(self.singles) and k not in self._extensions:
            self._extensions[k] = self._extend(k, targets)

    def _extend(self, k: int, targets: SiteTargets) -> tuple[Firing, ...]:
        first = self.singles[k]
        after = targets.after_firing()
        # Who races the first fault's actor as it comes back: the others; in a world of one actor, itself.
        others = any(firing.site.who != first.site.who for firing, _ in after)
        racing: dict[tuple[str, str, str], Firing] = {}
        recovering: dict[tuple[str, str, str], Firing] = {}
        novel: dict[tuple[str, str, str], Firing] = {}
        for firing, when in after:
            kind = (firing.site.who, firing.site.place, firing.fault)
            if (len(racing) < RACING and when >= targets.resumed_at and kind not in racing
                    and (firing.site.who != first.site.who or not others)):
                racing[kind] = firing
            elif (others and len(recovering) < RECOVERING and firing.site.who == first.site.who
                  and kind not in recovering):
                recovering[kind] = firing
            elif len(novel) < NOVEL and kind not in self.known and kind not in novel:
                novel[kind] = firing
        chosen = [*racing.values(), *recovering.values()]
        return (*chosen, *(f for f in novel.values() if f not in chosen))

    def extension(self, k: int) -> tuple[Firing, ...]:
        if k in self._extensions:
            return self._extensions[k]
        again = self.rerun(k) if self.rerun is not None else None
        if again is None:
            return ()  # nothing to learn from (not kept: a later ask may learn more)
        self._extensions[k] = self._extend(k, again)
        return self._extensions[k]

    def target(self, k: int) -> tuple[frozenset[Firing], int | None]:
        """Run k's firings, and the index of the single it is (None for an extension or a pair)."""
        n = len(self.singles)
        if k < 0 or (n == 0 and k > 0):
            raise ValueError(f"the sites strategy has no run {k} for this scenario"
                             + (" (it has no injection site: its only run is 0, the recording)" if n == 0 else ""))
        if n == 0:
            return frozenset(), None
        rest = k
        for j in range(n):
            if rest == 0:
                return frozenset({self.singles[j]}), j
            extended = self.extension(j)
            if rest <= len(extended):
                return frozenset({self.singles[j], extended[rest - 1]}), None
            rest -= 1 + len(extended)
        if rest >= self.pairs:
            raise ValueError(f"the sites strategy has {k - rest + self.pairs} runs for this scenario; run {k} "
                             f"does not exist")
        i, j = _unrank_pair(_permute(rest, self.pairs), n)
        return frozenset({self.singles[i], self.singles[j]}), None

    def systematic(self, k: int) -> bool:
        """Whether run k is a single or an extension (not a pair): the strategy's systematic part. Asked in
        order (k = 0, 1, 2, ...) as runs go, it runs nothing itself: each single's run taught its extensions."""
        if not self.singles:
            return k == 0
        at = 0
        for j in range(len(self.singles)):
            if k == at:
                return True  # single j
            extended = self.extension(j)  # single j ran before run k
            if k <= at + len(extended):
                return True
            at += 1 + len(extended)
        return False

    def runs(self, at_most: int) -> int:
        """How many runs the strategy has for the scenario, counted up to `at_most` (counting them all means
        running every single to find its extensions)."""
        n = len(self.singles)
        if n == 0:
            return 1
        if n + self.pairs >= at_most:  # enough without counting the extensions
            return at_most
        count = 0
        for j in range(n):
            count += 1 + len(self.extension(j))
            if count >= at_most:
                return at_most
        return min(at_most, count + self.pairs)

    def coverage(self, ran: int) -> str:
        """What runs 0..ran-1 of the strategy covered (the extensions of singles not yet run are not known)."""
        n, left = len(self.singles), ran
        if n == 0:
            return "no injection site (the scenario enables no fault): its one run is the recording"
        singles = extensions = 0
        for j in range(n):
            if left <= 0:
                break
            singles, left = singles + 1, left - 1
            done = min(left, len(self._extensions.get(j, ())))
            extensions, left = extensions + done, left - done
        found = sum(len(self._extensions.get(j, ())) for j in range(n))
        return (f"{self.sites} sites, {n} site-fault singles ({singles} run), {found} extensions found "
                f"({extensions} run), {self.pairs:,} pairs ({max(0, left):,} run)")


def describe(firings: frozenset[Firing]) -> str:
    return "sites: " + ("; ".join(str(f) for f in sorted(firings)) if firings else "the recording run (no firing)")


def encode(firings: frozenset[Firing], durations: dict[Firing, float] | None = None) -> list[list[Any]]:
    """Firings as JSON, `[who, place, occurrence, fault]`, with the seconds a delay lasted as a fifth element
    where known (an artifact holds them, so that a replay needs no recording)."""
    durations = durations or {}
    return [row(f, durations.get(f)) for f in sorted(firings)]


def row(firing: Firing, seconds: float | None = None) -> list[Any]:
    """One firing as JSON (see `encode`). Seconds are kept exactly (JSON round-trips a float), so that a run
    converted to its firings replays to the same trace."""
    site = firing.site
    return [site.who, site.place, site.occurrence, firing.fault, *([seconds] if seconds is not None else [])]


def _rows(rows: Any) -> list[tuple[Firing, float | None]]:
    if not isinstance(rows, list):
        raise ValueError(f"firings are a list of [who, place, occurrence, fault(, seconds)], not {rows!r}")
    out = []
    for row in rows:
        if (not isinstance(row, list) or len(row) not in (4, 5) or not isinstance(row[0], str)
                or not isinstance(row[1], str) or not isinstance(row[2], int) or isinstance(row[2], bool)
                or row[2] < 1 or not isinstance(row[3], str)
                or (len(row) == 5 and (not isinstance(row[4], int | float) or row[4] < 0))):
            raise ValueError(f"a firing is [who, place, occurrence >= 1, fault(, seconds >= 0)], not {row!r}")
        out.append((Firing(Site(row[0], row[1], row[2]), row[3]), float(row[4]) if len(row) == 5 else None))
    return out


def decode(rows: Any) -> frozenset[Firing]:
    """Firings from JSON; ValueError names what is wrong."""
    return frozenset(firing for firing, _ in _rows(rows))


def decode_durations(rows: Any) -> dict[Firing, float]:
    """The seconds each firing's delay lasted, where the JSON says."""
    return {firing: seconds for firing, seconds in _rows(rows) if seconds is not None}


def _permute(index: int, size: int) -> int:
    """A fixed permutation of range(size): an affine map with a multiplier coprime to size."""
    if size <= 1:
        return 0
    step = derive_seed("sites.pairs", size) % size or 1
    while math.gcd(step, size) != 1:
        step = step + 1 if step + 1 < size else 1
    return (index * step + derive_seed("sites.offset", size)) % size


def _unrank_pair(index: int, n: int) -> tuple[int, int]:
    """The index-th pair (i, j), i < j < n, in lexicographic order."""
    # Row i holds n - 1 - i pairs; find the row by the closed form, then fix rounding.
    i = int(n - 2 - math.floor(math.sqrt(-8 * index + 4 * n * (n - 1) - 7) / 2.0 - 0.5))
    before = i * (2 * n - i - 1) // 2
    while before > index:
        i -= 1
        before = i * (2 * n - i - 1) // 2
    while before + (n - 1 - i) <= index:
        before += n - 1 - i
        i += 1
    return i, i + 1 + index - before


def seconds(fault: str, low: float, max_seconds: float) -> float:
    """A sites run's drawn time: a pause just past the lease (`low`), any other time its longest."""
    return low if fault == "replica.pause" else max(low, max_seconds)


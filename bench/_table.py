"""The printed summary of a bench report: one block per section, each goal marked met or missed."""

from __future__ import annotations

from typing import Any


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


def _throughput(s: dict[str, Any]) -> list[str]:
    lines = ["1. throughput", (f"   {'scenario':34} {'repl':>4} {'notif':>5} {'seeds':>5} {'seeds/s':>8} "
             f"{'API calls/s':>11} {'virtual/wall':>12}")]
    for r in s["scenarios"]:
        lines.append(f"   {r['scenario']:34} {r['replicas']:>4} {r['notifications']:>5} {r['seeds']:>5} "
                     f"{r['seeds_per_second']:>8} {r['api_calls_per_second']:>11} {r['virtual_over_wall']:>11}x")
    rows = {r["replicas"]: r for r in s["scenarios"]}
    if 3 in rows:
        lines.append(f"   goal >= 20 seeds/s/core on 3 replicas: {rows[3]['seeds_per_second']}: "
                     f"{_mark(rows[3]['seeds_per_second'] >= 20)}")
    if 5 in rows:
        lines.append(f"   goal virtual >= 1000x wall on 5 replicas: {rows[5]['virtual_over_wall']}x: "
                     f"{_mark(rows[5]['virtual_over_wall'] >= 1000)}")
    return lines


def _overhead(s: dict[str, Any]) -> list[str]:
    ratio = s["scheduling_point_over_simpy_event"]
    lines = ["2. overhead",
             (f"   plain simpy event {s['plain_simpy_event_us']} us; scheduling point {s['scheduling_point_us']} us "
             f"= {ratio}x (goal <= 5x: {_mark(ratio <= 5)}); API call point {s['api_call_point_us']} us = "
             f"{s['api_call_point_over_simpy_event']}x"),
             f"   profile of {s['profile']['seeds']} seeds of the 3-replica scenario, own time:"]
    lines += [f"   {f['share']:>6.1%}  {f['function']}" for f in s["profile"]["top_functions"]]
    outside = s["profile"]["outside_controller_share"]
    lines.append(f"   CPU time outside the controller (harness, fakes, simpy, copies made for them): {outside:.1%} "
                 f"(goal <= 25%: {_mark(outside <= 0.25)})")
    return lines


def _realtime(s: dict[str, Any]) -> list[str]:
    v, r = s["virtual_vs_wall"], s["real_asyncio_vs_simulator"]
    return ["3. virtual against wall time, default retry policy",
            (f"   {'/'.join(v['phase'])} after {v['virtual_seconds_to_terminal']} s of controller time, in "
            f"{v['wall_seconds_per_run']} s wall per {v['virtual_seconds_per_run']:.0f} s run: "
            f"{v['virtual_over_wall']}x (to terminal: {v['terminal_virtual_over_wall']}x)"),
            (f"4. real asyncio with respx and real sleeps, against the simulator (backoff "
            f"{r['retry_policy']['initialBackoffSeconds']} s, x{r['retry_policy']['backoffMultiplier']}, "
            f"{r['retry_policy']['maxAttempts']} attempts)"),
            (f"   real {r['real_wall_seconds']} s, simulated {r['simulated_wall_seconds']} s: "
             f"{r['real_over_simulated']}x faster; both {'/'.join(sorted({*r['real_phase'], *r['simulated_phase']}))}")]


def _detection(s: dict[str, Any]) -> list[str]:
    lines = [(f"5. detection: median seeds / seconds to first catch over {s['campaigns']} campaigns (sites: runs "
             f"of its systematic part, one campaign)"),
             f"   {'mutant':34} {'random':>14} {'pct':>14} {'swarm':>14} {'sites':>14}  best"]
    for row in s["mutants"]:
        cells = []
        for strategy in ("random", "pct", "swarm", "sites"):
            c = row["strategies"][strategy]
            flag = "" if c["caught"].split("/")[0] == c["caught"].split("/")[1] else "*"
            cells.append(f"{c['median_seeds']:g}/{c['median_seconds']:.2f}s{flag}".rjust(14))
        lines.append(f"   {row['mutant']:34} {' '.join(cells)}  {row['best']}")
    lines.append(f"   goal every mutant < 2 s median by its best strategy: {_mark(s['all_under_2s'])} "
                 f"(* = not caught in every campaign within {s['most_seeds']} seeds, or {s['sites_runs']} sites runs)")
    return lines


def _scaling(s: dict[str, Any]) -> list[str]:
    c, k = s["catalogue"], s["campaigns"]
    one, two = c["runs"]
    failed = [f"-n {run['workers']} exited {run['exit']}" for run in c["runs"] if run["exit"] != 0]
    lines = ["6. scaling" + (f" (catalogue FAILED: {', '.join(failed)})" if failed else ""),
             (f"   {c['target']} ({one['passed']} tests): -n 1 {one['wall_seconds']} s, -n 2 {two['wall_seconds']} s: "
             f"{c['speedup_1_to_2']}x (goal >= 1.8x: {_mark(c['speedup_1_to_2'] >= 1.8)})"),
             f"   campaigns of {k['scenario']}: " + "; ".join(
                 f"{r['seeds']} seeds {r['wall_seconds']} s ({r['ms_per_seed']} ms/seed, {r['peak_rss_mib']} MiB)"
                 for r in k["runs"]),
             (f"   cost per seed x{k['cost_per_seed_growth']}, peak memory x{k['peak_memory_growth']} from the "
             f"smallest campaign to the largest")]
    return lines


def _shrink(s: dict[str, Any]) -> list[str]:
    lines = [f"7. shrink: the first failure random finds on {s['scenario']} (in {s['most_seeds']} seeds), shrunk",
             f"   {'mutant':34} {'invariant':24} {'before n/r/f':>13} {'after n/r/f':>12} {'lines':>5} {'s':>6}"]
    for r in s["mutants"]:
        lines.append(_shrunk_row(r["mutant"], r))
    lock = s.get("lock", [])
    lines.append("   the lock bug's first failure under pct and swarm (on " + " and ".join(r["scenario"] for r in lock)
                 + "):")
    for r in lock:
        lines.append(_shrunk_row(f"{LOCK_BUG} ({r['strategy']})", r))
    lines.append(f"   goal every mutant at <= 3 notifications: {s['at_most_3_notifications']}/{s['shrunk']}: "
                 f"{_mark(s['at_most_3_notifications'] == s['shrunk'])}")
    lines.append(f"   goal the lock bug (pct, swarm) at <= 2 replicas, 2 notifications, 3 firings, < 60 lines, "
                 f"< 60 s: "
                 f"{_mark(s['lock_bug_goal'])}")
    return lines


def _shrunk_row(label: str, r: dict[str, Any]) -> str:
    if not r["found"]:
        return f"   {label:34} not found"
    b, a = r["before"], r["after"]
    before = f"{b['notifications']}/{b['replicas']}/{b['faults fired']}"
    after = f"{a['notifications']}/{a['replicas']}/{a['faults fired']}"
    return f"   {label:34} {r['invariant']:24} {before:>13} {after:>12} {r['test_lines']:>5} {r['seconds']:>6}"


LOCK_BUG = "lease-observed-before-read"


def _fidelity(s: dict[str, Any]) -> list[str]:
    b = s["bookmark_order"]
    return ["7. fidelity of the HTTPS front",
            (f"   {b['events']} events, {b['bookmarks']} bookmarks every {b['bookmark_every_ms']} ms: "
            f"{b['events_after_a_higher_bookmark']} events after a higher bookmark "
            f"(goal 0: {_mark(b['events_after_a_higher_bookmark'] == 0)})")]


def _parallel(s: dict[str, Any]) -> list[str]:
    goal = 0.9 * s["workers"]
    return [f"8. one campaign of {s['seeds']} seeds of {s['scenario']}, spread over {s['workers']} workers",
            (f"   one process {s['one_process_seconds']} s; -j {s['workers']} {s['processes_seconds']} s: "
             f"{s['processes_speedup']}x (goal >= {goal:g}x: {_mark(s['processes_speedup'] >= goal)}); "
             f"Dask LocalCluster {s['dask_seconds']} s: {s['dask_speedup']}x "
             f"(goal >= {goal:g}x: {_mark(s['dask_speedup'] >= goal)})"),
            f"   the same trace hashes everywhere: {_mark(s['same_hashes'])}"]


def _cost(s: dict[str, Any]) -> list[str]:
    what = ("API calls", "status writes", "Events", "Event writes", "Lease writes")
    lines = ["9. the controller's cost per notification (committed writes; calls include refused ones)",
             f"   {'scenario':34} {'n':>5} " + " ".join(f"{w:>13}" for w in what)]
    for r in s["scenarios"]:
        lines.append(f"   {r['scenario']:34} {r['notifications']:>5} "
                     + " ".join(f"{r[w + ' per notification']:>13}" for w in what))
    return lines


def _reproduce(s: dict[str, Any]) -> list[str]:
    lines = [(f"10. reproduce from a dump: each mutant's first failing seed (of 100) that shows a symptom, as kubectl "
              f"prints it, searched on {s['jobs']} process(es), {s['budget_seconds']:g} s budget"),
             f"   {'mutant':34} {'symptom the dump shows':24} {'reproduced':>10} {'runs':>6} {'seconds':>8}"]
    for r in s["mutants"]:
        symptom = r["symptom"] or ("(none shown)" if r["caught"] else "(not caught)")
        lines.append(f"   {r['mutant']:34} {symptom:24} {'yes' if r['reproduced'] else 'no':>10} "
                     f"{r.get('runs', ''):>6} {r.get('seconds', ''):>8}")
    h = s["healthy"]
    lines.append(f"   shown in the dump: {s['shown_in_dump']} of {len(s['mutants'])}; reproduced within the budget: "
                 f"{s['reproduced_within_budget']} (goal >= 5: {_mark(s['reproduced_within_budget'] >= 5)}); "
                 f"healthy worlds showing a symptom: {h['showing_a_symptom']} of {h['worlds']} "
                 f"(goal 0: {_mark(h['showing_a_symptom'] == 0)})")
    return lines


RENDER = {"throughput": _throughput, "overhead": _overhead, "realtime": _realtime, "detection": _detection,
          "scaling": _scaling, "shrink": _shrink, "fidelity": _fidelity, "parallel": _parallel,
          "cost": _cost, "reproduce": _reproduce}


def _goals(sections: dict[str, Any]) -> list[str]:
    """The performance issue's table: each figure this run measured, beside its goal."""
    rows: list[tuple[str, str, bool]] = []
    if "throughput" in sections:
        by = {r["replicas"]: r for r in sections["throughput"]["scenarios"]}
        if 3 in by:
            rows.append(("3 replicas x 50 notifications, every fault: seeds/s/core",
                         f"{by[3]['seeds_per_second']} (>= 20)", by[3]["seeds_per_second"] >= 20))
        if 5 in by:
            rows.append(("5 replicas x 500 notifications: virtual time over wall time",
                         f"{by[5]['virtual_over_wall']}x (>= 1,000x)", by[5]["virtual_over_wall"] >= 1000))
    if "overhead" in sections:
        outside = sections["overhead"]["profile"]["outside_controller_share"]
        rows.append(("share of CPU time outside the controller", f"{outside:.1%} (<= 25%)", outside <= 0.25))
    if "scaling" in sections:
        c = sections["scaling"]["catalogue"]
        rows.append((f"{c['target']}, -n 1 to -n 2", f"{c['speedup_1_to_2']}x (>= 1.8x)",
                     c["speedup_1_to_2"] >= 1.8))
    if "parallel" in sections:
        p = sections["parallel"]
        goal = 0.9 * p["workers"]
        rows.append((f"one campaign over {p['workers']} processes", f"{p['processes_speedup']}x (>= {goal:g}x)",
                     p["processes_speedup"] >= goal))
        rows.append(("one campaign over a Dask cluster", "same results as local" if p["same_hashes"]
                     else "results differ from local", bool(p["same_hashes"])))
    if not rows:
        return []
    return ["goals of the performance issue, measured in this run:"] + [
        f"   {figure:60} {value:24} {_mark(met)}" for figure, value, met in rows]


def table(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"notifier-sim bench: {m['cores']} cores, Python {m['python']}, commit {m['commit']}"
             + (" (quick: sizes too small to mean anything)" if report["quick"] else "")]
    for name, section in report["sections"].items():
        lines += RENDER[name](section)
    lines += _goals(report["sections"])
    return "\n".join(lines)

"""Reports: a run summary as JSON, and for each failure a self-contained HTML timeline that tells its race.

The timeline (`templates/timeline.html`, rendered by jinja2 with autoescaping) starts with the story of the race
(`tell`). Below it, one lane per replica shows what lasts: each reconcile (by key), each pause the replica was
frozen for, each time it was down after a crash; marks show each HTTP send with its fencing token, each cache
read that was older than the server (the resourceVersion the reconcile read against the server's), every
fault. One lane per delivery Lease shows its tenures as bands, with holder and epoch, as the server recorded
them. The backends' lanes show what they received and answered; the violation is a line across. By default
only what the violation involves is shown (the notification it names, and everything not tied to one); a
checkbox shows the rest. It needs no network: styles and the one script are inline. Secrets cannot reach it:
the trace holds no URL, routing key or credential, and the template escapes every string.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jinja2

LANE_HEIGHT: Final = 34
LEFT: Final = 190
WIDTH: Final = 1400
COLORS: Final = {
    "reconcile.begin": "#4a7bd0", "reconcile.end": "#8fb0e8", "reconcile.error": "#d08a2a",
    "http.issue": "#2a9d5c", "backend.receipt": "#1c6b3f", "replica.crash": "#b00020", "replica.pause": "#b06000",
    "replica.restart": "#6a1b9a",
}


@dataclass(frozen=True, slots=True)
class _Step:
    index: int
    time: float
    actor: str
    kind: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Bar:
    css: str
    x: float
    y: float
    width: float
    height: int
    color: str
    label: str
    key: str
    involved: bool
    text: str = ""
    #: Where the text goes: above the bar, or below (so that the labels of short neighbours do not overlap).
    text_y: float = 0.0


@dataclass(frozen=True, slots=True)
class _Mark:
    css: str
    x: float
    y: float
    r: int
    color: str
    label: str
    key: str
    involved: bool


# -- what a run leaves for its timeline ---------------------------------------------------------------------


def tenures(world: Any) -> list[dict[str, Any]]:
    """Each delivery Lease's tenures as the server recorded them: holder, epoch, from when to when (virtual
    seconds), and the notification that owns the Lease."""
    times = {int(dict(step.details)["rv"]): step.time for step in world.trace.steps
             if step.actor == "apiserver" and step.kind.startswith("commit.")}
    versions: dict[str, list[tuple[float, str, int, str, bool]]] = defaultdict(list)
    for change in world.changes:
        if change.resource.plural != "leases":
            continue
        meta, spec = change.object["metadata"], change.object.get("spec") or {}
        owner = next((str(ref.get("name", "")) for ref in meta.get("ownerReferences") or ()
                      if ref.get("kind") == "NotificationRequest"), "")
        versions[meta["name"]].append((times.get(change.revision, 0.0), str(spec.get("holderIdentity") or ""),
                                       int(spec.get("leaseTransitions") or 0), owner, change.type == "DELETED"))
    out: list[dict[str, Any]] = []
    end = float(world.env.now)
    for name, history in sorted(versions.items()):
        for i, (start, holder, epoch, owner, deleted) in enumerate(history):
            if deleted or not holder or (i and history[i - 1][1:3] == (holder, epoch)):
                continue  # a renewal goes on the tenure it renews
            stop = next((t for t, h, e, _, gone in history[i + 1:] if gone or (h, e) != (holder, epoch)), end)
            out.append({"lease": name, "notification": owner, "holder": holder, "epoch": epoch,
                        "start": round(start, 6), "stop": round(stop, 6)})
    return out


def tell(world: Any, violations: list[Any], invariant: str, *, most: int = 14) -> list[str]:
    """A failure told in a few lines: what fired and what clients did, in virtual time, then what broke."""
    told: list[str] = []
    previous = None
    for step in world.trace.steps:
        details = "".join(f" {key}={value}" for key, value in step.details
                          if key in ("at", "verb", "name", "seconds", "key", "outcome"))
        if (step.kind in ("replica.pause", "replica.crash") and previous is not None
                and previous.kind == f"fault.{step.kind}" and previous.actor == step.actor):
            told[-1] += details  # the replica's own record says how long the pause was
        elif step.kind.startswith(("fault.", "client.")):
            told.append(f"{step.time:9.3f} s  {step.actor}: {step.kind.removeprefix('fault.')}{details}")
        previous = step
    if len(told) > most:
        told = [*told[:most - 1], f"          ... and {len(told) - most + 1} more"]
    broken = next((v for v in violations if v.invariant == invariant), None)
    if broken is not None:
        what = "the end shows" if invariant == "symptom" else f"{invariant} broke:"  # a reproduced symptom
        told.append(f"{broken.time:9.3f} s  {what} {broken.notification} {broken.channel} "
                    f"{broken.message}".rstrip())
    return told


# -- the page -----------------------------------------------------------------------------------------------


def _steps(trace: list[str]) -> list[_Step]:
    out = []
    for line in trace:
        index, time, actor, kind, details = json.loads(line)
        out.append(_Step(int(index), float(time), str(actor), str(kind), dict(details)))
    return out


def _subject(step: _Step, names: dict[str, str]) -> str:
    """The notification a step is about, by name ("" if none)."""
    details = step.details
    if "key" in details:
        return str(details["key"]).partition("/")[2]
    if "uid" in details:
        return names.get(str(details["uid"]), "")
    if details.get("resource") == "notificationrequests" or step.kind.startswith(("client.", "fault.api.")):
        return str(details.get("name") or "")
    return ""


def render_timeline(artifact: dict[str, Any]) -> str:
    """The HTML timeline of a failure artifact (its trace, violations, Lease tenures and story)."""
    steps = _steps(list(artifact.get("trace") or []))
    names = {str(uid): str(name) for uid, name in (artifact.get("names") or {}).items()}
    leases = list(artifact.get("leases") or [])
    violations = list(artifact.get("violations") or [])
    involved = sorted({str(v.get("notification", "")).partition("@")[0] for v in violations} - {""})
    actors = sorted({s.actor for s in steps})
    replicas = [a for a in actors if a.startswith("replica-")]
    backends = [a for a in actors if a not in replicas and a not in ("apiserver", "world", "client")]
    lease_lanes = sorted({f"lease {t['notification'] or t['lease']}" for t in leases})
    # The Leases of the notifications the violation names come next to the replicas; the others go last, so
    # that hiding them (the default) leaves no gap.
    near = [lane for lane in lease_lanes if not involved or lane.removeprefix("lease ") in involved]
    lanes = ["apiserver", *replicas, *near, *backends, *(["client"] if "client" in actors else []),
             *(["world"] if "world" in actors else []), *[lane for lane in lease_lanes if lane not in near]]
    row = {lane: 30 + i * LANE_HEIGHT for i, lane in enumerate(lanes)}
    # The page shows the run up to a little past the violation: the race is there, not in the quiet hour after.
    broke = max((float(v.get("time", 0.0)) for v in violations), default=0.0)
    end = broke * 1.15 + 1.0 if broke > 0 else max([s.time for s in steps] + [1.0])
    steps = [s for s in steps if s.time <= end]
    scale = (WIDTH - LEFT - 20) / end

    def x(t: float) -> float:
        return LEFT + min(t, end) * scale

    def concerns(key: str) -> bool:
        return not key or not involved or key in involved

    bars: list[_Bar] = []

    def bar(lane: str, start: float, stop: float, css: str, color: str, offset: int, label: str, key: str,
            text: str = "", height: int = 5, below: bool = False) -> None:
        y = row.get(lane, 30) + offset
        bars.append(_Bar(css, x(start), y, max(2.0, x(stop) - x(start)), height, color, label, key, concerns(key),
                         text, y + height + 10 if below else y - 2))

    opened: dict[tuple[str, str], float] = {}
    down: dict[str, float] = {}
    marks: list[_Mark] = []
    server_rv: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for step in steps:
        key, d = _subject(step, names), step.details
        if step.kind.startswith("commit.") and d.get("resource") == "notificationrequests":
            server_rv[str(d.get("name"))].append((step.time, int(d.get("rv") or 0)))
        if step.kind == "reconcile.begin":
            opened[(step.actor, key)] = step.time
            known = [rv for t, rv in server_rv.get(key, []) if t <= step.time]
            cached = d.get("cached_rv")
            if cached is not None and known and int(cached) < known[-1]:
                marks.append(_Mark("stale", x(step.time), row[step.actor] + 9, 3, "#e07b00",
                                   f"t={step.time:.3f} {key}: the cache read rv {cached}, the server had rv "
                                   f"{known[-1]}", key, concerns(key)))
        elif step.kind in ("reconcile.end", "reconcile.error"):
            began = opened.pop((step.actor, key), None)
            if began is not None:
                bar(step.actor, began, step.time, "reconcile", "#4a7bd0", 6,
                    f"reconcile {key} {began:.3f}-{step.time:.3f} s", key)
        elif step.kind == "replica.pause":
            seconds = float(d.get("seconds") or 0.0)
            bar(step.actor, step.time, step.time + seconds, "pause", "#b06000", -9,
                f"frozen {seconds:.3f} s from {step.time:.3f} s", "", text=f"paused {seconds:.1f} s")
        elif step.kind == "replica.crash":
            down[step.actor] = step.time
        elif step.kind == "replica.restart" and step.actor in down:
            began = down.pop(step.actor)
            bar(step.actor, began, step.time, "down", "#b00020", -9, f"down {began:.3f}-{step.time:.3f} s", "",
                text="down")
        color = COLORS.get(step.kind, "#c0392b" if step.kind.startswith("fault.") else "#777")
        label = f"#{step.index} t={step.time:.3f} {step.kind} " + " ".join(f"{k}={v}" for k, v in sorted(d.items()))
        if step.kind == "http.issue":
            label += f" (under tenure {d.get('token') or 'none'})"
        marks.append(_Mark(f"step {step.kind.split('.')[0]}", x(step.time), row.get(step.actor, 30),
                           5 if step.kind in ("http.issue", "backend.receipt") else 4,
                           "#555" if step.kind.startswith("commit.") else color, label, key, concerns(key)))
    for actor, began in down.items():
        bar(actor, began, end, "down", "#b00020", -9, f"down from {began:.3f} s to the end", "", text="down")
    for i, tenure in enumerate(leases):
        key = str(tenure["notification"])
        bar(f"lease {key or tenure['lease']}", float(tenure["start"]), float(tenure["stop"]), "tenure", "#2a9d5c",
            -4, f"{tenure['lease']}: held by {tenure['holder']}, epoch {tenure['epoch']}, "
                f"{float(tenure['start']):.3f}-{float(tenure['stop']):.3f} s",
            key, text=f"{tenure['holder']} @{tenure['epoch']}", height=9, below=i % 2 == 1)
    rows = [{"index": s.index, "time": s.time, "actor": s.actor, "kind": s.kind, "key": _subject(s, names),
             "involved": concerns(_subject(s, names)),
             "details": " ".join(f"{k}={v}" for k, v in sorted(s.details.items()))}
            for s in steps if not (s.kind == "commit.added" and s.details.get("resource") == "events")]
    height = LANE_HEIGHT * (len(lanes) + 1) + 40
    title = f"{artifact.get('scenario', {}).get('name', '')} seed {artifact.get('seed')}"
    return _template().render(
        title=title, mutant=str(artifact.get("mutant") or "none"), strategy=str(artifact.get("strategy")),
        trace_hash=str(artifact.get("trace_hash")),
        artifact_name=Path(str(artifact.get("path", ""))).name or "ARTIFACT",
        violations=[{k: str(v.get(k, "")) for k in ("invariant", "notification", "channel", "message")}
                    for v in violations],
        story=list(artifact.get("story") or []), elided=int(artifact.get("trace_elided") or 0),
        steps_total=int(artifact.get("trace_steps") or 0), involved=involved, width=WIDTH, height=height,
        left=LEFT, bars=bars, marks=marks, ticks=_ticks(end, x),
        lanes=[{"name": lane, "y": row[lane], "key": lane.removeprefix("lease ") if lane.startswith("lease ") else "",
                "involved": concerns(lane.removeprefix("lease ")) if lane.startswith("lease ") else True}
               for lane in lanes],
        violation_marks=[{"invariant": str(v["invariant"]), "time": float(v.get("time", 0.0)),
                          "x": x(float(v.get("time", 0.0)))} for v in violations],
        rows=rows)


def _ticks(end: float, x: Any) -> list[dict[str, Any]]:
    """Time-axis ticks at a round step, about ten across."""
    step = next(s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))
                if end / s <= 12)
    count = int(end // step) + 1 if step != float("inf") else 1
    return [{"x": x(i * step), "label": f"{i * step:g} s"} for i in range(count)]


def _template() -> jinja2.Template:
    source = resources.files("harness").joinpath("templates/timeline.html").read_text(encoding="utf-8")
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(source)


def write_timeline(artifact_path: Path) -> Path:
    data = json.loads(artifact_path.read_text())
    data["path"] = str(artifact_path)
    out = artifact_path.with_suffix(".html")
    out.write_text(render_timeline(data))
    return out


def write_summary(path: Path, results: list[dict[str, Any]], *, ok: bool, wall: float,
                  runs: int | None = None) -> None:
    """The campaign's summary: its verdict, how many runs (`results`, unless `runs` says), its failures."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ok": ok, "runs": len(results) if runs is None else runs,
                                "wall_seconds": round(wall, 3),
                                "failures": [r for r in results if r["violations"]]}, indent=1))

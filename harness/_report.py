"""Reports: a run summary as JSON, and for each failure a self-contained HTML timeline.

The timeline has one lane per replica, one for the API server and one per backend endpoint. On a replica's
lane, bars show what lasts: each reconcile, each pause the replica was frozen for, each Lease tenure it sent
under (by fencing token). Marks show each reconcile, each HTTP request and its outcome, each commit with its
resourceVersion (and the resourceVersion each reconcile read from its cache), every fault and crash, and the
violation. It needs no network: styles are inline, there is no script. Secrets cannot reach it: the trace
holds no URL, routing key or credential, and every string is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

LANE_HEIGHT = 34
LEFT = 190
WIDTH = 1400
COLORS = {
    "reconcile.begin": "#4a7bd0", "reconcile.end": "#8fb0e8", "reconcile.error": "#d08a2a",
    "http.issue": "#2a9d5c", "backend.receipt": "#1c6b3f", "replica.crash": "#b00020", "replica.pause": "#b06000",
    "replica.restart": "#6a1b9a",
}


def _steps(trace: list[str]) -> list[tuple[int, float, str, str, dict[str, Any]]]:
    out = []
    for line in trace:
        index, time, actor, kind, details = json.loads(line)
        out.append((int(index), float(time), str(actor), str(kind), dict(details)))
    return out


def _lanes(steps: list[tuple[int, float, str, str, dict[str, Any]]]) -> list[str]:
    actors = sorted({actor for _, _, actor, _, _ in steps})
    replicas = [a for a in actors if a.startswith("replica-")]
    backends = [a for a in actors if a not in replicas and a not in ("apiserver", "world")]
    return ["apiserver", *replicas, *backends, *(["world"] if "world" in actors else [])]


def _label(kind: str, details: dict[str, Any]) -> str:
    parts = [kind] + [f"{k}={v}" for k, v in sorted(details.items())]
    return " ".join(parts)


def render_timeline(artifact: dict[str, Any]) -> str:
    """The HTML timeline of a failure artifact (its `trace` and `violations`)."""
    steps = _steps(list(artifact.get("trace") or []))
    lanes = _lanes(steps) if steps else ["apiserver"]
    end = max([t for _, t, _, _, _ in steps] + [1.0])
    scale = (WIDTH - LEFT - 20) / end
    height = LANE_HEIGHT * (len(lanes) + 1) + 40
    row = {lane: i for i, lane in enumerate(lanes)}
    marks: list[str] = []
    for lane in lanes:
        y = 30 + row[lane] * LANE_HEIGHT
        marks.append(f'<g class="lane" data-lane="{html.escape(lane)}"><text x="8" y="{y + 5}">'
                     f'{html.escape(lane)}</text><line x1="{LEFT}" y1="{y}" x2="{WIDTH - 10}" y2="{y}" '
                     f'stroke="#ddd"/></g>')
    marks += _spans(steps, row, scale)
    for index, time, actor, kind, details in steps:
        y = 30 + row.get(actor, 0) * LANE_HEIGHT
        x = LEFT + time * scale
        color = COLORS.get(kind, "#c0392b" if kind.startswith("fault.") else "#777")
        if kind.startswith("commit."):
            color = "#555"
        label = html.escape(f"#{index} t={time:.3f} {_label(kind, details)}")
        marks.append(f'<circle class="step {html.escape(kind.split(".")[0])}" cx="{x:.1f}" cy="{y}" r="4" '
                     f'fill="{color}"><title>{label}</title></circle>')
    violations = list(artifact.get("violations") or [])
    for v in violations:
        x = LEFT + float(v.get("time", 0.0)) * scale
        marks.append(f'<g class="violation" data-invariant="{html.escape(str(v["invariant"]))}">'
                     f'<line x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="{height - 20}" stroke="#b00020" '
                     f'stroke-width="2" stroke-dasharray="6 3"/><text x="{x + 4:.1f}" y="12" fill="#b00020">'
                     f'{html.escape(str(v["invariant"]))}</text></g>')
    rows = "".join(
        f"<tr><td>{i}</td><td>{t:.3f}</td><td>{html.escape(a)}</td><td>{html.escape(k)}</td>"
        f"<td>{html.escape(' '.join(f'{key}={val}' for key, val in sorted(d.items())))}</td></tr>"
        for i, t, a, k, d in steps if not k.startswith("commit.added") or "events" not in str(d.get("resource")))
    listed = "".join(f"<li class=\"violation-text\"><b>{html.escape(str(v['invariant']))}</b> "
                     f"{html.escape(str(v.get('notification', '')))} {html.escape(str(v.get('channel', '')))}: "
                     f"{html.escape(str(v['message']))}</li>" for v in violations)
    scenario = artifact.get("scenario", {}).get("name", "")
    title = html.escape(f"{scenario} seed {artifact.get('seed')}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>notifier-sim: {title}</title>
<style>
body {{ font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }}
svg text {{ font: 12px system-ui, sans-serif; }}
table {{ border-collapse: collapse; font: 12px ui-monospace, monospace; }}
td {{ border-bottom: 1px solid #eee; padding: 2px 8px; vertical-align: top; }}
.violation-text {{ color: #b00020; }}
</style></head>
<body>
<h1>{title}</h1>
<p>mutant: {html.escape(str(artifact.get('mutant') or 'none'))}; strategy: {html.escape(str(artifact.get('strategy')))};
trace hash: <code>{html.escape(str(artifact.get('trace_hash')))}</code>; replay:
<code>notifier-sim replay {html.escape(Path(str(artifact.get('path', ''))).name or 'ARTIFACT')}</code></p>
<h2>Violations</h2><ul id="violations">{listed or '<li>none</li>'}</ul>{_elided(artifact)}
<h2>Timeline</h2>
<svg id="timeline" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">{''.join(marks)}</svg>
<h2>Steps</h2><table id="steps"><tr><th>#</th><th>t</th><th>actor</th><th>kind</th><th>details</th></tr>{rows}</table>
</body></html>
"""


def _spans(steps: list[tuple[int, float, str, str, dict[str, Any]]], row: dict[str, int], scale: float) -> list[str]:
    """What lasts, as bars on the replica's lane: each reconcile (begin to end or error), each pause (the
    replica frozen), and each Lease tenure the replica sent under (its fencing token, first to last send)."""
    out: list[str] = []
    open_at: dict[tuple[str, str], float] = {}
    tenures: dict[tuple[str, str], list[float]] = {}

    def bar(actor: str, start: float, stop: float, css: str, color: str, offset: int, label: str) -> None:
        y = 30 + row.get(actor, 0) * LANE_HEIGHT + offset
        width = max(2.0, (stop - start) * scale)
        out.append(f'<rect class="span {css}" x="{LEFT + start * scale:.1f}" y="{y}" width="{width:.1f}" height="5" '
                   f'fill="{color}" opacity="0.55"><title>{html.escape(label)}</title></rect>')

    for _, time, actor, kind, details in steps:
        if kind == "reconcile.begin":
            open_at[(actor, str(details.get("key")))] = time
        elif kind in ("reconcile.end", "reconcile.error"):
            began = open_at.pop((actor, str(details.get("key"))), None)
            if began is not None:
                bar(actor, began, time, "reconcile", "#4a7bd0", 6, f"reconcile {details.get('key')} "
                                                                  f"{began:.3f}-{time:.3f} s")
        elif kind == "replica.pause":
            seconds = float(details.get("seconds") or 0.0)
            bar(actor, time, time + seconds, "pause", "#b06000", -9, f"frozen {seconds:.3f} s from {time:.3f} s")
        elif kind == "http.issue" and details.get("token"):
            tenures.setdefault((actor, str(details["token"])), []).append(time)
    for (actor, token), times in sorted(tenures.items()):
        bar(actor, min(times), max(times), "tenure", "#2a9d5c", 12, f"sent under tenure {token} "
                                                                    f"({len(times)} sends, {min(times):.3f}-"
                                                                    f"{max(times):.3f} s)")
    return out


def _elided(artifact: dict[str, Any]) -> str:
    elided = int(artifact.get("trace_elided") or 0)
    if not elided:
        return ""
    return (f'\n<p id="elided">The run took {int(artifact.get("trace_steps") or 0):,} steps; the artifact keeps the '
            f'first and the last of them, and {elided:,} steps in between are left out (the replay runs them all).</p>')


def write_timeline(artifact_path: Path) -> Path:
    data = json.loads(artifact_path.read_text())
    data["path"] = str(artifact_path)
    out = artifact_path.with_suffix(".html")
    out.write_text(render_timeline(data))
    return out


def write_summary(path: Path, runs: list[dict[str, Any]], *, ok: bool, wall: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ok": ok, "runs": len(runs), "wall_seconds": round(wall, 3),
                                "failures": [r for r in runs if r["violations"]]}, indent=1))

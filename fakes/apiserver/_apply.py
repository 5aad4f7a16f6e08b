"""Server-side apply and the `managedFields` it keeps, as structured-merge-diff does for the API server.

Each manager owns a set of fields (`metadata.managedFields`, `FieldsV1`). An apply (`application/apply-patch+yaml`,
`fieldManager` required) makes the applier own exactly the fields of its configuration: a field another
manager owns and the configuration would change is a conflict (409, in `NewConflictError`'s words) unless
`force` takes it over; a field the applier owned before and no longer names is removed, unless another
manager owns it too; the object is created if it does not exist. A write of another kind (create, update,
patch) makes its manager (`fieldManager`, or the User-Agent's product) own the fields it changed, taken from
anyone who owned them, without conflict.

Lists are atomic (the CRD declares no `x-kubernetes-list-type`), so a list is one field. The fields every
object has (apiVersion, kind, name, namespace, uid, resourceVersion, generation, timestamps, managedFields)
are nobody's; with a status subresource, the status belongs to the status subresource, not to an apply of
the object. Writes to the status subresource are not tracked here.
"""

from __future__ import annotations

from typing import Any, Final

from fakes.apiserver._patch import merge_patch
from notifier import BadRequestError, ConflictError, KubeObject, clone

Path = tuple[str, ...]
_MISSING: Final = object()
#: Fields no manager owns (`fieldmanager`'s strip sets).
_NOBODYS: Final = frozenset({("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace"),
                             ("metadata", "uid"), ("metadata", "resourceVersion"), ("metadata", "generation"),
                             ("metadata", "creationTimestamp"), ("metadata", "managedFields"),
                             ("metadata", "selfLink"), ("metadata", "deletionTimestamp"),
                             ("metadata", "deletionGracePeriodSeconds")})


def leaves(obj: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Every field of an object that a manager can own: each scalar, each (atomic) list, each empty map."""
    if not isinstance(obj, dict) or (not obj and prefix):
        return {prefix: obj}
    out: dict[Path, Any] = {}
    for name, value in obj.items():
        out.update(leaves(value, (*prefix, name)))
    return out


def owned_fields(obj: KubeObject, *, status_subresource: bool) -> dict[Path, Any]:
    """The fields of `obj` a manager of the main resource may own, with their values."""
    return {path: value for path, value in leaves(obj).items()
            if path not in _NOBODYS and path[:1] != ("status",) * status_subresource}


def fields_v1(paths: set[Path]) -> dict[str, Any]:
    """`FieldsV1` of a set of fields: `f:<name>` nested, `.` marking a map that is itself set."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for depth, name in enumerate(path):
            node = node.setdefault(f"f:{name}", {})
            if 0 < depth < len(path) - 1 or (depth == 0 and len(path) > 1 and name not in ("metadata",)):
                node.setdefault(".", {})
    return root


def paths_of(fields: Any, prefix: Path = ()) -> set[Path]:
    """The fields a `FieldsV1` names (the inverse of `fields_v1`)."""
    if not isinstance(fields, dict):
        return set()
    children = {name: value for name, value in fields.items() if name.startswith("f:")}
    if not children:
        return {prefix} if prefix else set()
    out: set[Path] = set()
    for name, value in children.items():
        out |= paths_of(value, (*prefix, name[2:]))
    return out


def _entries(obj: KubeObject | None) -> list[dict[str, Any]]:
    return [clone(e) for e in ((obj or {}).get("metadata", {}).get("managedFields") or []) if isinstance(e, dict)]


def _related(a: Path, b: Path) -> bool:
    return a[:len(b)] == b or b[:len(a)] == a


def _value(obj: Any, path: Path) -> Any:
    for name in path:
        if not isinstance(obj, dict) or name not in obj:
            return _MISSING
        obj = obj[name]
    return obj


def _remove(obj: Any, path: Path) -> None:
    for name in path[:-1]:
        if not isinstance(obj, dict) or name not in obj:
            return
        obj = obj[name]
    if isinstance(obj, dict):
        obj.pop(path[-1], None)


def _entry(manager: str, operation: str, api_version: str, now: str, paths: set[Path]) -> dict[str, Any]:
    return {"manager": manager, "operation": operation, "apiVersion": api_version, "time": now,
            "fieldsType": "FieldsV1", "fieldsV1": fields_v1(paths)}


def _describe(entry: dict[str, Any]) -> str:
    """`printManager`: the manager quoted; an Update's with its apiVersion and time."""
    name = f'"{entry["manager"]}"' + (f' with subresource "{entry["subresource"]}"' if entry.get("subresource")
                                      else "")
    if entry.get("operation") == "Update":
        return f"{name} using {entry.get('apiVersion')} at {entry.get('time')}"
    return name


def apply(live: KubeObject | None, config: KubeObject, *, manager: str, force: bool, now: str,
          api_version: str, status_subresource: bool, only_status: bool = False) -> KubeObject:
    """The object an apply of `config` by `manager` makes of `live` (None: it does not exist yet), with its
    managedFields; a ConflictError (409) if it would change another manager's field and `force` is off.
    `only_status`: an apply to the status subresource, which owns and changes the status alone."""
    if not manager:
        raise BadRequestError("fieldManager is required for apply patch")
    wanted = owned_fields(config, status_subresource=status_subresource)
    if only_status:
        wanted = {path: value for path, value in wanted.items() if path[:1] == ("status",)}
    entries = _entries(live)
    mine = next((e for e in entries if e["manager"] == manager and e.get("operation") == "Apply"), None)
    others = [e for e in entries if e is not mine]
    conflicts: list[tuple[dict[str, Any], Path]] = []
    for entry in others:
        if entry.get("subresource"):
            continue
        owned = paths_of(entry.get("fieldsV1"))
        for path in sorted(wanted):
            clashing = [p for p in owned if _related(p, path)]
            if clashing and _value(live, path) is not _MISSING and _value(live, path) != wanted[path]:
                conflicts.append((entry, path))
                if force:
                    owned -= set(clashing)
        entry["fieldsV1"] = fields_v1(owned)
    if conflicts and not force:
        raise _conflict(conflicts)
    kept_by_others = set().union(*(paths_of(e.get("fieldsV1")) for e in others))
    released = paths_of(mine.get("fieldsV1")) - set(wanted) if mine else set()
    merged = merge_patch(clone(live) if live else {}, without_nulls(config))
    for path in released:
        # (not what the configuration still names below it: `labels: {}` before, `labels: {a: b}` now)
        if not any(_related(path, other) for other in (*kept_by_others, *wanted)):
            _remove(merged, path)
    entries = [e for e in others if paths_of(e.get("fieldsV1"))]
    if wanted:
        same = mine is not None and paths_of(mine.get("fieldsV1")) == set(wanted) and live is not None \
            and _content(merged) == _content(live)
        # An apply that changes nothing leaves its entry as it was: no new time, so no new resourceVersion.
        entries.append(mine if same and mine is not None else _entry(manager, "Apply", api_version, now,
                                                                     set(wanted)))
    merged.setdefault("metadata", {})["managedFields"] = entries
    result: KubeObject = merged
    return result


def record_update(old: KubeObject | None, new: KubeObject, *, manager: str, now: str, api_version: str,
                  status_subresource: bool) -> None:
    """Give `manager` the fields a create, update or patch changed (taken from whoever owned them), in
    `new`'s managedFields."""
    before = owned_fields(old, status_subresource=status_subresource) if old else {}
    after = owned_fields(new, status_subresource=status_subresource)
    changed = {path for path, value in after.items() if before.get(path, _MISSING) != value}
    gone = set(before) - set(after)
    entries = _entries(old)
    if old is not None and not changed and not gone:
        # A write that changes nothing keeps the entries as they were (and so stays a no-op).
        new.setdefault("metadata", {})["managedFields"] = entries
        return
    mine = next((e for e in entries if e["manager"] == manager and e.get("operation") == "Update"
                 and not e.get("subresource")), None)
    kept: list[dict[str, Any]] = []
    for entry in entries:
        if entry is mine:
            continue
        owned = {p for p in paths_of(entry.get("fieldsV1"))
                 if not any(_related(p, c) for c in changed) and p not in gone}
        if owned:
            kept.append({**entry, "fieldsV1": fields_v1(owned)})
    ours = (paths_of(mine.get("fieldsV1")) - gone if mine else set()) | changed
    if ours:
        kept.append(_entry(manager, "Update", api_version, now, ours))
    new.setdefault("metadata", {})["managedFields"] = kept


def _content(obj: KubeObject) -> KubeObject:
    """An object without its managedFields and resourceVersion: what a write may change."""
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in ("managedFields", "resourceVersion")}
    return {**obj, "metadata": meta}


def without_nulls(config: Any) -> Any:
    """An object without its null fields: an applied configuration's nulls mean "no opinion", not "delete"
    (merge_patch would delete); a merge patch's remove, and add nothing."""
    if isinstance(config, dict):
        return {k: without_nulls(v) for k, v in config.items() if v is not None}
    return config


def _conflict(conflicts: list[tuple[dict[str, Any], Path]]) -> ConflictError:
    """`NewConflictError` (apimachinery `util/managedfields/internal/conflict.go`)."""
    def dotted(path: Path) -> str:
        return "".join(f".{name}" for name in path)

    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {_describe(entry)}",
               "field": dotted(path)} for entry, path in conflicts]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {_describe(entry)}: {dotted(path)}"
    else:
        lines: list[str] = []
        for name in sorted({e["manager"] for e, _ in conflicts}):
            entry = next(e for e, _ in conflicts if e["manager"] == name)
            lines.append(f"conflicts with {_describe(entry)}:")
            lines += [f"- {dotted(p)}" for e, p in conflicts if e["manager"] == name]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ConflictError(message, details={"causes": causes})

"""Patches as the API server applies them: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and, for the
built-in types, strategic merge patch.

A JSON patch that cannot be applied (a `test` that fails, a path that is not there) is a 422 in
`NewGenericServerResponse`'s words and nothing else (apiserver `handlers/patch.go` `applyJSPatch`); one that
does not decode is a 400. A strategic merge patch is a merge patch that knows how each list merges
(apimachinery `util/strategicpatch`): `metadata.finalizers` is a set, `metadata.ownerReferences` merges by
`uid`, other lists are replaced; `$patch: replace|delete`, `$retainKeys`, `$deleteFromPrimitiveList/<list>`
and `$setElementOrder/<list>` are its directives.
"""

from __future__ import annotations

from typing import Any, Final

import jsonpatch
import jsonpointer

from notifier import BadRequestError, InvalidError, clone

#: Lists of the built-in types that merge instead of being replaced: a set of scalars (None) or a list of
#: objects merged by a key (`patchStrategy:"merge"` and `patchMergeKey` in the Go types).
MERGE_LISTS: Final[dict[str, str | None]] = {"finalizers": None, "ownerReferences": "uid"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = target if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: the operations in order, on a copy; 400 if they do not decode, 422 if one fails."""
    try:
        patch = jsonpatch.JsonPatch(operations)
        if not isinstance(operations, list) or any(not isinstance(op, dict) or "op" not in op for op in operations):
            raise jsonpatch.InvalidJsonPatch("a JSON patch is a list of operations, each with an \"op\"")
    except (jsonpatch.InvalidJsonPatch, TypeError) as error:
        raise BadRequestError(str(error)) from None
    try:
        return patch.apply(clone(target))
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError, IndexError):
        raise InvalidError("the server rejected our request due to an error in our request") from None


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """A strategic merge patch of `target` (a built-in object), as `util/strategicpatch` merges it."""
    if not isinstance(patch, dict):
        return clone(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if directive not in (None, "merge"):
        raise BadRequestError(f"Unknown patch type: {directive}")
    result = target if isinstance(target, dict) else {}
    for name, value in patch.items():
        if name in ("$patch", "$retainKeys") or name.startswith("$setElementOrder/"):
            continue
        if name.startswith("$deleteFromPrimitiveList/"):
            listed = name.split("/", 1)[1]
            result[listed] = [item for item in result.get(listed) or [] if item not in (value or [])]
            continue
        if value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            result.pop(name, None)
        elif name in MERGE_LISTS and isinstance(value, list):
            result[name] = _merge_list(result.get(name) or [], value, MERGE_LISTS[name])
        else:
            result[name] = strategic_merge_patch(result.get(name), value)
    if isinstance(patch.get("$retainKeys"), list):
        for name in [n for n in result if n not in patch["$retainKeys"]]:
            del result[name]
    return result


def _merge_list(current: list[Any], patch: list[Any], key: str | None) -> list[Any]:
    if key is None:  # a set of scalars: what is there, then what is new, in order
        return [*current, *(item for item in patch if item not in current)]
    out = [clone(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise BadRequestError(f"map: {item} does not contain declared merge key: {key}")
        at = next((i for i, have in enumerate(out) if isinstance(have, dict) and have.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if at is not None:
                del out[at]
        elif at is None:
            out.append(clone(item))
        else:
            out[at] = strategic_merge_patch(out[at], item)
    return out

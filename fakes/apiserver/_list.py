"""Lists as the apiserver answers them: pages (`limit`, `continue`), reads at a resourceVersion, and the
validation of their options.

From apiserver `storage/continue.go` (the token), `storage/etcd3/store.go` `GetList` (pages in key order, a
consistent snapshot at the first page's revision, `remainingItemCount` only with no selector),
`storage/etcd3/errors.go` (a compacted continue is 410 Expired with a fresh token), `storage/cacher`
(`resourceVersion=0` is served whole from the watch cache, its `limit` ignored), `storage/errors.go` (a
resourceVersion the server has not reached is a 504 with `Retry-After`), and apimachinery's
`ValidateListOptions`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from fakes.apiserver._options import invalid_option
from notifier import BadRequestError, GoneError, KubeApiError, KubeObject

INCONSISTENT_CONTINUE: Final = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of the "
    "results. Continuing with the provided token results in an inconsistent list - objects that were created, "
    "modified, or deleted between the time the first chunk was returned and now may show up in the list.")


@dataclass(frozen=True, slots=True)
class ListOptions:
    """What a list asks: `limit` (0: all), `continue`, `resourceVersion` and `resourceVersionMatch`."""

    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    match: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> ListOptions:
        try:
            limit = max(0, int(query.get("limit") or 0))  # (a negative limit pages nothing, as 0)
        except ValueError:
            raise BadRequestError(f"invalid limit: {query['limit']!r}") from None
        return cls(limit, query.get("continue", ""), query.get("resourceVersion", ""),
                   query.get("resourceVersionMatch", ""))

    def validate(self) -> None:
        """`ValidateListOptions` (422 on ListOptions) and the storage layer's checks (400)."""
        reason, message = "FieldValueForbidden", ""
        if self.match not in ("", "Exact", "NotOlderThan"):
            reason = "FieldValueNotSupported"
            message = f'Unsupported value: {json.dumps(self.match)}: supported values: "Exact", "NotOlderThan", ""'
        elif self.match and not self.resource_version:
            message = "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
        elif self.match and self.continue_token:
            message = "Forbidden: resourceVersionMatch is forbidden when continue is provided"
        elif self.match == "Exact" and self.resource_version == "0":
            message = 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
        if message:
            invalid_option("ListOptions", "resourceVersionMatch", reason, message)
        if self.continue_token and self.resource_version not in ("", "0"):
            raise BadRequestError("specifying resource version is not allowed when using continue")
        if self.resource_version and not self.resource_version.isdigit():
            raise BadRequestError(f"invalid resource version: {self.resource_version}")


@dataclass(frozen=True, slots=True)
class ListPage:
    """One answer to a list: its items, the revision they are read at, and where the next page starts."""

    items: list[KubeObject]
    resource_version: str
    continue_token: str = ""
    remaining: int | None = None

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": self.resource_version}
        if self.continue_token:
            meta["continue"] = self.continue_token
        if self.remaining is not None:
            meta["remainingItemCount"] = self.remaining
        return meta


def encode_continue(revision: int, start: str) -> str:
    """`EncodeContinue`: JSON `{"v", "rv", "start"}` in URL-safe base64 without padding."""
    data = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """`DecodeContinue`: (revision, start key); a 400 `invalid continue token` when it is none."""
    def bad(why: str = "") -> BadRequestError:
        return BadRequestError(f"invalid continue token: continue key is not valid{why}")

    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise bad() from None
    if not isinstance(data, dict):
        raise bad()
    if data.get("v") != "meta.k8s.io/v1":
        raise bad(f": server does not recognize this encoded version {data.get('v')!r}")
    if not isinstance(data.get("rv"), int) or data["rv"] == 0:
        raise bad(": incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    if not data.get("start"):
        raise bad(": encoded start key empty (version meta.k8s.io/v1)")
    return int(data["rv"]), str(data["start"])


def too_large(wanted: int, current: int) -> KubeApiError:
    """`NewTooLargeResourceVersionError`, as the watch cache answers it after waiting (3 s in the real one)."""
    return KubeApiError(f"Timeout: Too large resource version: {wanted}, current: {current}", code=504,
                        reason="Timeout", details={"causes": [{"reason": "ResourceVersionTooLarge",
                                                               "message": "Too large resource version"}],
                                                   "retryAfterSeconds": 1})


def expired_continue(start: str) -> GoneError:
    """A continue whose revision was compacted: 410 Expired, with a token that goes on from the latest
    revision (`rv: -1`) at the same key (`handleCompactedErrorForPaging`)."""
    return GoneError(INCONSISTENT_CONTINUE, code=410, reason="Expired",
                     details={"continue": encode_continue(-1, start)})


def paginate(keyed: Iterable[tuple[str, KubeObject, bool]], *, start: str, limit: int,
             selected: bool) -> tuple[list[KubeObject], str, int | None]:
    """One page of (key, object, matches) in key order from `start`: up to `limit` matching objects (all of
    them when 0), the next start key if keys remain after the last one read, and how many remain when no
    selector narrowed the list."""
    keys_after = [(key, obj, matches) for key, obj, matches in keyed if key >= start]
    page: list[KubeObject] = []
    last = -1
    for index, (_, obj, matches) in enumerate(keys_after):
        if limit and len(page) >= limit:
            break
        last = index
        if matches:
            page.append(obj)
    left = len(keys_after) - (last + 1)
    if not limit or left == 0:
        return page, "", None
    return page, keys_after[last][0] + "\x00", None if selected else left

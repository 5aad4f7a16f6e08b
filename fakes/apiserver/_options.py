"""A request's options as the API server reads and checks them: `dryRun`, `fieldManager` and `force`,
`resourceVersionMatch` and `sendInitialEvents` on a watch, a JSON body, an applied YAML configuration; each
refusal in apimachinery's words (`ValidateDryRun`, `ValidatePatchOptions`, `validateWatchOptions`)."""

from __future__ import annotations

import json
from typing import Any, Final

import yaml

from notifier import BadRequestError, InvalidError

OPTIONS: Final = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions",
                   "DELETE": "DeleteOptions"}


def dry_run_of(method: str, value: str | list[str] | None) -> bool:
    """`dryRun` (a query parameter, or DeleteOptions' list): only `All` is a value (`ValidateDryRun`)."""
    values = [value] if isinstance(value, str) else list(value or ())
    if any(v != "All" for v in values):
        invalid_option(OPTIONS.get(method, "CreateOptions"), "dryRun", "FieldValueNotSupported",
                       f'Unsupported value: {json.dumps(values)}: supported values: "All"')
    return bool(values)


def invalid_option(kind: str, name: str, reason: str, message: str) -> None:
    """Refuse an option as the handlers do (`errors.NewInvalid` on `<kind>.meta.k8s.io`): a 422 with one cause."""
    raise InvalidError(f'{kind}.meta.k8s.io "" is invalid: {name}: {message}',
                       details={"name": "", "group": "meta.k8s.io", "kind": kind, "causes": [
                           {"reason": reason, "field": name, "message": message}]})


def true(value: str | None) -> bool:
    return value in ("1", "true", "True")


def invalid_list_option(name: str, reason: str, message: str) -> None:
    invalid_option("ListOptions", name, reason, message)


class YamlLoader(yaml.SafeLoader):
    """YAML as the API server reads an applied configuration: a timestamp-like scalar stays a string."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def string_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and string_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(string_keys(item) for item in value)
    return True


def invalid_patch_option(name: str, reason: str, message: str) -> None:
    invalid_option("PatchOptions", name, reason, message)


def watch_options(query: dict[str, str]) -> bool:
    """Whether a watch asks for its initial events (WatchList), checked as `validateWatchOptions` checks it."""
    match, given = query.get("resourceVersionMatch", ""), "sendInitialEvents" in query
    if given and match not in ("", "NotOlderThan"):
        invalid_list_option("resourceVersionMatch", "FieldValueNotSupported",
                             f'Unsupported value: {json.dumps(match)}: supported values: "NotOlderThan"')
    if given and true(query["sendInitialEvents"]) and not match:
        invalid_list_option("resourceVersionMatch", "FieldValueForbidden", "Forbidden: sendInitialEvents "
                             "requires setting resourceVersionMatch to NotOlderThan")
    if match and not given:
        invalid_list_option("resourceVersionMatch", "FieldValueForbidden", "Forbidden: resourceVersionMatch is "
                             "forbidden for watch unless sendInitialEvents is provided")
    return given and true(query["sendInitialEvents"])


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8") if body else "null")
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequestError(f"the body of the request could not be decoded as JSON: {error}") from None

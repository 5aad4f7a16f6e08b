"""Structural-schema defaulting and validation, as the API server applies a CRD's openAPIV3Schema.

Pure: no I/O. Covers what CRDs use: type, enum, minLength/maxLength, pattern, format (date-time, date),
minItems/maxItems, minimum/maximum, required, default,
properties, additionalProperties, items, x-kubernetes-preserve-unknown-fields, and the one transition rule
controllers rely on, `self == oldSelf`. Unknown fields are pruned, as a structural schema prunes them.
Errors name the field path and use the API server's wording.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any

from notifier import clone

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
SUPPORTED_RULES = frozenset({"self == oldSelf"})


@dataclass(frozen=True, slots=True)
class FieldError:
    """One cause of an Invalid answer: `field`, the `reason` word, and the server's message."""

    field: str
    reason: str
    message: str

    def as_cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


def _quote(value: Any) -> str:
    return json.dumps(value)


def _is_type(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    if type_name == "number" and isinstance(value, float) and value != value:  # NaN
        return False
    return isinstance(value, _TYPES.get(type_name, (object,)))


class _Node:
    """One schema node compiled once: what it checks, and whether anything below it defaults, prunes or has a
    transition rule, so that a write walks only the parts of an object where something can happen (the
    API server, too, builds its structural schema and validators once per CRD, not per request)."""

    __slots__ = (
        "can_prune",
        "defaults",
        "enum",
        "extra",
        "format",
        "has_defaults",
        "has_rules",
        "items",
        "max_items",
        "max_length",
        "maximum",
        "min_items",
        "min_length",
        "minimum",
        "nullable",
        "numbers",
        "pattern",
        "preserve",
        "props",
        "required",
        "rules",
        "strings",
        "type_name",
        "walks",
    )

    can_prune: bool
    has_defaults: bool
    has_rules: bool

    def __init__(self, schema: dict[str, Any]) -> None:
        self.type_name: str | None = schema.get("type")
        self.nullable = bool(schema.get("nullable", False))
        self.enum: list[Any] | None = schema.get("enum")
        self.min_length, self.max_length = schema.get("minLength"), schema.get("maxLength")
        self.pattern: str | None = schema.get("pattern")
        self.format = schema.get("format") if schema.get("format") in _FORMATS else None
        self.minimum, self.maximum = schema.get("minimum"), schema.get("maximum")
        self.required: tuple[str, ...] = tuple(schema.get("required", ()))
        self.props = {name: _Node(sub) for name, sub in schema.get("properties", {}).items()}
        extra, items = schema.get("additionalProperties"), schema.get("items")
        self.extra = _Node(extra) if isinstance(extra, dict) else None
        self.items = _Node(items) if isinstance(items, dict) else None
        self.min_items, self.max_items = schema.get("minItems"), schema.get("maxItems")
        self.defaults = tuple((name, sub["default"]) for name, sub in schema.get("properties", {}).items()
                              if "default" in sub)
        children = [*self.props.values(), *(n for n in (self.extra, self.items) if n is not None)]
        self.has_defaults = bool(self.defaults) or any(child.has_defaults for child in children)
        self.preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields", False))
        #: an object whose fields pruning looks at: one that names them or what the others are
        self.walks = self.type_name == "object" and (bool(self.props) or extra is not None)
        # it may lose a field if it keeps no unknown one, or if something below it may
        self.can_prune = (self.walks and not self.preserve and self.extra is None) or (
            (self.walks or self.items is not None) and any(child.can_prune for child in children))
        self.rules: list[dict[str, Any]] = schema.get("x-kubernetes-validations", [])
        self.has_rules = bool(self.rules) or any(child.has_rules for child in self.props.values())
        self.strings = any(v is not None for v in (self.min_length, self.max_length, self.pattern, self.format))
        self.numbers = self.minimum is not None or self.maximum is not None


#: Compiled schemas by their content: every world's server registers the same CRD schema, compiled once per
#: process (bounded: a test that makes schemas of its own makes a few).
_COMPILED: dict[str, _Node] = {}
_MOST_COMPILED = 64


def compile_schema(schema: dict[str, Any] | _Node) -> _Node:
    """The schema compiled into the nodes `apply_defaults`, `prune`, `validate` and `validate_transition`
    walk; each of them also takes the schema itself and compiles it (a server compiles its once)."""
    if isinstance(schema, _Node):
        return schema
    key = json.dumps(schema, sort_keys=True)
    node = _COMPILED.get(key)
    if node is None:
        if len(_COMPILED) >= _MOST_COMPILED:
            _COMPILED.pop(next(iter(_COMPILED)))
        node = _COMPILED[key] = _Node(schema)
    return node


Schema = dict[str, Any] | _Node


def apply_defaults(schema: Schema, value: Any) -> Any:
    """Fill missing fields that have a default, recursively, where their parent object exists."""
    return _defaults(compile_schema(schema), value)


def _defaults(node: _Node, value: Any) -> Any:
    if not node.has_defaults:
        return value
    if isinstance(value, dict):
        for name, default in node.defaults:
            if name not in value:
                value[name] = clone(default)
        for name, sub in node.props.items():
            if name in value:
                value[name] = _defaults(sub, value[name])
        if node.extra is not None:
            for name in value:
                if name not in node.props:
                    value[name] = _defaults(node.extra, value[name])
    elif isinstance(value, list) and node.items is not None:
        return [_defaults(node.items, item) for item in value]
    return value


def prune(schema: Schema, value: Any) -> Any:
    """Drop fields the schema does not know, unless it preserves unknown fields."""
    return _prune(compile_schema(schema), value)


def _prune(node: _Node, value: Any) -> Any:
    if not node.can_prune:
        return value
    if isinstance(value, dict) and node.walks:
        props, extra = node.props, node.extra
        for name in list(value):
            if name in props:
                value[name] = _prune(props[name], value[name])
            elif extra is not None:
                value[name] = _prune(extra, value[name])
            elif not node.preserve:
                del value[name]
    elif isinstance(value, list) and node.items is not None:
        return [_prune(node.items, item) for item in value]
    return value


#: ObjectMeta's fields: any other under `metadata` is unknown, whatever the schema says of `metadata`.
OBJECT_META = frozenset({"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                         "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
                         "annotations", "ownerReferences", "finalizers", "managedFields"})


def unknown_fields(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """The paths `prune` would drop, as apiextensions' pruning reports them for `fieldValidation`
    (`spec.foo`, `spec.items[0].foo`: `schema/options.go` `AppendKey`/`AppendIndex`), in document order."""
    out: list[str] = []
    if isinstance(value, dict) and path == "" and isinstance(value.get("metadata"), dict):
        out += [f"metadata.{name}" for name in value["metadata"] if name not in OBJECT_META]
    if isinstance(value, dict) and schema.get("type") == "object":
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not props and extra is None:
            return out
        for name, item in value.items():
            if path == "" and name == "metadata":
                continue
            if name in props:
                out += unknown_fields(props[name], item, _join(path, name))
            elif isinstance(extra, dict):
                out += unknown_fields(extra, item, _join(path, name))
            elif not schema.get("x-kubernetes-preserve-unknown-fields", False):
                out.append(_join(path, name))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            out += unknown_fields(schema["items"], item, f"{path}[{index}]")
    return out


def validate(schema: Schema, value: Any, path: str = "", root: str = "") -> list[FieldError]:
    """Every violation of `schema` by `value`, in document order. Messages name a field relative to `root`
    ("`x in body`"), as a validator rooted there does: the status subresource's is rooted at `status`
    (apiextensions' `ValidateStatusUpdate`), so its errors read `status.x: ...: x in body ...`."""
    errors: list[FieldError] = []
    _validate(compile_schema(schema), value, path, root, errors)
    return errors


def _validate(node: _Node, value: Any, path: str, root: str, errors: list[FieldError]) -> None:
    type_name = node.type_name
    if value is None:
        if not node.nullable and type_name is not None:
            errors.append(FieldError(path, "FieldValueTypeInvalid", f"Invalid value: \"null\": {path} in "
                                     f"body must be of type {type_name}: \"null\""))
        return
    if type_name is not None and not _is_type(value, type_name):
        got = _json_type(value)
        errors.append(FieldError(path, "FieldValueTypeInvalid", f"Invalid value: \"{got}\": {_body(path, root)} "
                                                                f"in body must be of type {type_name}: \"{got}\""))
        return
    if node.enum is not None and value not in node.enum:
        supported = ", ".join(_quote(v) for v in node.enum)
        errors.append(FieldError(path, "FieldValueNotSupported",
                                 f"Unsupported value: {_quote(value)}: supported values: {supported}"))
    if node.strings and isinstance(value, str):
        _strings(node, value, path, _body(path, root), errors)
    if node.numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        at = _body(path, root)
        if node.minimum is not None and value < node.minimum:
            errors.append(FieldError(path, "FieldValueInvalid",
                                     f"Invalid value: {value}: {at} in body should be greater than or "
                                     f"equal to {node.minimum}"))
        if node.maximum is not None and value > node.maximum:
            errors.append(FieldError(path, "FieldValueInvalid",
                                     f"Invalid value: {value}: {at} in body should be less than or "
                                     f"equal to {node.maximum}"))
    if isinstance(value, dict):
        for name in node.required:
            if name not in value:
                errors.append(FieldError(_join(path, name), "FieldValueRequired", "Required value"))
        props, extra = node.props, node.extra
        if props or extra is not None:
            for name, item in value.items():
                sub = props.get(name, extra)
                if sub is not None:
                    _validate(sub, item, f"{path}.{name}" if path else name, root, errors)
    elif isinstance(value, list):
        if node.max_items is not None and len(value) > node.max_items:
            errors.append(FieldError(path, "FieldValueTooMany",
                                     f"Too many: {len(value)}: must have at most {node.max_items} items"))
        if node.min_items is not None and len(value) < node.min_items:
            errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: {len(value)}: {_body(path, root)} "
                                                                f"in body should have at least {node.min_items} "
                                                                f"items"))
        if node.items is not None:
            for index, item in enumerate(value):
                _validate(node.items, item, f"{path}[{index}]", root, errors)


def _strings(node: _Node, value: str, path: str, at: str, errors: list[FieldError]) -> None:
    if node.min_length is not None and len(value) < node.min_length:
        errors.append(FieldError(path, "FieldValueInvalid",
                                 f"Invalid value: {_quote(value)}: {at} in body should be at least "
                                 f"{node.min_length} chars long"))
    if node.max_length is not None and len(value) > node.max_length:
        errors.append(FieldError(path, "FieldValueTooLong", f"Too long: may not be more than {node.max_length} bytes"))
    if node.pattern is not None and re.search(node.pattern, value) is None:
        errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: {_quote(value)}: {at} in body "
                                                            f"should match '{node.pattern}'"))
    if node.format is not None and not _FORMATS[node.format](value):
        errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: {_quote(value)}: {at} in body "
                                                            f"must be of type {node.format}: {_quote(value)}"))


def _date_time(text: str) -> bool:
    """kube-openapi's `strfmt.IsDateTime`: RFC 3339 and the ISO 8601 shapes its `ParseDateTime` accepts."""
    match = _DATE_TIME.match(text)
    if match is None:
        return False
    try:
        datetime.datetime.fromisoformat(f"{match.group(1)}T{match.group(2) or '00:00'}{match.group(3) or ''}")
    except ValueError:
        return False
    return True


def _date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})"
                        r"(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)([Zz]|[+-]\d{2}:?\d{2})?)?$")
#: The string formats checked (kube-openapi's `strfmt` registry has more; the CRD uses these).
_FORMATS = {"date-time": _date_time, "date": _date}


def validate_transition(schema: Schema, new: Any, old: Any, path: str = "") -> list[FieldError]:
    """The transition rules (`x-kubernetes-validations` with `oldSelf`) of `schema` and its properties."""
    errors: list[FieldError] = []
    _transition(compile_schema(schema), new, old, path, errors)
    return errors


def _transition(node: _Node, new: Any, old: Any, path: str, errors: list[FieldError]) -> None:
    if not node.has_rules:
        return
    for rule in node.rules:
        if rule["rule"] not in SUPPORTED_RULES:
            raise ValueError(f"unsupported validation rule {rule['rule']!r}; supported: {sorted(SUPPORTED_RULES)}")
        if old is not None and new != old:
            message = rule.get("message", f"failed rule: {rule['rule']}")
            errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: \"object\": {message}"))
    if isinstance(new, dict) and isinstance(old, dict):
        for name, sub in node.props.items():
            if name in new and name in old:
                _transition(sub, new[name], old[name], _join(path, name), errors)


def check_rules_supported(schema: dict[str, Any]) -> None:
    """Raise ValueError at registration if the schema uses a rule this fake cannot evaluate."""
    validate_transition(schema, None, None)
    for sub in schema.get("properties", {}).values():
        check_rules_supported(sub)


def validate_name(name: str, path: str = "metadata.name") -> list[FieldError]:
    """A DNS-1123 subdomain of at most 253 characters, as object names must be."""
    if not name:
        return [FieldError(path, "FieldValueRequired", "Required value: name or generateName is required")]
    if len(name) > 253:
        return [FieldError(path, "FieldValueInvalid",
                           f"Invalid value: {_quote(name)}: must be no more than 253 characters")]
    if not _DNS1123_SUBDOMAIN.match(name):
        return [FieldError(path, "FieldValueInvalid",
                           f"Invalid value: {_quote(name)}: a lowercase RFC 1123 subdomain must consist of lower "
                           f"case alphanumeric characters, '-' or '.', and must start and end with an "
                           f"alphanumeric character")]
    return []


def _body(path: str, root: str) -> str:
    return path[len(root) + 1:] if root and path.startswith(root + ".") else path


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _json_type(value: Any) -> str:
    for name in ("boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return name
    return type(value).__name__

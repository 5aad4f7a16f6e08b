"""Label and field selectors, parsed and matched as apimachinery's `labels.Parse` and `fields.ParseSelector` do.

Label selectors have the whole grammar of `pkg/labels/selector.go`: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
`k notin (a,b)`, `k` (exists), `!k` (does not exist), `k>1`, `k<1`. `!=` and `notin` also match an object
without the label. Field selectors (`pkg/fields/selector.go`) have `=`, `==` and `!=` terms, a backslash
escaping `,`, `=` and `!`; which field labels a resource supports is the server's to say (`ApiServer`):
`metadata.name` and `metadata.namespace` everywhere, a CustomResource's declared `selectableFields`, and the
fields the Event strategy exposes. A malformed selector, or an unsupported field, is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier import EVENTS, BadRequestError, KubeObject, ResourceType

#: A label key: an optional DNS-subdomain prefix and `/`, then a name (`validation.IsQualifiedName`).
_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
#: A label value's shape (`validation.IsValidLabelValue`; at most 63 bytes besides).
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
#: The lexer's tokens (`labels.Lexer`): operators, parentheses, commas, and identifiers (anything else up
#: to a space or one of those); `in` and `notin` are keywords. `gt` and `lt` are no tokens: `>` and `<` are.
_TOKEN = re.compile(r"[ \t\r\n]*(==|!=|=|!|>|<|\(|\)|,|[^ \t\r\n=!<>(),]+)")


#: The field labels of an events.k8s.io/v1 Event besides its name and namespace (the Event strategy's
#: `ToSelectableFields`, under the names of `pkg/apis/events/v1`'s `AddFieldLabelConversionsForEvent`).
EVENT_FIELDS = ("regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
                "regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath", "reason",
                "reportingController", "source", "type")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One label term: `key op values` (op in =, !=, in, notin, exists, !, gt, lt)."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present or not _INTEGER.fullmatch(value):  # gt, lt: an integer label, or no match
            return False
        have, bound = int(value), int(self.values[0])
        return have > bound if self.op == "gt" else have < bound


@dataclass(frozen=True, slots=True)
class FieldTerm:
    """One field term: `field=value` or `field!=value`."""

    field: str
    value: str
    negated: bool = False

    def matches(self, fields: Mapping[str, str]) -> bool:
        return (fields.get(self.field, "") == self.value) != self.negated


@dataclass(frozen=True, slots=True)
class Selector:
    """A list's or watch's filter: every label requirement and every field term must hold."""

    labels: tuple[Requirement, ...] = ()
    fields: tuple[FieldTerm, ...] = ()

    @classmethod
    def parse(cls, label_selector: str = "", field_selector: str = "") -> Selector:
        return cls(parse_labels(label_selector), parse_fields(field_selector))

    def __bool__(self) -> bool:
        return bool(self.labels or self.fields)

    def field(self, name: str) -> str | None:
        """The value an `=` term requires of a field, if one does (a namespace or a name to narrow to)."""
        return next((t.value for t in self.fields if t.field == name and not t.negated), None)

    def matches(self, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.labels) and all(t.matches(fields) for t in self.fields)


def parse_labels(selector: str) -> tuple[Requirement, ...]:
    """The requirements of a label selector, in the order written, or a 400 worded as `labels.Parse`'s
    errors are (`Parser.parse`: an error inside a requirement is prefixed `unable to parse requirement: `)."""
    tokens = [*_TOKEN.findall(selector), ""]  # "" is the end of the string
    at = 0
    out: list[Requirement] = []
    if tokens[0] == "":
        return ()
    while True:
        if not _identifier(tokens[at]) and tokens[at] != "!":
            raise BadRequestError(f"found '{tokens[at]}', expected: !, identifier, or 'end of string'")
        try:
            requirement, at = _requirement(tokens, at)
        except ValueError as error:
            raise BadRequestError(f"unable to parse requirement: {error}") from None
        out.append(requirement)
        if tokens[at] == "":
            return tuple(out)
        if tokens[at] != ",":
            raise BadRequestError(f"found '{tokens[at]}', expected: ',' or 'end of string'")
        at += 1
        if not _identifier(tokens[at]) and tokens[at] != "!":
            raise BadRequestError(f"found '{tokens[at]}', expected: identifier after ','")


_OPERATORS = ("in", "notin", "=", "==", "!=", ">", "<")
_INTEGER = re.compile(r"-?[0-9]+")


def _identifier(token: str) -> bool:
    return bool(token) and token not in ("!", "=", "==", "!=", ">", "<", "(", ")", ",", "in", "notin")


def _value_token(token: str) -> bool:
    """A value may be any identifier, `in` and `notin` too (the lexer reads values in its `Values` mode)."""
    return bool(token) and token not in ("!", "=", "==", "!=", ">", "<", "(", ")", ",")


def _requirement(tokens: list[str], at: int) -> tuple[Requirement, int]:
    """One requirement from `tokens[at]` (`parseRequirement`); a ValueError says why not."""
    negated = tokens[at] == "!"
    at += negated
    key = tokens[at]
    if not _identifier(key):
        raise ValueError(f"found '{key}', expected: identifier")
    if not _KEY.match(key):
        raise ValueError(f'<nil>: Invalid value: "{key}": name part must consist of alphanumeric characters, '
                         f"'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
                         f"or 'my.name',  or '123-abc', regex used for validation is "
                         f"'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    at += 1
    if negated or tokens[at] in ("", ","):
        return Requirement(key, "!" if negated else "exists"), at
    op = tokens[at]
    if op not in _OPERATORS:
        raise ValueError(f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")
    at += 1
    if op in ("in", "notin"):
        if tokens[at] != "(":
            raise ValueError(f"found '{tokens[at]}' expected: '('")
        at += 1
        values: list[str] = []
        while True:  # `parseValues` and `parseIdentifiersList`: an empty place between commas is ""
            if _value_token(tokens[at]):
                values.append(tokens[at])
                at += 1
            elif tokens[at] in (",", ")"):
                values.append("")
            else:
                raise ValueError(f"found '{tokens[at]}', expected: ',', ')' or identifier")
            if tokens[at] == ")":
                at += 1
                break
            if tokens[at] != ",":
                raise ValueError(f"found '{tokens[at]}', expected: ',' or ')'")
            at += 1
    else:
        value = tokens[at]
        if value in ("", ","):
            value = ""  # `a=` asks for the empty value
        elif not _value_token(value):
            raise ValueError(f"found '{value}', expected: identifier")
        else:
            at += 1
        values = [value]
    for index, value in enumerate(values):
        if op in (">", "<"):
            if not _INTEGER.fullmatch(value):
                raise ValueError(f'values[{index}]: Invalid value: "{value}": for \'Gt\', \'Lt\' operators, the '
                                 f"value must be an integer")
        elif len(value) > 63:
            raise ValueError(f'values[{index}][{key}]: Invalid value: "{value}": must be no more than 63 bytes')
        elif not _VALUE.match(value):
            raise ValueError(f'values[{index}][{key}]: Invalid value: "{value}": a valid label must be an empty '
                             f"string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
                             f"end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
                             f"regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
    kind = {"==": "=", ">": "gt", "<": "lt"}.get(op, op)
    return Requirement(key, kind, tuple(sorted(set(values)))), at


def parse_fields(selector: str) -> tuple[FieldTerm, ...]:
    """The terms of a field selector (`fields.ParseSelector`): `,` separates them, each splits at its first
    `!=`, `==` or `=`, and its value may escape `\\`, `,` and `=` with a backslash."""
    terms: list[FieldTerm] = []
    for raw in _split_unescaped(selector, ","):
        if not raw:
            continue
        split = next(((raw[:i], op, raw[i + len(op):]) for i in range(len(raw))
                      for op in ("!=", "==", "=") if raw.startswith(op, i)), None)
        if split is None:
            raise BadRequestError(f"invalid selector: '{selector}'; can't understand '{raw}'")
        field, op, value = split
        terms.append(FieldTerm(field, _unescape(value), negated=op == "!="))
    return tuple(terms)


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current) + ("\\" if escaped else ""))  # a trailing backslash: `_unescape` refuses it
    return parts


def _unescape(value: str) -> str:
    """`fields.UnescapeValue`."""
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise BadRequestError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise BadRequestError(f"invalid field selector: unescaped character in value: {ord(char)}")
        else:
            out.append(char)
    if escaped:
        raise BadRequestError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def check_field_labels(selectable: tuple[str, ...], selector: Selector) -> None:
    """A field selector names only `metadata.name`, `metadata.namespace` and the `selectable` fields, or it is
    a 400 as the field label conversion words it: apiextensions' `crConverter` and the Event's say `field
    label not supported`; a type with none of its own (a Lease) has `DefaultMetaV1FieldSelectorConversion`'s
    words."""
    for term in selector.fields:
        if term.field in ("metadata.name", "metadata.namespace") or term.field in selectable:
            continue
        if selectable:
            raise BadRequestError(f"field label not supported: {term.field}")
        raise BadRequestError(f'"{term.field}" is not a known field selector: only "metadata.name", '
                              f'"metadata.namespace"')


def field_labels(resource: ResourceType, selectable: tuple[str, ...], obj: KubeObject) -> dict[str, str]:
    """An object's field labels and their values (`fmt.Sprint` of each): a missing field is the empty string."""
    meta = obj.get("metadata", {})
    out = {"metadata.name": str(meta.get("name", "")), "metadata.namespace": str(meta.get("namespace", ""))}
    for label in selectable:
        path = label
        if resource == EVENTS and label == "source":  # the deprecated source's component, or the reporter
            path = "deprecatedSource.component" if (obj.get("deprecatedSource") or {}).get("component") \
                else "reportingController"
        value: Any = obj
        for step in path.split("."):
            value = value.get(step) if isinstance(value, dict) else None
        out[label] = "" if value is None or isinstance(value, dict | list) else (
            str(value).lower() if isinstance(value, bool) else str(value))
    return out

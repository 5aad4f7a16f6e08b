"""YAML files validated by pydantic models, with errors that name the file, the line and the field.

Pure apart from reading the text it is given: the caller reads the file. Used for routing files here and for
scenario files by the harness.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from notifier._errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(ConfigError):
    """A configuration file is unreadable or invalid. Carries `path`, `line` (1-based, 0 unknown), `field`."""

    def __init__(self, path: str, line: int, field: str, problem: str) -> None:
        where = f"{path}:{line}" if line else path
        subject = f"{field}: " if field else ""
        super().__init__(f"{where}: {subject}{problem}")
        self.path = path
        self.line = line
        self.field = field
        self.problem = problem


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> Any:
    # Cached: the simulator loads the same routing text into every replica of every run. Validation only
    # reads the parsed data, so sharing it is safe.
    return yaml.load(text, Loader=_LOADER)  # a safe loader, C-accelerated where available


def load_model(text: str, model: type[M], path: str) -> M:
    """Parse `text` as YAML and validate it with `model`.

    Raises:
        ConfigFileError: bad YAML, or the first validation error, naming its line and dotted field.
    """
    try:
        data = _parse(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigFileError(path, line, "", f"not valid YAML: {problem}") from None
    if data is None:
        raise ConfigFileError(path, 1, "", "the file is empty")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        # Composed only now: line numbers are needed for errors, and parsing twice doubled the cost of a load.
        line, parts = _locate(yaml.compose(text, Loader=_LOADER), list(first["loc"]))
        raise ConfigFileError(path, line, _dotted(parts), _wording(first)) from None


def field_line(node: yaml.Node | None, path: list[str | int]) -> int:
    """The line of the field at `path` (keys and list indexes) under `node`, or of its deepest ancestor there."""
    return _locate(node, list(path))[0]


def _dotted(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _wording(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    value = error.get("input")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message[0].lower()}{message[1:]}, got {value!r}"
    return message[0].lower() + message[1:]


def _locate(node: yaml.Node | None, loc: list[Any]) -> tuple[int, list[Any]]:
    """The line of the deepest node along `loc`, and the parts of `loc` that are real keys or indexes.

    pydantic puts type tags in `loc` (union members such as `constrained-int`, `[key]`, validator names);
    those are not in the file and are dropped. A missing field points at its parent's line.
    """
    line = node.start_mark.line + 1 if node is not None else 0
    parts: list[Any] = []
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((key, value) for key, value in node.value if key.value == part), None)
            if found is None:
                if isinstance(part, str) and _looks_like_field(part) and not _repeats(parts, part):
                    parts.append(part)
                continue
            line = found[0].start_mark.line + 1
            parts.append(part)
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
            parts.append(part)
    return line, parts


def _looks_like_field(part: str) -> bool:
    return part.replace("_", "").replace(".", "").replace(":", "").isalnum() and part[:1].islower() and "-" not in part


def _repeats(parts: list[Any], part: str) -> bool:
    return bool(parts) and parts[-1] == part

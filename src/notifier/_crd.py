"""The NotificationRequest CRD manifest, shipped as `crd.yaml` beside this module."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

from notifier._resources import clone


def crd_text() -> str:
    """The manifest as YAML text, exactly as shipped."""
    return resources.files("notifier").joinpath("crd.yaml").read_text(encoding="utf-8")


def crd_manifest() -> dict[str, Any]:
    """The manifest parsed: a `CustomResourceDefinition` object, the caller's own copy."""
    manifest: dict[str, Any] = clone(_parsed())
    return manifest


@functools.cache
def _parsed() -> dict[str, Any]:
    # Parsed once per process: the simulator builds a fake API server per run, and parsing YAML cost more
    # than the run itself.
    loaded: dict[str, Any] = yaml.safe_load(crd_text())
    return loaded

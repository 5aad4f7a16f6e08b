"""An in-process Kubernetes API server with real API-machinery semantics, and its `KubeApi` client."""

import typing as _typing

from fakes.apiserver._client import ApiFaults, FakeKubeApi, NoFaults
from fakes.apiserver._patch import merge_patch
from fakes.apiserver._schema import FieldError
from fakes.apiserver._server import ApiServer, ResourceRules
from fakes.apiserver._watch import Change, Watcher
from fakes.lazy import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from fakes.apiserver._http import HttpApiServer

#: Exports imported when first asked for: the HTTPS front pulls in its web stack, which the in-process
#: server the simulator uses never needs.
_LAZY: _typing.Final = {"HttpApiServer": "fakes.apiserver._http"}

__getattr__ = _lazy_exports(__name__, _LAZY)

__all__ = [
    "ApiFaults",
    "ApiServer",
    "Change",
    "FakeKubeApi",
    "FieldError",
    "HttpApiServer",
    "NoFaults",
    "ResourceRules",
    "Watcher",
    "merge_patch",
]

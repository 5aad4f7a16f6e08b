"""An in-process Kubernetes API server with real API-machinery semantics, and its `KubeApi` client."""

from fakes.apiserver._client import ApiFaults, FakeKubeApi, NoFaults
from fakes.apiserver._http import HttpApiServer
from fakes.apiserver._patch import merge_patch
from fakes.apiserver._schema import FieldError
from fakes.apiserver._server import ApiServer, ResourceRules
from fakes.apiserver._watch import Change, Watcher

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

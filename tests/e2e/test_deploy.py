"""The controller as it is deployed: `notifier manifests` validates against the Kubernetes schemas, and
`notifier run` works under exactly the Role it ships (every call allowed, any other refused), serving its
probes."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator

import kubernetes_validate
import pytest
import yaml
from kubernetes import config as kube_config

from notifier import NOTIFICATIONS, ForbiddenError
from notifier._adapters.kube import OfficialKubeApi
from tests.conftest import notification
from tests.e2e.conftest import Process, Sandbox, _script, wait_for

KUBERNETES = "1.32"


def _manifests(*args: str) -> list[dict[str, object]]:
    done = subprocess.run([_script("notifier"), "manifests", *args], capture_output=True, text=True, check=True)
    return list(yaml.safe_load_all(done.stdout))


def test_the_manifests_validate_offline_against_the_kubernetes_schemas() -> None:
    """kubernetes-validate, strict (no unknown field), on every document; and it does refuse a broken one."""
    documents = _manifests("--namespace", "alerts", "--replicas", "3")
    assert [d["kind"] for d in documents] == ["CustomResourceDefinition", "Namespace", "ServiceAccount", "Role",
                                              "RoleBinding", "Deployment"]
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
    deployment = documents[-1]
    assert deployment["spec"]["replicas"] == 3  # type: ignore[index]
    deployment["spec"]["replicas"] = "three"  # type: ignore[index]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def test_bad_options_are_one_line_and_exit_2() -> None:
    done = subprocess.run([_script("notifier"), "manifests", "--replicas", "0"], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip() == "notifier manifests: --replicas must be at least 1, not 0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@pytest.fixture(scope="module")
def under_role(sandbox: Sandbox) -> Iterator[tuple[Sandbox, Process, int]]:
    port = _free_port()
    controller = sandbox.start_controller("notifier-0", "--metrics-port", str(port),
                                          kubeconfig=sandbox.directory / "kubeconfig-notifier")
    wait_for(lambda: "started" in controller.text() or controller.popen.poll() is not None, "the controller")
    assert controller.popen.poll() is None, controller.text()
    yield sandbox, controller, port


def test_the_controller_delivers_under_its_role_and_every_call_it_makes_is_allowed(
        under_role: tuple[Sandbox, Process, int]) -> None:
    """The sandbox serves the controller's ServiceAccount with the Role `notifier manifests` ships: informer,
    reconciles, status writes, Leases and Events all pass; the sandbox reports any refusal."""
    sandbox, controller, port = under_role
    asyncio.run(sandbox.api().create(NOTIFICATIONS, "default", notification("under-role", priority="High")))

    def phase() -> str:
        got = asyncio.run(sandbox.api().get(NOTIFICATIONS, "default", "under-role"))
        return str(got.get("status", {}).get("phase", ""))

    wait_for(lambda: phase() == "Sent", "phase Sent")
    refused = [line for line in sandbox.serve.text().splitlines()
               if "RBAC refused" in line and '"kept"' not in line]  # (the next test's refusal is on purpose)
    assert refused == []
    assert "Forbidden" not in controller.text() and "403" not in controller.text()
    base = f"http://127.0.0.1:{port}"
    assert (_status(f"{base}/healthz"), _status(f"{base}/readyz")) == (200, 200)
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
        assert b"kubernaut_notification_reconciler_active" in answer.read()


def test_a_call_outside_the_role_is_refused_with_the_real_status(under_role: tuple[Sandbox, Process, int]) -> None:
    """RBAC's 403 (`ForbiddenStatusError`): the verb, the resource, its group and namespace, as the real server
    words it."""
    sandbox, _, _ = under_role
    client = kube_config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(sandbox.directory / "kubeconfig-notifier"))
    api = OfficialKubeApi(client, request_timeout=10)
    asyncio.run(sandbox.api().create(NOTIFICATIONS, "default", notification("kept")))
    with pytest.raises(ForbiddenError) as caught:
        asyncio.run(api.delete(NOTIFICATIONS, "default", "kept"))
    assert caught.value.code == 403
    assert caught.value.message == (
        'notificationrequests.kubernaut.ai "kept" is forbidden: User "system:serviceaccount:default:notifier" '
        'cannot delete resource "notificationrequests" in API group "kubernaut.ai" in the namespace "default"')
    wait_for(lambda: "RBAC refused" in sandbox.serve.text(), "the sandbox to report the refusal")


def test_the_role_grants_exactly_what_the_controller_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other half of "exactly": every verb the Role grants is one the controller uses. Every bundled
    scenario with the Lease lock (and one with leader election) is run, every API call recorded, and the
    calls must cover the Role's rules, no more and no less."""
    from fakes.apiserver import FakeKubeApi, NoFaults
    from harness._run import run
    from harness._scenario import bundled_dir, load_scenario
    from notifier._manifests import ROLE_RULES

    calls: set[tuple[str, str, str]] = set()
    enter = FakeKubeApi._enter

    async def recording(self: FakeKubeApi, verb: str, resource: object, name: str = "") -> None:
        if not isinstance(self.faults, NoFaults):  # a replica's (the world's own client has no faults)
            kind = {"update_status": ("update", "/status")}.get(verb, (verb, ""))
            calls.add((resource.group, resource.plural + kind[1], kind[0]))  # type: ignore[attr-defined]
        await enter(self, verb, resource, name)  # type: ignore[arg-type]

    monkeypatch.setattr(FakeKubeApi, "_enter", recording)
    for name in ("two-replicas-lease", "lease-held-across-retries", "recreate-while-leased"):
        run(load_scenario(bundled_dir() / f"{name}.yaml"), 0)
    granted = {(group, resource, verb) for rule in ROLE_RULES for group in rule["apiGroups"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    assert calls == granted

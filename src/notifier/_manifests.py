"""`notifier manifests`: what deploys the controller into a namespace.

The CRD, a Namespace, a ServiceAccount, a Role with exactly the verbs the controller uses and a RoleBinding,
and a Deployment: the replica id from the pod name, `--lock lease`, the metrics port, and liveness and
readiness probes on it (`/healthz`, `/readyz`, which `notifier run --metrics-port` serves).

`ROLE_RULES` is the controller's whole use of the API: its informer lists and watches NotificationRequests,
its reconciles read them and write their status, its delivery lock (and leader election) reads, creates and
updates Leases, and it records Events. The sandbox serves the controller under exactly this Role, and an
end-to-end test shows every call it makes is allowed.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from notifier._crd import crd_manifest

NAME: Final = "notifier"
METRICS_PORT: Final = 8080
ROLE_RULES: Final[list[dict[str, list[str]]]] = [
    {"apiGroups": ["kubernaut.ai"], "resources": ["notificationrequests"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["kubernaut.ai"], "resources": ["notificationrequests/status"], "verbs": ["update"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
]


def role(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": NAME, "namespace": namespace, "labels": _labels()},
            "rules": [dict(rule) for rule in ROLE_RULES]}


def manifests(*, namespace: str = NAME, replicas: int = 2, image: str = "notifier:latest") -> list[dict[str, Any]]:
    """Every object to apply, in the order to apply them."""
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, not {replicas}")
    labels = _labels()
    account = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": NAME, "namespace": namespace, "labels": labels}}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
               "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}]}
    probe = {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 10, "failureThreshold": 3}
    container = {
        "name": NAME, "image": image,
        "command": ["notifier", "run", "--namespace", namespace, "--lock", "lease",
                    "--metrics-port", str(METRICS_PORT)],
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
        "livenessProbe": probe,
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "metrics"}, "periodSeconds": 5},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"serviceAccountName": NAME, "containers": [container]}}},
    }
    namespace_object = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}
    return [crd_manifest(), namespace_object, account, role(namespace), binding, deployment]


def manifests_text(**options: Any) -> str:
    return yaml.safe_dump_all(manifests(**options), sort_keys=False)


def _labels() -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME}

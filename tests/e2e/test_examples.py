"""The files a user copies: `examples/` matches what `serve` writes for its default ports, and `serve`'s
bad input is one line and exit code 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from fakes.backends import Backends
from harness._sandbox import DEFAULT_PORT, ENDPOINTS, routing_text
from harness.cli import main
from notifier._adapters import AsyncioRuntime
from notifier._routing import RoutingConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_are_what_serve_writes_for_the_default_ports() -> None:
    backends_url = f"http://127.0.0.1:{DEFAULT_PORT + 1}"
    assert (EXAMPLES / "routing.yaml").read_text() == routing_text(backends_url)
    backends = Backends(AsyncioRuntime(), base_url=backends_url)
    for service, name, ref in ENDPOINTS:
        assert (EXAMPLES / "credentials" / ref).read_text().strip() == backends.add(service, name).secret


def test_the_example_routing_file_is_valid_and_routes_critical_to_the_pager() -> None:
    config = RoutingConfig.model_validate(yaml.safe_load((EXAMPLES / "routing.yaml").read_text()))
    assert [r.name for r in config.receivers] == ["team-alerts", "on-call"]
    assert config.route.routes[0].match == {"priority": "Critical"}


def test_serve_writes_the_example_notification_beside_its_routing_file(tmp_path: Path) -> None:
    """A user of the wheel has no `examples/`: `serve` writes the same notification into its directory."""
    from harness._sandbox import EXAMPLE, start

    sandbox = start(tmp_path / "sandbox", port=0)
    try:
        written = sandbox.routing.with_name("notification.yaml")
        assert yaml.safe_load(written.read_text()) == EXAMPLE == yaml.safe_load((EXAMPLES / "notification.yaml")
                                                                              .read_text())
    finally:
        sandbox.stop()


@pytest.mark.parametrize("name", ["notification.yaml", "critical.yaml"])
def test_example_notifications_are_notification_requests(name: str) -> None:
    body = yaml.safe_load((EXAMPLES / name).read_text())
    assert body["kind"] == "NotificationRequest" and body["metadata"]["namespace"] == "default"


def test_serve_on_a_taken_port_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already in use" in err and "--port" in err

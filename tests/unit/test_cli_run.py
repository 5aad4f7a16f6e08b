"""`notifier run` refuses bad input with one clear line and exit code 2, before starting anything."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from notifier.cli import main

ROUTING = "route: {receiver: a}\nreceivers:\n  - name: a\n    slackConfigs: [{credentialRef: hook}]\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "hook").write_text("https://hooks.example/secret\n")
    (tmp_path / "routing.yaml").write_text(ROUTING)
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["run", *argv])
    return code, capsys.readouterr().err.strip()


def test_missing_kubeconfig_exits_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--kubeconfig", str(files / "none")], capsys) == (
        2, f"notifier: kubeconfig {str(files / 'none')!r} does not exist")


def test_invalid_kubeconfig_exits_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "kc").write_text("apiVersion: v1\n")
    code, err = run(["--kubeconfig", str(files / "kc")], capsys)
    assert code == 2 and err.startswith(f"notifier: cannot load kubeconfig {str(files / 'kc')!r}: ")


def test_missing_credentials_directory_exits_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["--credentials-dir", str(files / "nope")], capsys)
    assert code == 2 and err == (f"notifier: credentials directory {str(files / 'nope')!r} does not exist or "
                                 f"is not a directory")


def test_unreadable_routing_file_exits_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["--routing", str(files / "missing.yaml")], capsys)
    assert code == 2 and err.startswith(f"notifier: cannot read routing file {str(files / 'missing.yaml')!r}")


def test_invalid_routing_file_names_file_line_and_field(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = files / "bad.yaml"
    bad.write_text(ROUTING.replace("credentialRef: hook", "credentialRef: hook, colour: red"))
    code, err = run(["--routing", str(bad), "--credentials-dir", str(files / "creds")], capsys)
    assert (code, err) == (2, f"notifier: {bad}:4: receivers[0].slackConfigs[0].colour: unknown field")


def test_routing_credential_without_a_file_exits_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "creds" / "hook").unlink()
    code, err = run(["--routing", str(files / "routing.yaml"), "--credentials-dir", str(files / "creds")], capsys)
    assert code == 2 and "credentialRef 'hook' has no file in the credentials directory" in err


def test_zero_workers_exits_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--workers", "0"], capsys) == (2, "notifier: --workers must be at least 1, not 0")


def test_production_logging_never_prints_webhook_urls(caplog: pytest.LogCaptureFixture) -> None:
    from notifier._adapters.run import configure_logging

    configure_logging()
    with caplog.at_level(logging.INFO):
        logging.getLogger("httpx").info('HTTP Request: POST https://hooks.slack.com/services/T0/B0/SECRET "200 OK"')
        logging.getLogger("tests.control").info("delivered")  # the same level still gets through
    assert "SECRET" not in caplog.text and "delivered" in caplog.text

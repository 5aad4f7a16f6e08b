"""JUnit XML: what `check` and `run` write for a CI system, and `merge`, which joins the files of a campaign's
shards into one (the CI matrix's jobs each write one; the report page wants one)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notifier import ConfigFileError


@dataclass(slots=True)
class Case:
    """One JUnit test case."""

    suite: str
    name: str
    seconds: float
    failure: str | None = None


def write(cases: Sequence[Case], path: Path, *, title: str, suites: Iterable[str] | None = None) -> None:
    """One `testsuite` per suite (in `suites`' order, else as first met), one `testcase` per case."""
    root = ET.Element("testsuites", name=title)
    for suite_name in dict.fromkeys(suites if suites is not None else (case.suite for case in cases)):
        mine = [case for case in cases if case.suite == suite_name]
        if not mine:
            continue
        suite = ET.SubElement(root, "testsuite", name=suite_name)
        for case in mine:
            element = ET.SubElement(suite, "testcase", classname=f"notifier_sim.{suite_name}", name=case.name,
                                    time=f"{case.seconds:.3f}")
            if case.failure is not None:
                failure = ET.SubElement(element, "failure", message=case.failure[:200])
                failure.text = case.failure
        _count(suite)
    _save(root, path)


def merge(paths: Sequence[Path], out: Path) -> tuple[int, int]:
    """Join JUnit files: suites of one name become one, cases of one class and name one case, which failed if
    it failed in any file (every failure kept) and took the time of all. Returns (cases, failed cases)."""
    root = ET.Element("testsuites")
    suites: dict[str, ET.Element] = {}
    cases: dict[tuple[str, str, str], ET.Element] = {}
    for path in paths:
        for suite in _suites(path):
            name = suite.get("name", "")
            if name not in suites:
                suites[name] = ET.SubElement(root, "testsuite", name=name)
                root.set("name", root.get("name") or suite.get("_title") or "")
            for case in suite.iter("testcase"):
                key = (name, case.get("classname", ""), case.get("name", ""))
                mine = cases.get(key)
                if mine is None:
                    cases[key] = mine = ET.SubElement(suites[name], "testcase", classname=key[1], name=key[2],
                                                      time="0.000")
                mine.set("time", f"{float(mine.get('time', 0)) + float(case.get('time') or 0):.3f}")
                for child in case:
                    mine.append(child)
    for suite in suites.values():
        _count(suite)
    _save(root, out)
    return len(cases), sum(1 for case in cases.values() if _failed(case))


def _suites(path: Path) -> list[ET.Element]:
    try:
        root = ET.parse(path).getroot()
    except OSError as error:
        raise ConfigFileError(str(path), 0, "", f"cannot read the JUnit file: {error.strerror}") from None
    except ET.ParseError as error:
        raise ConfigFileError(str(path), error.position[0], "", f"not JUnit XML ({error.msg})") from None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite")) if root.tag == "testsuites" else []
    if not suites:
        raise ConfigFileError(str(path), 0, root.tag, "not JUnit XML: no testsuites or testsuite element")
    for suite in suites:
        suite.set("_title", root.get("name", ""))
    return suites


def _failed(case: ET.Element) -> bool:
    return any(child.tag in ("failure", "error") for child in case)


def _count(suite: ET.Element) -> None:
    cases = list(suite.iter("testcase"))
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for case in cases if any(c.tag == "failure" for c in case))))
    suite.set("errors", str(sum(1 for case in cases if any(c.tag == "error" for c in case))))
    suite.set("time", f"{sum(float(case.get('time') or 0) for case in cases):.3f}")


def _save(root: ET.Element, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def run_cases(results: Iterable[dict[str, Any]], strategies: dict[str, str], seconds: dict[str, float],
              mutant: str | None = None) -> list[Case]:
    """`run`'s cases: one per scenario and strategy, failed by its failing seeds, each with the command
    that runs that seed again."""
    failing: dict[str, list[str]] = {name: [] for name in strategies}
    for result in results:
        for v in result["violations"][:1]:
            failing[result["scenario"]].append(
                f"seed {result['seed']}: {v['invariant']}: {v['message']}; again: notifier-sim run "
                f"SCENARIO --seed {result['seed']} --strategy {strategies[result['scenario']]}"
                + (f" --mutant {mutant}" if mutant else ""))
    return [Case("run", f"{name} ({strategy})", seconds.get(name, 0.0), "\n".join(failing[name]) or None)
            for name, strategy in strategies.items()]

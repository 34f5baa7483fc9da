"""pyproject.toml, environment.yml and the constraints file must pin the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from helpers.environment import PackageCheck, check_environment, environment_table, pinned_requirements

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)\s*$")


def parse_pins(lines: list[str]) -> dict[str, str]:
    """``{name: version}`` of every ``name==version`` line; any other requirement is an error."""
    pins = {}
    for line in lines:
        match = PIN.match(line)
        if not match:
            raise ValueError(f"not an exact pin: {line!r}")
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return parse_pins(project["dependencies"] + project["optional-dependencies"]["test"])


def environment_yml_pins(text: str) -> dict[str, str]:
    environment = yaml.safe_load(text)
    pip_section = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    return parse_pins([line for line in pip_section if not line.startswith("-e")])


def disagreements(first: dict[str, str], second: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    return {
        name: (first.get(name), second.get(name))
        for name in first.keys() | second.keys()
        if first.get(name) != second.get(name)
    }


def test_environment_yml_matches_pyproject() -> None:
    text = (ROOT / "environment.yml").read_text()
    assert yaml.safe_load(text)["name"] == "fitgen-kit"
    assert "python=3.11" in yaml.safe_load(text)["dependencies"]
    assert disagreements(pyproject_pins(), environment_yml_pins(text)) == {}


def test_a_changed_pin_is_caught() -> None:
    text = (ROOT / "environment.yml").read_text().replace("keras==3.15.1", "keras==3.15.0")
    assert disagreements(pyproject_pins(), environment_yml_pins(text)) == {"keras": ("3.15.1", "3.15.0")}


def test_constraints_agree_with_pyproject() -> None:
    lines = [
        line
        for line in (ROOT / ".ci" / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    constraints = parse_pins(lines)
    assert {name: constraints.get(name) for name in pyproject_pins()} == pyproject_pins()


def test_issue_pins() -> None:
    pins = pyproject_pins()
    assert (pins["tensorflow"], pins["keras"], pins["tf-keras"], pins["nbval"]) == (
        "2.21.0",
        "3.15.1",
        "2.21.0",
        "0.11.0",
    )
    assert pins["jupyterlab"].startswith("4.6.") and pins["ipywidgets"].startswith("8.1.")
    assert pins["matplotlib"].startswith("3.11.")


def test_installed_kit_declares_the_same_pins_and_has_them() -> None:
    runtime = pinned_requirements()
    assert runtime == {name: version for name, version in pyproject_pins().items() if name in runtime}
    assert set(pinned_requirements(include_extras=True)) == set(pyproject_pins())
    checks = check_environment()
    assert checks and all(check.ok for check in checks), environment_table(checks)


def test_environment_table_flags_a_mismatch() -> None:
    table = environment_table([PackageCheck("keras", "3.15.1", "3.14.0"), PackageCheck("numpy", "2.4.6", None)])
    assert "MISMATCH: run `make clean lab`" in table.splitlines()[1]
    assert "missing" in table.splitlines()[2]

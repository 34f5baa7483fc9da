"""Compare what is installed with the versions fitgen-kit pins, for the start-here environment check."""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from importlib import metadata

DISTRIBUTION = "fitgen-kit"


@dataclass(frozen=True)
class PackageCheck:
    """One pinned package: the version the kit asks for and the one this kernel has."""

    name: str
    pinned: str
    installed: str | None

    @property
    def ok(self) -> bool:
        return self.installed == self.pinned


def pinned_requirements(distribution: str = DISTRIBUTION, include_extras: bool = False) -> dict[str, str]:
    """``{package: version}`` for every ``name==version`` requirement the installed kit declares."""
    try:
        requirements = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        raise RuntimeError(
            f"{distribution} is not installed in this Python ({platform.python_version()}); "
            "run `make lab` from the repository root, which installs it into .venv."
        ) from None
    pins = {}
    for requirement in requirements:
        if "extra ==" in requirement and not include_extras:
            continue
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)", requirement)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def check_environment(distribution: str = DISTRIBUTION) -> list[PackageCheck]:
    """Every pinned runtime package with its installed version (``None`` when missing)."""
    checks = []
    for name, pinned in sorted(pinned_requirements(distribution).items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        checks.append(PackageCheck(name, pinned, installed))
    return checks


def environment_table(checks: list[PackageCheck]) -> str:
    """A fixed-width table of the checks, one package a line, with ``ok`` or what to do."""
    width = max([len("package"), *(len(check.name) for check in checks)]) + 2  # columns fit the longest name
    lines = [f"{'package':<{width}}{'pinned':<10}{'installed':<11}status"]
    for check in checks:
        status = "ok" if check.ok else "MISMATCH: run `make clean lab` to reinstall"
        lines.append(f"{check.name:<{width}}{check.pinned:<10}{check.installed or 'missing':<11}{status}")
    return "\n".join(lines)

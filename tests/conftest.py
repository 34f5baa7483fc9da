"""Shared fixtures: a network guard for every unit test, a headless plotting backend, tiny datasets."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # in this process only: nbval kernels inherit the environment, not this

from helpers.datasets import DatasetSpec, write_dataset  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """The legacy generator warns once per augmented image about SciPy's old namespace; lessons filter it too."""
    config.addinivalue_line("filterwarnings", "ignore:Please import `affine_transform`:DeprecationWarning")


class NetworkAccessError(RuntimeError):
    """A unit test tried to reach a host other than this machine."""


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and other non-IP addresses never leave the machine
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection and name lookup except to 127.0.0.0/8, ::1 and localhost."""
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def check(address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback(host):
            raise NetworkAccessError(f"unit tests may only connect to 127.0.0.1, not {address!r}")

    def guarded_connect(self: socket.socket, address: object) -> None:
        check(address)
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        check(address)
        return real_connect_ex(self, address)

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        check((host.decode() if isinstance(host, bytes) else host, None))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


TINY_SPEC = DatasetSpec(kind="shapes", train=6, val=2, test=2, size=48, seed=7)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20-image shapes dataset at 48 px, built once per session (read-only for tests)."""
    target = tmp_path_factory.mktemp("tiny") / "shapes"
    write_dataset(target, TINY_SPEC)
    return target

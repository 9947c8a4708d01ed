"""Shared fixtures: offline guard, the test encoder, and the real default encoder (once)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from csdialog.encoders import HashingEncoder


class _NetworkBlocked(RuntimeError):
    pass


def _refuse(*args: object, **kwargs: object) -> None:
    raise _NetworkBlocked(f"network access attempted during an offline test: {args!r}")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any socket connection (or DNS lookup) in the test fails."""
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    yield


@pytest.fixture(scope="session")
def hashing_encoder() -> HashingEncoder:
    return HashingEncoder(dim=128)


@pytest.fixture(scope="session")
def e5_encoder():  # type: ignore[no-untyped-def]
    """The real default encoder, loaded once per session (marked tests only)."""
    from csdialog.encoders import E5Encoder

    enc = E5Encoder(batch_size=16)
    enc.encode(["warm up"])
    return enc


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)

"""Shared fixtures: offline guard, the test encoder, and the real default encoder (once)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

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


def _make_tiny_bert(folder: Path, *, safe: bool = True) -> Path:
    """A 2-layer, 32-d BERT with a 10-token vocabulary: enough to load, encode and train
    (``vocab=``: transformers 5 ignores ``vocab_file=`` and would map every word to [UNK]).
    ``safe=False`` writes the weights as a pickle, as older tools did."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "快", "递", "到"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    model = BertModel(config, add_pooling_layer=False)
    model.save_pretrained(folder)
    if not safe:
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
        (folder / "model.safetensors").unlink()
    return folder


@pytest.fixture
def tiny_bert() -> Callable[..., Path]:
    """``tiny_bert(folder, safe=True)`` writes a tiny BERT folder and returns its path."""
    return _make_tiny_bert


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

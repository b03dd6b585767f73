"""Tests for pyramidviz.device: override order, fallbacks, descriptions, thread setup."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from pyramidviz import device as device_module
from pyramidviz.device import ENV_VAR, ThreadConfig, configure_threads, describe_device, pick_device

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch):
    """Pretend hardware: ``machine(cuda=2, mps=False)``; the env var starts unset."""
    monkeypatch.delenv(ENV_VAR, raising=False)

    def fake(*, cuda: int = 0, mps: bool = False) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return fake


@pytest.mark.parametrize(("cuda", "mps", "expected"), [
    (1, True, "cuda"), (2, False, "cuda"), (0, True, "mps"), (0, False, "cpu"),
])
def test_automatic_order_is_cuda_mps_cpu(machine, cuda: int, mps: bool, expected: str) -> None:
    machine(cuda=cuda, mps=mps)
    assert pick_device() == torch.device(expected)
    assert pick_device("auto") == torch.device(expected)


@pytest.mark.parametrize(("value", "expected"), [
    ("cpu", "cpu"), ("cuda", "cuda"), ("cuda:1", "cuda:1"), ("mps", "mps"),
    ("  CUDA:0 ", "cuda:0"), ("Auto", "cuda"),
])
def test_env_var_overrides_when_available(machine, monkeypatch, value: str, expected: str) -> None:
    machine(cuda=2, mps=True)
    monkeypatch.setenv(ENV_VAR, value)
    assert pick_device() == torch.device(expected)
    assert pick_device("mps" if expected != "mps" else "cpu") == torch.device(expected)


@pytest.mark.parametrize("value", ["cuda", "cuda:1", "mps"])
def test_unavailable_device_falls_back_to_cpu_with_warning(machine, monkeypatch, caplog,
                                                           value: str) -> None:
    machine(cuda=1 if value == "cuda:1" else 0, mps=False)
    monkeypatch.setenv(ENV_VAR, value)
    with caplog.at_level(logging.WARNING, logger="pyramidviz.device"):
        assert pick_device() == torch.device("cpu")
    assert len(caplog.records) == 1
    assert ENV_VAR in caplog.text and value in caplog.text and "CPU" in caplog.text


@pytest.mark.parametrize("value", ["gpu", "cuda:x", "cuda:-1", "tpu", "cpu:0", "cuda 1", "0"])
def test_garbage_env_value_raises(machine, monkeypatch, value: str) -> None:
    machine(cuda=1)
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(ValueError, match=rf"\${ENV_VAR} must be one of .* got {value!r}"):
        pick_device()


def test_prefer_is_used_when_env_is_unset_or_empty(machine, monkeypatch, caplog) -> None:
    machine(cuda=2, mps=True)
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cuda", 1)) == torch.device("cuda:1")
    monkeypatch.setenv(ENV_VAR, "   ")
    assert pick_device("mps") == torch.device("mps")
    with pytest.raises(ValueError, match="prefer must be one of .* got 'metal'"):
        pick_device("metal")
    machine(cuda=0, mps=False)
    with caplog.at_level(logging.WARNING, logger="pyramidviz.device"):
        assert pick_device(torch.device("cuda")) == torch.device("cpu")
    assert "prefer asks for 'cuda'" in caplog.text


def test_describe_cpu_counts_threads(monkeypatch) -> None:
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert describe_device(torch.device("cpu")) == "CPU (1 thread)"
    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    assert describe_device("cpu") == "CPU (8 threads)"


def test_describe_cuda_names_card_and_memory(machine, monkeypatch) -> None:
    machine(cuda=2)
    cards = {0: SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=85_520_809_984),
             1: SimpleNamespace(name="Tesla T4", total_memory=15_828_320_256)}
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: cards[i])
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert describe_device("cuda") == "CUDA: NVIDIA H100 80GB HBM3 (80 GiB)"
    assert describe_device(torch.device("cuda", 1)) == "CUDA: Tesla T4 (15 GiB)"
    assert describe_device("cuda:3") == "CUDA device 3 (not available)"


def test_describe_other_devices() -> None:
    assert describe_device("mps") == "Apple GPU (MPS)"
    assert describe_device("meta") == "META"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_real_cuda_is_picked_and_described(monkeypatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert pick_device().type == "cuda"
    text = describe_device(pick_device())
    print(f"\n{text}")
    assert text.startswith("CUDA: ") and text.endswith(" GiB)")
    assert torch.ones(2, device=pick_device()).sum().item() == 2


@pytest.fixture
def fresh_threads(monkeypatch):
    """Forget any earlier configuration and record the calls torch receives."""
    calls: list[tuple[str, int]] = []
    state = {"threads": 4, "interop": 4}
    monkeypatch.setattr(device_module, "_threads", None)
    monkeypatch.setattr(device_module, "_usable_cores", lambda: 16)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)

    def set_threads(n: int) -> None:
        calls.append(("threads", n))
        state["threads"] = n

    def set_interop(n: int) -> None:
        calls.append(("interop", n))
        raise RuntimeError("Error: cannot set number of interop threads after parallel work")

    monkeypatch.setattr(torch, "set_num_threads", set_threads)
    monkeypatch.setattr(torch, "get_num_threads", lambda: state["threads"])
    monkeypatch.setattr(torch, "set_num_interop_threads", set_interop)
    monkeypatch.setattr(torch, "get_num_interop_threads", lambda: state["interop"])
    return calls


def test_configure_threads_caps_and_runs_once(fresh_threads) -> None:
    first = configure_threads()
    assert first == ThreadConfig(threads=8, interop_threads=4)  # interop refused: kept at 4
    assert fresh_threads == [("threads", 8), ("interop", 4)]
    assert configure_threads(max_threads=2) is first and len(fresh_threads) == 2


def test_configure_threads_respects_omp_num_threads(fresh_threads, monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert configure_threads(max_threads=2).threads == 4  # torch's own value stands
    assert ("threads", 2) not in fresh_threads


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_configure_threads_validates(bad) -> None:
    with pytest.raises(ValueError, match="max_threads"):
        configure_threads(max_threads=bad)


def test_configure_threads_for_real_twice_in_a_fresh_process() -> None:
    code = (
        "import os, torch\n"
        "from pyramidviz.device import configure_threads\n"
        "torch.ones(64, 64) @ torch.ones(64, 64)\n"  # work already done: interop may be fixed
        "a = configure_threads(max_threads=1)\n"
        "b = configure_threads(max_threads=3)\n"
        "assert a is b and torch.get_num_threads() == a.threads == 1, a\n"
        "print(a)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ThreadConfig(threads=1" in result.stdout

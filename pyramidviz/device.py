"""Where tensors live: CUDA, then Apple's MPS, then the CPU.

The environment variable ``PYRAMIDVIZ_DEVICE`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``,
``"mps"`` or ``"auto"``) overrides everything, so a deployment can pin the device
without code changes. A value that is not a device name is a configuration
mistake and raises ``ValueError``; a valid name of a device this machine lacks
(``"cuda"`` on a laptop) logs a warning and falls back to the CPU, so the app
still runs.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import threading

import torch

ENV_VAR = "PYRAMIDVIZ_DEVICE"
_NAME = re.compile(r"(auto|cpu|mps|cuda)(?::(\d+))?")
_LOCK = threading.Lock()
_threads: ThreadConfig | None = None
logger = logging.getLogger(__name__)


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to compute on.

    Order: ``$PYRAMIDVIZ_DEVICE`` if set and not empty, else ``prefer``, else
    automatic (CUDA if available, then MPS, then CPU).

    Parameters
    ----------
    prefer : str or torch.device, optional
        The caller's choice, e.g. ``"cuda:1"``; ``None`` or ``"auto"`` for automatic.

    Returns
    -------
    torch.device
        The requested device, or the CPU when the requested one is not available
        here (a warning is logged).

    Raises
    ------
    ValueError
        If the environment variable or ``prefer`` does not name a device.

    Examples
    --------
    >>> pick_device().type in ("cuda", "mps", "cpu")
    True
    """
    env = os.environ.get(ENV_VAR, "").strip()
    source, requested = (f"${ENV_VAR}", env) if env else ("prefer", prefer)
    device = _parse(requested, source)
    if device is None:
        return _automatic()
    if _available(device):
        return device
    logger.warning("%s asks for %r, which is not available here; using the CPU instead.",
                   source, str(device))
    return torch.device("cpu")


def _parse(requested: str | torch.device | None, source: str) -> torch.device | None:
    if requested is None or isinstance(requested, torch.device):
        return requested
    match = _NAME.fullmatch(str(requested).strip().lower())
    if match is None or (match[1] in ("auto", "cpu") and match[2] is not None):
        raise ValueError(f"{source} must be one of 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', "
                         f"got {requested!r}")
    if match[1] == "auto":
        return None
    return torch.device(match[1], None if match[2] is None else int(match[2]))


def _available(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return device.type == "cpu"


def _automatic() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device | str) -> str:
    """The device in words, for the app's sidebar.

    Parameters
    ----------
    device : torch.device or str

    Returns
    -------
    str
        E.g. ``"CPU (2 threads)"``, ``"CUDA: NVIDIA H100 80GB HBM3 (80 GiB)"`` or
        ``"Apple GPU (MPS)"``.

    Examples
    --------
    >>> describe_device("cpu").startswith("CPU (")
    True
    """
    device = torch.device(device)
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"CPU ({n} thread{'' if n == 1 else 's'})"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    if device.type == "cuda":
        if not _available(device):
            return f"CUDA device {device.index or 0} (not available)"
        index = torch.cuda.current_device() if device.index is None else device.index
        props = torch.cuda.get_device_properties(index)
        return f"CUDA: {props.name} ({props.total_memory / 2**30:.0f} GiB)"
    return device.type.upper()


@dataclasses.dataclass(frozen=True)
class ThreadConfig:
    """torch's CPU thread pools after :func:`configure_threads`.

    Attributes
    ----------
    threads : int
        Intra-op threads (one convolution split across cores).
    interop_threads : int
        Inter-op threads (independent operations run side by side).
    """

    threads: int
    interop_threads: int


def configure_threads(*, max_threads: int = 8) -> ThreadConfig:
    """Size torch's CPU thread pools once per process; later calls change nothing.

    Intra-op threads: ``min(usable cores, max_threads)``, unless ``OMP_NUM_THREADS``
    is set (then torch's choice stands). Inter-op threads: half of that, at least
    one; torch allows this only before any parallel work, so a refusal
    (``RuntimeError``) keeps its current value.

    Parameters
    ----------
    max_threads : int
        Upper bound; more threads rarely help a single small CNN.

    Returns
    -------
    ThreadConfig
        The pool sizes now in effect (the same object on every call).

    Examples
    --------
    >>> config = configure_threads()
    >>> config is configure_threads() and config.threads >= 1
    True
    """
    global _threads
    if isinstance(max_threads, bool) or not isinstance(max_threads, int) or max_threads < 1:
        raise ValueError(f"max_threads must be a positive integer, got {max_threads!r}")
    with _LOCK:
        if _threads is None:
            if "OMP_NUM_THREADS" not in os.environ:
                torch.set_num_threads(min(_usable_cores(), max_threads))
            threads = torch.get_num_threads()
            try:
                torch.set_num_interop_threads(max(1, threads // 2))
            except RuntimeError:  # already set, or parallel work has started
                pass
            _threads = ThreadConfig(threads, torch.get_num_interop_threads())
        return _threads


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may run on (containers)
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)

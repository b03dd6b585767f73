"""How long a backbone pass takes while other threads of the same process run Python.

In the app, a pass runs on a ``serving.Work`` worker while thirty sessions' script threads
build pages. Torch releases the GIL inside each op, but the worker needs it back between
ops, and a thread waiting for the GIL waits up to one switch interval
(``sys.setswitchinterval``, 5 ms by default) before it may ask the holder to let go. This
script times one pass on a worker thread beside ``k`` threads that run pure Python without
pause. Those threads are put in Linux's ``SCHED_IDLE`` class, so they get a core only when
the pass leaves one free: what they add is the wait for the GIL, not CPU time.

    python benchmarks/bench_gil.py [--output-stride 8] [--repeats 2] [--threads 0 1 4 16]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from pyramidviz import backbones  # noqa: E402
from pyramidviz.device import configure_threads  # noqa: E402

INTERVALS = (0.005, 0.001, 0.0002)  # Python's default, and shorter ones
SIZE = (704, 1016)  # (H, W): the class benchmark's largest photo


def python_load(stop: threading.Event) -> None:
    """Run Python until ``stop``, at idle priority where Linux allows it."""
    if hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
    payload = {"cells": list(range(200))}
    while not stop.is_set():
        json.dumps(payload)


def pass_seconds(model: backbones.EfficientNetLite0, x: torch.Tensor) -> float:
    """One pass to stage7 on a fresh worker thread, as ``serving.Work`` runs it."""
    result: list[float] = []

    def run() -> None:
        with torch.inference_mode():
            start = time.perf_counter()
            model.features(x, ("stage4", "stage7"))
            result.append(time.perf_counter() - start)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return result[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output-stride", type=int, default=8, choices=(32, 16, 8))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[0, 1, 4, 16])
    args = parser.parse_args()
    configure_threads()
    model = backbones.load_backbone(output_stride=args.output_stride, device="cpu")
    x = torch.randn(1, 3, *SIZE)
    pass_seconds(model, x)  # warm up
    before = sys.getswitchinterval()
    print(f"Output stride {args.output_stride}, {SIZE[1]} x {SIZE[0]} px, "
          f"{torch.get_num_threads()} torch threads; fastest of {args.repeats} passes (s)\n")
    print("| switch interval | " + " | ".join(f"{k} Python threads" for k in args.threads) + " |")
    print("|---|" + "---|" * len(args.threads))
    try:
        for interval in INTERVALS:
            sys.setswitchinterval(interval)
            cells = []
            for k in args.threads:
                stop = threading.Event()
                load = [threading.Thread(target=python_load, args=(stop,), daemon=True)
                        for _ in range(k)]
                for thread in load:
                    thread.start()
                time.sleep(0.2)
                seconds = min(pass_seconds(model, x) for _ in range(args.repeats))
                stop.set()
                for thread in load:
                    thread.join()
                cells.append(f"{seconds:.2f}")
            print(f"| {interval * 1000:g} ms | " + " | ".join(cells) + " |", flush=True)
    finally:
        sys.setswitchinterval(before)


if __name__ == "__main__":
    main()

"""The ASPP page's averaged effective field, before and after the aligned crop, side by side.

Usage: ``python benchmarks/bench_erf.py [--repeats 3] [--big-repeats 1] [--cases N]``.

For the 512 x 512 astronaut (6 inputs: the page leaves the photo's own sample out) and a
1632 x 1224 photo (what the app's 2-megapixel cap makes of a phone photo; 7 inputs), at
stage4 and stage7, output stride 16 and 8, rates of DeepLab for the stride, centre cell:

- before: ``pyramidviz/erf.py`` as of commit 9c46801 (every branch on the whole photo);
- first cell: the cropped branches plus the image pool on the whole photo (a new photo);
- next cell: the cropped branches alone, the image pool passed back from the first.

The three run in turn, ``--repeats`` times (``--big-repeats`` for the 2 MP photo); each
figure is the median wall time in seconds, with the process CPU time in parentheses (on a
shared machine the CPU time says how much work it was; the wall time what it cost). A small
call warms each setting up first. Rows print as they finish, the page's default first.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyramidviz import backbones, erf  # noqa: E402
from pyramidviz.samples import load_sample  # noqa: E402

BEFORE = "9c46801"
RATES = {16: (6, 12, 18), 8: (12, 24, 36)}


def old_erf():
    """``pyramidviz.erf`` as it was before the crop, loaded from git as its own module."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE}:pyramidviz/erf.py"],
                          check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "erf_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("erf_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def interleaved(fns: list, repeats: int) -> tuple[list[str], list[object]]:
    """Median wall seconds (CPU seconds) of each of ``fns``, run in turn ``repeats`` times
    (so that a change in the machine's load hits all of them alike), and their last results.
    """
    walls, cpus, results = ([[] for _ in fns] for _ in range(3))
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            wall, cpu = time.perf_counter(), time.process_time()
            results[i] = fn()
            walls[i].append(time.perf_counter() - wall)
            cpus[i].append(time.process_time() - cpu)
    return ([f"{statistics.median(w):.1f} ({statistics.median(c):.1f})"
             for w, c in zip(walls, cpus, strict=True)], results)


def photos() -> dict[str, list[np.ndarray]]:
    astronaut = load_sample("astronaut")
    phone = np.asarray(Image.fromarray(load_sample("coffee")).resize((1632, 1224),
                                                                     Image.Resampling.BICUBIC))
    return {"512": erf.erf_inputs(astronaut, skip=("astronaut",)),
            "2mp": erf.erf_inputs(phone)}


CASES = [("2mp", 16, "stage7"), ("2mp", 16, "stage4"), ("512", 16, "stage7"),
         ("512", 16, "stage4"), ("512", 8, "stage7"), ("512", 8, "stage4"),
         ("2mp", 8, "stage4"), ("2mp", 8, "stage7")]
"""The page's default (stage7, output stride 16) first; the slowest last."""


def rows(repeats: int, big_repeats: int, cases: list) -> list[str]:
    before, images, models = old_erf(), photos(), {}
    out = ["| photo (H x W) | inputs | output stride | tap | crop (px) | before | first cell "
           "| next cell |", "|---|---|---|---|---|---|---|---|"]
    print("\n".join(out), flush=True)
    for which, os_, tap in cases:
        model = models.setdefault(os_, backbones.load_backbone(output_stride=os_, device="cpu"))
        inputs, n = images[which], repeats if which == "512" else big_repeats
        args = dict(tap=tap, rates=RATES[os_])
        erf.averaged_effective_receptive_field(model, [x[:64, :64] for x in inputs], **args)
        pool = erf.image_pool_gradient(model, inputs, tap=tap)  # kept from a first cell
        (old, first, kept), (_, result, _) = interleaved([
            partial(before.averaged_effective_receptive_field, model, inputs, **args),
            partial(erf.averaged_effective_receptive_field, model, inputs, **args),
            partial(erf.averaged_effective_receptive_field, model, inputs, pool=pool, **args),
        ], n)
        (h, w), crop = inputs[0].shape[:2], result.crop
        out.append(f"| {h} x {w} | {len(inputs)} | {os_} | {tap} | {crop.height} x "
                   f"{crop.width} | {old} | {first} | {kept} |")
        print(out[-1], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="runs per 512 x 512 figure")
    parser.add_argument("--big-repeats", type=int, default=1, help="runs per 2 MP figure")
    parser.add_argument("--cases", type=int, default=len(CASES),
                        help="only the first N of CASES")
    parser.add_argument("--photo", choices=("512", "2mp"), help="only this photo's rows")
    args = parser.parse_args()
    print(f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}; seconds, median wall (CPU)\n", flush=True)
    rows(args.repeats, args.big_repeats,
         [case for case in CASES[: args.cases] if args.photo in (None, case[0])])


if __name__ == "__main__":
    main()

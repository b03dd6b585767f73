"""The ASPP page's averaged effective field, before and after the aligned crop, side by side.

Usage: ``python benchmarks/bench_erf.py [--repeats 3] [--big-repeats 1]``.

For the 512 x 512 astronaut (6 inputs: the page leaves the photo's own sample out) and a
1632 x 1224 photo (what the app's 2-megapixel cap makes of a phone photo; 7 inputs), at
stage4 and stage7, output stride 16 and 8, rates of DeepLab for the stride, centre cell:

- before: ``pyramidviz/erf.py`` as of commit 9c46801 (every branch on the whole photo);
- first cell: the cropped branches plus the image pool on the whole photo (a new photo);
- next cell: the cropped branches alone, the image pool passed back from the first.

Each figure is the median wall time in seconds, with the process CPU time in parentheses
(on a shared machine the CPU time says how much work it was; the wall time what it cost).
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


def timed(fn, repeats: int, *, warm: bool = True) -> str:
    """Median wall seconds (CPU seconds) of ``repeats`` runs (after a warm-up if ``warm``)."""
    if warm:
        fn()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return f"{statistics.median(walls):.1f} ({statistics.median(cpus):.1f})"


def photos() -> list[tuple[str, list[np.ndarray]]]:
    astronaut = load_sample("astronaut")
    phone = np.asarray(Image.fromarray(load_sample("coffee")).resize((1632, 1224),
                                                                     Image.Resampling.BICUBIC))
    return [("512 x 512 sample", erf.erf_inputs(astronaut, skip=("astronaut",))),
            ("1632 x 1224 upload", erf.erf_inputs(phone))]


def rows(repeats: int, big_repeats: int) -> list[str]:
    before = old_erf()
    out = ["| photo | inputs | output stride | tap | crop (px) | before | first cell "
           "| next cell |", "|---|---|---|---|---|---|---|---|"]
    for name, images in photos():
        n = repeats if images[0].size < 1e6 else big_repeats
        for os_ in (16, 8):
            model = backbones.load_backbone(output_stride=os_, device="cpu")
            for tap in ("stage4", "stage7"):
                args = dict(tap=tap, rates=RATES[os_])
                pool = erf.image_pool_gradient(model, images, tap=tap)
                crop = erf.averaged_effective_receptive_field(model, images, pool=pool,
                                                              **args).crop
                warm = images[0].size < 1e6  # the 2 MP runs follow warm 512 x 512 ones
                old, first, kept = (
                    timed(partial(fn, model, images, **extra, **args), n, warm=warm)
                    for fn, extra in ((before.averaged_effective_receptive_field, {}),
                                      (erf.averaged_effective_receptive_field, {}),
                                      (erf.averaged_effective_receptive_field, {"pool": pool})))
                out.append(f"| {name} | {len(images)} | {os_} | {tap} | {crop.height} x "
                           f"{crop.width} | {old} | {first} | {kept} |")
                print(out[-1], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="runs per 512 x 512 figure")
    parser.add_argument("--big-repeats", type=int, default=1, help="runs per 2 MP figure")
    args = parser.parse_args()
    print(f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}; seconds, median wall (CPU)\n", flush=True)
    print("\n".join(rows(args.repeats, args.big_repeats)))


if __name__ == "__main__":
    main()

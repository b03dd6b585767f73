"""Server time of the ASPP page's interactions, the effective-field cost, and figure sizes.

Part 1 calls the same pure functions as ``app_pages/aspp.py`` with the cached parts ready (the
tap geometry, the feature map): a
point move or a rate change on the taps figure must cost under 150 ms, JSON encoding (what
Streamlit sends) included.

Part 2 times the effective receptive fields of every branch through the real backbone, cold
(the page caches them per photo, stride, stage, point, rates and kernel): target under 3 s
for a 512 x 512 photo. Branches whose seed equals another's (a rate with only its centre tap
on the map reads what the 1x1 branch reads) share one backward pass: "backward" counts them.

Run: ``python benchmarks/bench_aspp.py [sample ...]`` (default: chelsea astronaut).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import send, timed  # noqa: E402

from pyramidviz import aspp, atrous, payloads  # noqa: E402
from pyramidviz.backbones import extract, load_backbone, tap_info  # noqa: E402
from pyramidviz.device import configure_threads  # noqa: E402
from pyramidviz.erf import branch_seeds, effective_receptive_field  # noqa: E402
from pyramidviz.figures import aspp_dilation as dilation_figs  # noqa: E402
from pyramidviz.figures import aspp_panels as panel_figs  # noqa: E402
from pyramidviz.samples import DATA_DIR  # noqa: E402

SAMPLES = {"chelsea": "chelsea.png", "coffee": "coffee.png", "astronaut": "astronaut.png",
           "camera": "camera.png", "rocket": "rocket.jpg"}
VALID = {"count": "{n}", "all": "all {n}", "centre": "centre {n}", "x": "r", "y": "share",
         "rate": "r={r}"}
ANIM = {"input": "in", "output": "out", "play": "Play", "pause": "Pause"}


def overlay_part(name: str, photo: np.ndarray, model, output_stride: int) -> None:
    info = tap_info(model, "stage7", photo.shape[:2])
    h, w = info.feature_size
    rates = aspp.rates_for_output_stride(output_stride)
    features = extract(model, photo, "stage7")

    def taps_view():  # once per photo and setting; moving the cell is in the browser
        payload = payloads.taps_payload(photo, field=info.field, feature_size=(h, w),
                                     stride=info.stride, rates=rates, kernel=3)
        return payloads.payload_bytes(payload)

    def channel():
        plane = torch.from_numpy(np.ascontiguousarray(features[5]))[None, None]
        maps = {k: v[0, 0].numpy() for k, v in aspp.branch_previews(plane, rates).items()}
        return send(panel_figs.previews_figure(maps, titles={k: k for k in maps}, title="t"))

    def valid():
        table = dilation_figs.valid_weights_table((h, w))
        return send(dilation_figs.valid_weights_figure(table, marked=rates, labels=VALID))

    def gridding():
        stacks = [(str(r), atrous.stack_coverage(r)) for r in ((2, 2, 2), (1, 2, 5), (1, 2, 9))]
        return send(dilation_figs.gridding_figure(stacks))

    def animation():
        return send(dilation_figs.sliding_kernel_figure(9, 3, rate=2, padding=2, stride=1,
                                                        labels=ANIM))

    print(f"\n{name} {photo.shape[1]}x{photo.shape[0]} px, OS {output_stride}: map {h}x{w}")
    print(f"{'interaction':<34}{'server ms':>10}{'KB sent':>10}")
    for label, fn in (("taps view payload (once per setting)", taps_view),
                      ("channel change (branch outputs)", channel),
                      ("rates/kernel: valid weights", valid), ("gridding stack", gridding),
                      ("animation controls", animation)):
        print(f"{label:<34}{timed(fn):>10.1f}{fn() / 1024:>10.1f}")


def erf_part(name: str, photo: np.ndarray, model, output_stride: int) -> None:
    info = tap_info(model, "stage7", photo.shape[:2])
    h, w = info.feature_size
    rates = aspp.rates_for_output_stride(output_stride)
    for point in ((h // 2, w // 2), (0, 0)):
        for kernel in (3, 5):
            seeds = branch_seeds((h, w), point, rates, kernel=kernel)
            passes = len({seed.tobytes() for seed in seeds.values()})
            seconds = timed(lambda p=point, k=kernel: effective_receptive_field(
                model, photo, tap="stage7", point=p, rates=rates, kernel=k), repeats=3) / 1000
            print(f"ERF {name} OS {output_stride}, point {point}, {kernel}x{kernel}: "
                  f"{len(seeds)} branches, {passes} backward: {seconds:.2f} s")


def main(names: list[str]) -> None:
    configure_threads()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    models = {os: load_backbone(output_stride=os, device="cpu") for os in (16, 8)}
    for name in names:
        photo = np.asarray(Image.open(DATA_DIR / "samples" / SAMPLES[name])
                           .convert("RGB"))
        for os, model in models.items():
            overlay_part(name, photo, model, os)
    for name in names:
        photo = np.asarray(Image.open(DATA_DIR / "samples" / SAMPLES[name])
                           .convert("RGB"))
        erf_part(name, photo, models[16], 16)


if __name__ == "__main__":
    main(sys.argv[1:] or ["chelsea", "astronaut"])

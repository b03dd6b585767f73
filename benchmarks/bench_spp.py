"""Server time of the SPP page's interactions, and the size of every figure it sends.

Part 1 calls the same pure functions as ``app_pages/spp.py`` with the backbone's feature map
already computed (the page caches it per image digest + tap). Bin, level and channel-view
changes never reach the server (benchmarks/bench_views.py measures them in the browser); what
is left is the payload built once per setting. The JSON encoding Streamlit does for each figure
(``plotly.io.to_json``) is included.

Part 2 drives the real page with Streamlit's AppTest (caches warm) and times whole script runs:
AppTest reruns the whole app even for fragment widgets, and app.py's sidebar and AppTest's own
bookkeeping are included, so these are upper bounds; the "no change" row is that fixed cost.

Run: ``python benchmarks/bench_spp.py [sample ...]`` (default: chelsea coffee).
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import REPEATS, send, timed  # noqa: E402

from pyramidviz import (  # noqa: E402
    bins,  # noqa: E402
    payloads,
)
from pyramidviz import channel_views as spp_pyramid  # noqa: E402
from pyramidviz.backbones import extract, load_backbone, tap_info  # noqa: E402
from pyramidviz.figures import spp_rules, spp_sizes  # noqa: E402
from pyramidviz.images import crop_and_warp, resize_photo  # noqa: E402
from pyramidviz.samples import DATA_DIR  # noqa: E402
from pyramidviz.sizes import scaled_photo_hw  # noqa: E402

RULE_LABELS = {k: k for k in ("rows", "cols", "adaptive", "paper", "wrong", "uncovered",
                              "zero")} | {"count": "{got} ({n})", "left": ", {k} left",
                                          "rows": "{a}", "cols": "{a}"}


def view_part(features, photo, levels, mode, field) -> int:
    """The bins view's payload, built once per setting (then every step is in the browser)."""
    top = spp_pyramid.top_channels(features, 5)
    maps = {v: spp_pyramid.channel_map(features, v) for v in ("max", "mean", *map(str, top))}
    vector = spp_pyramid.spp_vector(features, levels, mode)
    payload = payloads.spp_payload(maps, photo, vector, levels=levels, mode=mode,
                                channels=features.shape[0], field=field)
    text = io.StringIO()
    np.savetxt(text, np.atleast_2d(vector), delimiter=",", fmt="%.6g")  # the CSV download
    return payloads.payload_bytes(payload)


def sizes_part(photo, scaled, crop, warp, levels) -> int:
    fig = spp_sizes.sizes_figure([scaled, crop, warp], ["a", "b", "c"], stride=32,
                                 bins=[levels[0], None, None])
    return send(fig)


def rules_part(feature_hw, levels) -> int:
    fig = spp_rules.rules_figure(feature_hw, levels, labels=RULE_LABELS)
    bins.paper_rule_failures(min(max(*feature_hw, 16), 40), levels)
    return send(fig)


def bench(sample: str, model) -> None:
    photo = np.asarray(Image.open(DATA_DIR / "samples" / sample).convert("RGB"))
    h, w = photo.shape[:2]
    start = time.perf_counter()
    features = extract(model, photo, "stage7")
    forward = (time.perf_counter() - start) * 1000
    field = tap_info(model, "stage7", (h, w)).field
    levels, mode = (4, 2, 1), "max"
    crop, warp = crop_and_warp(photo)
    scaled = resize_photo(photo, scaled_photo_hw((h, w), 0.75))
    print(f"\n{sample}: photo {w}x{h}, stage7 map {features.shape}, "
          f"backbone forward {forward:.0f} ms (once per image and tap; cached)")

    rows = [
        ("bins view payload, 4-2-1 (once per setting)",
         lambda: view_part(features, photo, levels, mode, field)),
        ("pooling max -> avg (fragment)", lambda: view_part(features, photo, levels, "avg", field)),
        ("pyramid -> 6-3-2-1 (page rerun)", lambda: (
            view_part(features, photo, (6, 3, 2, 1), mode, field),
            sizes_part(photo, scaled, crop, warp, (6, 3, 2, 1)),
            rules_part(features.shape[1:], (6, 3, 2, 1)))),
    ]
    for label, fn in rows:
        print(f"  {label:44s} {timed(fn):7.1f} ms")
    sizes = {
        "bins view payload (7 channel views)": view_part(features, photo, levels, mode, field),
        "sizes figure": sizes_part(photo, scaled, crop, warp, levels),
        "rules figure": rules_part(features.shape[1:], levels),
    }
    for label, size in sizes.items():
        print(f"  {label:44s} {size / 1024:7.1f} KB")


def bench_apptest() -> None:
    """Whole script runs of the real page (app.py included) after each control change."""
    from streamlit.testing.v1 import AppTest

    import ui  # the page's own helpers (imported late: streamlit caches need no runtime here)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.switch_page(ui.page_path("spp")).run()
    changes = [
        ("no change (app.py + AppTest cost)", lambda i: at.run()),
        ("pooling avg <-> max",
         lambda i: at.radio(key="spp_pool").set_value(["avg", "max"][i % 2]).run()),
        ("pyramid 6-3-2-1 <-> 4-2-1",
         lambda i: at.selectbox(key="spp_levels").set_value(["6-3-2-1", "4-2-1"][i % 2]).run()),
    ]
    print("\nAppTest, chelsea, whole script run per change (caches warm):")
    for label, change in changes:
        change(0)
        change(1)
        times = []
        for i in range(REPEATS + 1):
            start = time.perf_counter()
            change(i)
            times.append((time.perf_counter() - start) * 1000)
        assert not at.exception, at.exception
        print(f"  {label:34s} {statistics.median(times):7.1f} ms")


def main() -> None:
    torch.set_num_threads(2)
    model = load_backbone(output_stride=32)
    for sample in sys.argv[1:] or ["chelsea.png", "coffee.png"]:
        bench(sample, model)
    bench_apptest()


if __name__ == "__main__":
    main()

"""pyramidviz: see spatial pyramid pooling (SPP) and atrous spatial pyramid pooling (ASPP).

Submodules, one concept each (import the one you need; nothing heavy loads on
``import pyramidviz``):

- :mod:`pyramidviz.bins`: SPP's bin windows (adaptive and paper rules), counts, levels (no torch).
- :mod:`pyramidviz.sizes`: conv and TF-SAME output sizes, scaled photos, size tables (no torch).
- :mod:`pyramidviz.spp`: the pooling itself (torch) over :mod:`pyramidviz.bins`' windows.
- :mod:`pyramidviz.channel_views`: the channel views of a map and their pooled grids.
- :mod:`pyramidviz.receptive`: receptive-field arithmetic and image <-> feature mapping.
- :mod:`pyramidviz.tracing`: the conv/pool layer chain a PyTorch module runs (``layers_of``).
- :mod:`pyramidviz.atrous`: dilated-kernel taps, valid weights, gridding, HDC check (no torch).
- :mod:`pyramidviz.aspp`: DeepLab v3's ASPP module, its rates, cost and branch previews.
- :mod:`pyramidviz.compare`: SPP vs ASPP shapes, cost, and output size against image size.
- :mod:`pyramidviz.deck`: the lecture deck's payload and its one-file HTML export.
- :mod:`pyramidviz.backbones`: EfficientNet-Lite0 with offline ImageNet weights, feature taps.
- :mod:`pyramidviz.imagenet`: ImageNet evaluation crop, class names, top-k classification.
- :mod:`pyramidviz.preprocessing`: photo -> 8-bit RGB array -> network input scaling.
- :mod:`pyramidviz.samples`: the bundled sample photos and data files (``pyramidviz/data``).
- :mod:`pyramidviz.networks`: classic CNNs as layer chains (catalogue), text specs, ONNX graphs.
- :mod:`pyramidviz.specs`: a typed layer spec ("conv3 s2, pool2") <-> layers.
- :mod:`pyramidviz.onnxgraph`: an ONNX file's conv/pool geometry (protobuf only, nothing run).
- :mod:`pyramidviz.netmodels`: the catalogue built in torch, fields measured by gradient.
- :mod:`pyramidviz.erf`: effective receptive fields (Luo et al. 2016).
- :mod:`pyramidviz.images`: safe image decoding.
- :mod:`pyramidviz.rgb`: any Pillow mode flattened to 8-bit RGB.
- :mod:`pyramidviz.sniffing`: what undecodable upload bytes look like (HEIC, PDF, SVG, text).
- :mod:`pyramidviz.filenames`: display-safe upload file names.
- :mod:`pyramidviz.device`: choice of CUDA, MPS or CPU.
- :mod:`pyramidviz.checks`: argument validation shared by the public functions.
- :mod:`pyramidviz.papers`: the numbers the papers state and the prose quotes (no torch).
- :mod:`pyramidviz.style`: the one style block (colours, fonts, sizes, breakpoints, timings).
- :mod:`pyramidviz.serving`: byte-bounded shared cache and one pool for heavy calls.
- :mod:`pyramidviz.payloads`: the JSON payloads the app's browser views draw (computed once).
- :mod:`pyramidviz.bundle`: the browser views' ES modules (``pyramidviz/web``) joined into one.
- :mod:`pyramidviz.i18n`: the EN/KO string tables (package data) and the Korean glossary.
- :mod:`pyramidviz.figures`: pure Plotly figure builders for the app's pages.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "aspp", "atrous", "backbones", "bins", "bundle", "channel_views", "checks", "compare",
    "deck", "device", "erf", "figures", "filenames", "i18n", "imagenet", "images", "netmodels",
    "networks", "onnxgraph", "papers", "payloads", "preprocessing", "receptive", "rgb",
    "samples", "serving", "sizes", "sniffing", "specs", "spp", "style", "tracing",
)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["__version__", *_SUBMODULES]

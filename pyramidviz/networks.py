"""A catalogue of classic CNNs as layer chains, for receptive fields without weights.

Each network is the conv/pool chain of its longest path from the input to its last feature
map (before the classifier), as :class:`~pyramidviz.receptive.Layer` objects in order:
kernel, stride, padding before the input (top/left) and dilation. Geometry needs no weights,
so nothing is downloaded; :mod:`pyramidviz.netmodels` builds the same nets in torch (random
weights) to measure their fields by gradient, and ``tests/test_networks.py`` checks both
against the published table.

Layouts follow torchvision's models (the ones students fine-tune): AlexNet conv1 pads 2,
ResNet v1.5 puts the stride on the 3x3 conv of the first unit of a stage, MobileNetV2 pads
``k // 2``. EfficientNet-Lite0 comes from :func:`pyramidviz.backbones.backbone_layers`
(TF "SAME" padding, so it depends on the input size; the catalogue uses 224 x 224).

Bring your own: :func:`parse_spec` / :func:`format_spec` (a typed spec, from
:mod:`pyramidviz.specs`), :func:`from_onnx` (an ONNX file, from :mod:`pyramidviz.onnxgraph`,
which imports the ``onnx`` package only when a file is read) and, from a notebook,
:func:`pyramidviz.tracing.layers_of` on any ``torch.nn.Module`` (read through the same ONNX
reader: :data:`ONNX_SUPPORTED` lists the operators it reads, :data:`ONNX_REFUSED` the usual
ones it refuses; docs/networks.md says why).

Published values (Araujo et al., Distill 2019, Table 1; the same numbers are in
google-research/receptive_field, README.md and RECEPTIVE_FIELD_TABLE.md, for TF-Slim models
at 224 x 224), receptive field / effective stride / effective padding:

=================  ======  ======  =======
TF-Slim model      field   stride  padding
=================  ======  ======  =======
alexnet_v2         195     32      64
vgg_16             212     32      90
mobilenet_v1       315     32      126
resnet_v1_50       483     32      239
resnet_v1_101      1027    32      511
=================  ======  ======  =======

Where TF-Slim differs from torchvision the numbers differ, and the tests rebuild the TF-Slim
layout to reproduce the table exactly: alexnet_v2's conv1 is VALID (padding 64, not 66);
TF-Slim's ResNet v1 strides in the *last* unit of each block (field 483, where torchvision's
first-unit stride gives 427) and its max pool pads TF "SAME" (0 before at 224).

References
----------
.. [1] A. Araujo, W. Norris, J. Sim, "Computing Receptive Fields of Convolutional Neural
   Networks", Distill, 2019, Table 1. doi:10.23915/distill.00021
.. [2] K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition",
   CVPR 2016, Table 1.
.. [3] L.-C. Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
   arXiv 1706.05587, Sec. 3.1 (output stride 16 and 8 by dilation).
.. [4] M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
   CVPR 2018, Table 2.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pyramidviz.onnxgraph import ONNX_REFUSED, ONNX_SUPPORTED, OnnxError, from_onnx
from pyramidviz.receptive import Layer
from pyramidviz.sizes import conv_output_size, same_output_size
from pyramidviz.specs import SpecError, format_spec, parse_spec

__all__ = ["CATALOGUE", "ONNX_REFUSED", "ONNX_SUPPORTED", "TABLE_COLUMNS", "LayerRow",
           "OnnxError", "ResNetUnit", "SpecError",
           "alexnet", "catalogue", "feature_sizes", "format_spec", "from_onnx", "layer_csv",
           "layer_table",
           "mobilenet_v1", "mobilenet_v2", "network_layers", "parse_spec", "resnet_layers",
           "resnet_units", "vgg16"]

CATALOGUE = (
    "alexnet", "vgg16", "resnet50", "resnet50_os16", "resnet50_os8", "resnet101",
    "resnet101_os16", "resnet101_os8", "mobilenet_v1", "mobilenet_v2", "efficientnet_lite0",
    "efficientnet_lite0_os16", "efficientnet_lite0_os8",
)
"""Catalogue names, in the order the page lists them."""

CATALOGUE_SIZE = (224, 224)
"""Input size used for the nets whose padding depends on it (TF "SAME": EfficientNet)."""

RESNET_DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
"""Bottleneck units per stage (He et al. 2016, Table 1)."""

# MobileNetV2 (Sandler et al. 2018, Table 2): expansion t, channels c, repeats n, stride s.
MOBILENET_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1))
# MobileNetV1 (Howard et al. 2017, Table 1): stride of each depthwise 3x3 after the stem.
MOBILENET_V1 = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)


def alexnet() -> list[Layer]:
    """AlexNet's ``features`` as in torchvision: field 195, stride 32, padding 66.

    Examples
    --------
    >>> [layer.name for layer in alexnet()][:3]
    ['conv1', 'pool1', 'conv2']
    """
    return [Layer(11, 4, 2, name="conv1"), Layer(3, 2, 0, name="pool1"),
            Layer(5, 1, 2, name="conv2"), Layer(3, 2, 0, name="pool2"),
            Layer(3, 1, 1, name="conv3"), Layer(3, 1, 1, name="conv4"),
            Layer(3, 1, 1, name="conv5"), Layer(3, 2, 0, name="pool5")]


def vgg16() -> list[Layer]:
    """VGG-16's 13 3x3 convs and 5 2x2 max pools: field 212, stride 32, padding 90.

    Examples
    --------
    >>> len(vgg16()), vgg16()[-1].name
    (18, 'pool5')
    """
    layers = []
    for stage, convs in enumerate((2, 2, 3, 3, 3), start=1):
        layers += [Layer(3, 1, 1, name=f"conv{stage}_{i}") for i in range(1, convs + 1)]
        layers.append(Layer(2, 2, 0, name=f"pool{stage}"))
    return layers


@dataclass(frozen=True)
class ResNetUnit:
    """One bottleneck unit: its 3x3 conv's stride and dilation, and where it sits."""

    name: str
    stride: int
    dilation: int
    downsample: bool


def resnet_units(depth: int, *, output_stride: int = 32, stride_in: str = "first"
                 ) -> list[ResNetUnit]:
    """The bottleneck units of ResNet-``depth`` with their stride and dilation.

    Parameters
    ----------
    depth : {50, 101}
    output_stride : {32, 16, 8}
        16 turns stage 4's stride into dilation, 8 also stage 3's, the DeepLab /
        torchvision ``replace_stride_with_dilation`` way: the first unit of such a stage keeps
        the dilation it had, the later ones multiply it by the removed stride, so every
        receptive field stays as at 32 (Chen et al. 2017, Sec. 3.1).
    stride_in : {"first", "last"}
        Which unit of a stage strides: torchvision's first (v1.5), or TF-Slim's last unit of
        the stage before (the layout of the published table).

    Examples
    --------
    >>> [(u.name, u.stride, u.dilation) for u in resnet_units(50, output_stride=16)][-3:]
    [('layer4.0', 1, 1), ('layer4.1', 1, 2), ('layer4.2', 1, 2)]
    """
    if depth not in RESNET_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(RESNET_DEPTHS)}, got {depth!r}")
    removed = {32: 0, 16: 1, 8: 2}.get(output_stride)
    if removed is None:
        raise ValueError(f"output_stride must be 32, 16 or 8, got {output_stride!r}")
    if stride_in not in ("first", "last"):
        raise ValueError(f"stride_in must be 'first' or 'last', got {stride_in!r}")
    units, dilation = [], 1
    for stage, count in enumerate(RESNET_DEPTHS[depth], start=1):
        stride = 1 if stage == 1 else 2
        previous = dilation
        if stage > 4 - removed:
            dilation, stride = dilation * stride, 1
        for i in range(count):
            units.append(ResNetUnit(f"layer{stage}.{i}", stride if i == 0 else 1,
                                    previous if i == 0 else dilation, i == 0))
    if stride_in == "last":  # TF-Slim: stage s+1's stride moves to stage s's last unit
        strides = [u.stride for u in units]
        firsts = [i for i, u in enumerate(units) if u.downsample]
        for first in firsts[1:]:
            strides[first - 1], strides[first] = strides[first], 1
        units = [ResNetUnit(u.name, s, u.dilation, u.downsample)
                 for u, s in zip(units, strides, strict=True)]
    return units


def resnet_layers(depth: int, *, output_stride: int = 32, stride_in: str = "first",
                  pool_padding: int = 1) -> list[Layer]:
    """The main path of ResNet-``depth`` (v1 bottlenecks), stem to the last stage.

    The 1x1 projection on a unit's skip path sees a subset of its main path, so the
    largest field is this chain's (Araujo et al. 2019, "Arbitrary computation graphs").

    Parameters
    ----------
    depth, output_stride, stride_in
        As in :func:`resnet_units`.
    pool_padding : int
        Top/left padding of the stem's 3x3 max pool: 1 in torchvision, 0 for TF-Slim's
        "SAME" pool on an even-sized input.

    Returns
    -------
    list of Layer
        Named like torchvision's modules (``conv1``, ``maxpool``, ``layer1.0.conv2`` ...).

    Examples
    --------
    >>> from pyramidviz.receptive import receptive_field
    >>> receptive_field(resnet_layers(50))[-1].size
    (427, 427)
    """
    layers = [Layer(7, 2, 3, name="conv1"), Layer(3, 2, pool_padding, name="maxpool")]
    for unit in resnet_units(depth, output_stride=output_stride, stride_in=stride_in):
        d = unit.dilation
        layers += [Layer(1, name=f"{unit.name}.conv1"),
                   Layer(3, unit.stride, d, d, name=f"{unit.name}.conv2"),
                   Layer(1, name=f"{unit.name}.conv3")]
    return layers


def mobilenet_v2() -> list[Layer]:
    """MobileNetV2's ``features`` as in torchvision: field 491, stride 32.

    Examples
    --------
    >>> layers = mobilenet_v2()
    >>> layers[0].name, layers[-1].name, len(layers)
    ('features.0', 'features.18', 52)
    """
    layers, index = [Layer(3, 2, 1, name="features.0")], 1
    for expand, _, repeats, stride in MOBILENET_V2:
        for i in range(repeats):
            conv = f"features.{index}.conv"
            if expand != 1:
                layers.append(Layer(1, name=f"{conv}.0"))
            dw = f"{conv}.{1 if expand != 1 else 0}"
            layers += [Layer(3, stride if i == 0 else 1, 1, name=dw),
                       Layer(1, name=f"{conv}.{2 if expand != 1 else 1}")]
            index += 1
    layers.append(Layer(1, name=f"features.{index}"))
    return layers


def mobilenet_v1(*, same_padding: bool = False) -> list[Layer]:
    """MobileNetV1 (stem and 13 depthwise-separable pairs): field 315, stride 32.

    Parameters
    ----------
    same_padding : bool
        Pad like TF-Slim at an even input size (TF "SAME": 0 before a stride-2 3x3) instead
        of the usual PyTorch ``padding=1``: effective padding 126 as published, else 157.

    Examples
    --------
    >>> len(mobilenet_v1())
    27
    """
    def pad(stride: int) -> int:
        return 0 if same_padding and stride == 2 else 1

    layers = [Layer(3, 2, pad(2), name="Conv2d_0")]
    for i, stride in enumerate(MOBILENET_V1, start=1):
        layers += [Layer(3, stride, pad(stride), name=f"Conv2d_{i}_depthwise"),
                   Layer(1, name=f"Conv2d_{i}_pointwise")]
    return layers


def _efficientnet(output_stride: int, input_hw: tuple[int, int]) -> list[Layer]:
    from pyramidviz.backbones import backbone_layers  # imports torch: only when asked

    return backbone_layers(output_stride, "head", input_hw)


@functools.cache
def _fixed(name: str) -> tuple[Layer, ...]:
    if name == "alexnet":
        return tuple(alexnet())
    if name == "vgg16":
        return tuple(vgg16())
    if name.startswith("resnet"):
        depth, _, os_text = name.removeprefix("resnet").partition("_os")
        return tuple(resnet_layers(int(depth), output_stride=int(os_text or 32)))
    if name == "mobilenet_v1":
        return tuple(mobilenet_v1())
    return tuple(mobilenet_v2())


def network_layers(name: str, input_hw: tuple[int, int] = CATALOGUE_SIZE) -> list[Layer]:
    """The layers of catalogue network ``name`` for an input of ``input_hw``.

    Only EfficientNet-Lite0 (TF "SAME" padding) depends on ``input_hw``.

    Raises
    ------
    ValueError
        For a name not in :data:`CATALOGUE`.

    Examples
    --------
    >>> network_layers("vgg16")[0]
    Layer(kernel=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1), name='conv1_1', \
global_pool=False)
    """
    if name not in CATALOGUE:
        raise ValueError(f"unknown network {name!r}; known: {', '.join(CATALOGUE)}")
    if name.startswith("efficientnet_lite0"):
        _, _, os_text = name.partition("_os")
        return _efficientnet(int(os_text or 32), tuple(input_hw))
    return list(_fixed(name))


def catalogue() -> dict[str, list[Layer]]:
    """Every catalogue network's layers, in order (EfficientNet at 224 x 224).

    Returns
    -------
    dict of str to list of Layer
        A fresh dict and lists on each call; ``receptive_field(layers)[-1]`` is the field of
        the network's last feature map.

    Examples
    --------
    >>> from pyramidviz.receptive import receptive_field
    >>> nets = catalogue()
    >>> receptive_field(nets["vgg16"])[-1].size, receptive_field(nets["vgg16"])[-1].padding
    ((212, 212), (90, 90))
    """
    return {name: network_layers(name) for name in CATALOGUE}


def feature_sizes(layers: list[Layer], input_hw: tuple[int, int], *, tf_same: bool = False
                  ) -> list[tuple[int, int]]:
    """``(h, w)`` of each layer's output for an input of ``input_hw`` (0 once it vanishes).

    The padding after the input is taken equal to the padding before
    (``floor((i + 2p - k_eff) / s) + 1``), as in PyTorch; ``tf_same=True`` uses TF "SAME"'s
    ``ceil(i / s)`` instead (EfficientNet-Lite0). A global pool gives ``(1, 1)``.

    Examples
    --------
    >>> feature_sizes([Layer(3, 2, 1), Layer(2, 2), Layer(9)], (64, 50))
    [(32, 25), (16, 12), (8, 4)]
    """
    sizes, (h, w) = [], input_hw
    for layer in layers:
        if layer.global_pool and h > 0 and w > 0:
            h = w = 1
        elif tf_same:
            h, w = (same_output_size(i, s) for i, s in zip((h, w), layer.stride, strict=True))
        else:
            h, w = (max(conv_output_size(i, k, padding=p, stride=s), 0) if i > 0 else 0
                    for i, p, k, s in zip((h, w), layer.padding, layer.effective_kernel,
                                          layer.stride, strict=True))
        sizes.append((h, w))
    return sizes


@dataclass(frozen=True)
class LayerRow:
    """One row of the per-layer table: the layer, its field and its map for a photo."""

    index: int
    name: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    field: tuple[int, int]
    effective_stride: tuple[int, int]
    effective_padding: tuple[int, int]
    global_: bool
    map_size: tuple[int, int]

    def values(self) -> dict[str, str | int]:
        """The row as text, keyed by :data:`TABLE_COLUMNS` (``"3"`` or ``"3×5"`` pairs)."""
        def pair(p: tuple[int, int]) -> str:
            return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"

        return {"index": self.index, "name": self.name, "kernel": pair(self.kernel),
                "stride": pair(self.stride), "padding": pair(self.padding),
                "dilation": pair(self.dilation),
                "field": "global" if self.global_ else pair(self.field),
                "effective_stride": pair(self.effective_stride),
                "effective_padding": pair(self.effective_padding),
                "map": f"{self.map_size[0]}×{self.map_size[1]}"}


TABLE_COLUMNS = ("index", "name", "kernel", "stride", "padding", "dilation", "field",
                 "effective_stride", "effective_padding", "map")
"""Keys of :meth:`LayerRow.values`, in table order (the app translates the headers)."""


def layer_table(layers: list[Layer], input_hw: tuple[int, int], *, tf_same: bool = False
                ) -> list[LayerRow]:
    """Per-layer kernel, stride, padding, dilation, field, effective stride and padding, map size.

    Examples
    --------
    >>> row = layer_table(parse_spec("conv3 s2, conv3 d2"), (32, 32))[-1]
    >>> row.field, row.effective_stride, row.effective_padding, row.map_size
    ((11, 11), (2, 2), (5, 5), (16, 16))
    """
    from pyramidviz.receptive import receptive_field

    fields = receptive_field(layers)
    sizes = feature_sizes(layers, input_hw, tf_same=tf_same)
    return [LayerRow(i + 1, layer.name, layer.kernel, layer.stride, layer.padding,  # type: ignore
                     layer.dilation, f.size, f.stride, f.padding, f.global_, size)  # type: ignore
            for i, (layer, f, size) in enumerate(zip(layers, fields, sizes, strict=True))]


def layer_csv(rows: list[LayerRow], headers: dict[str, str]) -> str:
    """The table as CSV text, with ``headers[key]`` (translated) over each column.

    Examples
    --------
    >>> rows = layer_table(parse_spec("conv3 s2"), (8, 8))
    >>> print(layer_csv(rows, {k: k.upper() for k in TABLE_COLUMNS}).splitlines()[1])
    1,conv3 s2,3,2,1,1,3,2,1,4×4
    """
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([headers[key] for key in TABLE_COLUMNS])
    writer.writerows([list(row.values().values()) for row in rows])
    return buffer.getvalue()

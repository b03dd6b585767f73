"""SPP and ASPP side by side: shapes, cost and how the output grows with the image.

Plain arithmetic over the other modules (:mod:`pyramidviz.bins`, :mod:`pyramidviz.sizes`,
:mod:`pyramidviz.aspp`), so the Compare page and a notebook show the same numbers. Importing it
loads no torch: :mod:`pyramidviz.aspp` is imported where its counts are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pyramidviz.bins import bin_edges, vector_length
from pyramidviz.papers import SPPNET_FC6, VOC_CLASSES, deeplab_head_parameter_count
from pyramidviz.sizes import backbone_map_hw

__all__ = ["ModuleCost", "aspp_cost", "aspp_preview_grid", "aspp_shapes", "output_lengths",
           "spp_cost"]


@dataclass(frozen=True)
class ModuleCost:
    """What one pooling module takes, gives and costs on a ``C x H x W`` feature map.

    Attributes
    ----------
    name : str
        ``"SPP"`` or ``"ASPP"``.
    input_shape : (int, int, int)
        ``(C, H, W)``.
    output_shape : tuple of int
        ``(C * sum(n*n),)`` for SPP, ``(out_channels, H, W)`` for ASPP.
    parameters : int
        Trainable parameters of the module itself (SPP has none).
    operations : int
        SPP: comparisons (or additions) made by pooling, one per cell of every bin after the
        first; ASPP: multiply-adds of its convolutions.
    keeps_resolution : bool
        Whether the output still has the input's ``H x W`` grid.
    next_layer_parameters : int
        Parameters of what consumes the output: for SPP an fc6 of SPP-net's width on this
        vector (``len * 4096`` weights, hypothetical on a map that is not SPP-net's conv5);
        for ASPP torchvision's DeepLab v3 head (3 x 3 conv, batch norm, 1 x 1 classifier
        to PASCAL VOC's 21 classes, :func:`pyramidviz.papers.deeplab_head_parameter_count`).
    operations_on_map : int
        ``operations`` less the multiply-adds that read zero padding (equal for SPP).
    """

    name: str
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, ...]
    parameters: int
    operations: int
    keeps_resolution: bool
    next_layer_parameters: int
    operations_on_map: int

    @property
    def output_elements(self) -> int:
        """Number of values in the output."""
        total = 1
        for dim in self.output_shape:
            total *= dim
        return total


def spp_cost(channels: int, map_hw: tuple[int, int], levels: Sequence[int]) -> ModuleCost:
    """Shapes and cost of SPP (adaptive bins) on a ``channels x h x w`` map.

    Examples
    --------
    >>> cost = spp_cost(256, (13, 13), (4, 2, 1))
    >>> cost.output_shape, cost.parameters, cost.next_layer_parameters
    ((5376,), 0, 22020096)
    """
    h, w = map_hw
    comparisons = 0
    for n in levels:
        rows = [end - start for start, end in bin_edges(h, n)]
        cols = [end - start for start, end in bin_edges(w, n)]
        comparisons += sum(r * c - 1 for r in rows for c in cols)
    length = vector_length(channels, levels)
    return ModuleCost("SPP", (channels, h, w), (length,), 0, comparisons * channels, False,
                      length * SPPNET_FC6, comparisons * channels)


def aspp_cost(channels: int, map_hw: tuple[int, int], rates: Sequence[int], *,
              out_channels: int = 256) -> ModuleCost:
    """Shapes and cost of DeepLab v3's ASPP (torchvision layout) on a ``channels x h x w`` map.

    Examples
    --------
    >>> cost = aspp_cost(320, (25, 38), (6, 12, 18))
    >>> cost.output_shape, cost.parameters, cost.keeps_resolution
    ((256, 25, 38), 2706432, True)
    >>> cost.next_layer_parameters  # DeepLab v3 head: 3x3 conv + BN + 1x1 classifier
    595733
    """
    from pyramidviz.aspp import aspp_macs, aspp_macs_on_map, aspp_parameter_count

    h, w = map_hw
    return ModuleCost(
        "ASPP", (channels, h, w), (out_channels, h, w),
        aspp_parameter_count(channels, out_channels, rates),
        aspp_macs(channels, out_channels, rates, (h, w)), True,
        deeplab_head_parameter_count(out_channels, VOC_CLASSES),
        aspp_macs_on_map(channels, out_channels, rates, (h, w)))


def aspp_shapes(channels: int, map_hw: tuple[int, int], rates: Sequence[int], *,
                out_channels: int = 256) -> list[tuple[str, tuple[int, int, int]]]:
    """``(step, (C, h, w))`` through ASPP: input, each branch, concatenation, projection.

    Steps are ``"input"``, ``"1x1"``, ``"rate r"`` per rate, ``"image pool"``, ``"concat"``
    and ``"project"`` (DeepLab v3, Sec. 3.3; torchvision's layout): every branch keeps the
    map's ``h x w``, the concatenation has ``(R + 2) O`` channels.

    Examples
    --------
    >>> aspp_shapes(320, (19, 29), (6,))[-2:]
    [('concat', (768, 19, 29)), ('project', (256, 19, 29))]
    """
    (h, w), o = map_hw, out_channels
    rows = [("input", (channels, h, w)), ("1x1", (o, h, w))]
    rows += [(f"rate {r}", (o, h, w)) for r in rates]
    return rows + [("image pool", (o, h, w)), ("concat", ((len(rates) + 2) * o, h, w)),
                   ("project", (o, h, w))]


def output_lengths(image_sides: Sequence[int], *, aspect: float, output_stride: int,
                   channels: int, levels: Sequence[int], out_channels: int = 256
                   ) -> dict[str, list[int]]:
    """Output length of SPP and ASPP as the image grows (width = side, height = side / aspect).

    Returns
    -------
    dict
        ``"side"``, ``"spp"`` (constant ``C * sum(n*n)``) and ``"aspp"`` (``O * h * w``).

    Examples
    --------
    >>> output_lengths([224, 448], aspect=1.0, output_stride=32, channels=320, levels=(4, 2, 1))
    {'side': [224, 448], 'spp': [6720, 6720], 'aspp': [12544, 50176]}
    """
    spp_len = vector_length(channels, levels)
    rows: dict[str, list[int]] = {"side": [], "spp": [], "aspp": []}
    for side in image_sides:
        h, w = backbone_map_hw((max(1, round(side / aspect)), side), output_stride)
        rows["side"].append(side)
        rows["spp"].append(spp_len)
        rows["aspp"].append(out_channels * h * w)
    return rows


def aspp_preview_grid(features: np.ndarray, rates: Sequence[int], *, kernel: int = 3
                      ) -> np.ndarray:
    """The ``h x w`` grid ASPP keeps: the channel mean of every branch preview, averaged.

    The previews are :func:`pyramidviz.aspp.branch_previews` (uniform-average stand-ins, not
    trained weights); their mean over branches and channels shows that ASPP's output is still
    a map with one value per cell, unlike SPP's vector.

    Parameters
    ----------
    features : ndarray, shape (C, h, w)
    rates : sequence of int
    kernel : odd int

    Returns
    -------
    ndarray, shape (h, w), float32

    Examples
    --------
    >>> aspp_preview_grid(np.ones((2, 3, 4), np.float32), (1, 2)).shape
    (3, 4)
    """
    import torch

    from pyramidviz.aspp import branch_previews

    x = torch.from_numpy(np.array(features, np.float32))[None]  # a copy: inputs are shared
    previews = branch_previews(x, rates, kernel=kernel)
    return torch.stack(list(previews.values())).mean(dim=(0, 2))[0].numpy()

"""Sizes: what a convolution makes of an input, and the SPP lesson's photo and map sizes.

Every size in the package comes from here: the output length of a convolution (PyTorch's
padding, Dumoulin and Visin's relationship 15) and of a TF "SAME" one (``ceil(i / s)``), the
feature map of a photo through the backbone, the photo scaled for "any size in, same length
out", the fixed-input crop and warp, and the table that puts them side by side.

Every ``(h, w)`` pair is named ``*_hw`` (height first): ``photo_hw`` in pixels, ``map_hw`` in
feature cells. Pure integers, no torch.

References
----------
.. [1] V. Dumoulin, F. Visin, "A guide to convolution arithmetic for deep learning",
   arXiv:1603.07285, 2016, relationship 15.
.. [2] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 2015 (arXiv:1406.4729), Fig. 1 (crop/warp vs SPP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyramidviz.bins import bin_edges, vector_length

__all__ = ["MIN_SCALED_SIDE", "SizeRow", "backbone_map_hw", "bin_pixel_boxes", "cell_lines",
           "centre_crop", "conv_output_size", "same_output_size", "same_padding_total",
           "scaled_photo_hw", "scaled_photo_sizes", "size_table"]

MIN_SCALED_SIDE = 8
"""Shortest side a scaled photo may have (a stride-32 map of it still has one cell)."""


def conv_output_size(size: int, kernel: int, *, padding: int = 0, stride: int = 1,
                     dilation: int = 1) -> int:
    """Output length ``floor((i + 2p - d(k - 1) - 1) / s) + 1`` of a convolution.

    May be zero or negative when the dilated kernel does not fit the padded input.

    Examples
    --------
    >>> conv_output_size(9, 3, padding=1, stride=1, dilation=2)
    7
    >>> conv_output_size(224, 7, padding=3, stride=2)
    112

    References
    ----------
    Dumoulin & Visin (2016), relationship 15; ``torch.nn.Conv2d`` documentation.
    """
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def same_output_size(size: int, stride: int) -> int:
    """Output length ``ceil(i / s)`` of a TF "SAME" convolution or pooling (0 stays 0).

    Examples
    --------
    >>> same_output_size(225, 2), same_output_size(224, 2), same_output_size(0, 2)
    (113, 112, 0)
    """
    return -(-size // stride)


def same_padding_total(size: int, kernel: int, stride: int, dilation: int = 1) -> int:
    """TF "SAME" total padding ``max((ceil(i/s) - 1) s + d(k - 1) + 1 - i, 0)``.

    TensorFlow puts ``total // 2`` before the input and the rest after it.

    Examples
    --------
    >>> same_padding_total(224, 3, 2), same_padding_total(225, 3, 2), same_padding_total(9, 5, 1, 2)
    (1, 2, 8)
    """
    span = dilation * (kernel - 1) + 1
    return max((same_output_size(size, stride) - 1) * stride + span - size, 0)


def backbone_map_hw(photo_hw: tuple[int, int], output_stride: int) -> tuple[int, int]:
    """Feature-map ``(h, w)`` of a TF-"SAME" backbone: ``ceil(H / OS) x ceil(W / OS)``.

    Every stride-2 layer with SAME padding maps ``i`` to ``ceil(i / 2)``, and nested ceilings
    of halvings equal one ceiling of the product.

    Examples
    --------
    >>> backbone_map_hw((400, 600), 16)
    (25, 38)
    """
    h, w = photo_hw
    return same_output_size(h, output_stride), same_output_size(w, output_stride)


def cell_lines(photo_hw: tuple[int, int], stride: int) -> tuple[list[int], list[int]]:
    """Pixel positions of the feature-cell edges over a photo: every ``stride`` px, clipped.

    Returns
    -------
    xs, ys : list of int
        Column edges ``0, s, 2s, ..., W`` and row edges ``0, s, ..., H`` of the
        :func:`backbone_map_hw` cells (the last cell may be cut by the photo's edge).

    Examples
    --------
    >>> cell_lines((64, 80), 32)
    ([0, 32, 64, 80], [0, 32, 64])
    """
    (h, w), (fh, fw) = photo_hw, backbone_map_hw(photo_hw, stride)
    return [min(c * stride, w) for c in range(fw + 1)], [min(r * stride, h) for r in range(fh + 1)]


def bin_pixel_boxes(photo_hw: tuple[int, int], stride: int, level: int
                    ) -> list[tuple[int, int, int, int]]:
    """One level's ``n x n`` adaptive bins as pixel boxes ``(top, left, bottom, right)``.

    The bins of the :func:`backbone_map_hw` map (:func:`pyramidviz.bins.bin_edges`), each
    cell taken as the ``stride x stride`` pixels it owns, clipped to the photo; row-major.

    Examples
    --------
    >>> bin_pixel_boxes((64, 80), 32, 2)
    [(0, 0, 32, 64), (0, 32, 32, 80), (32, 0, 64, 64), (32, 32, 64, 80)]
    """
    (h, w), (fh, fw) = photo_hw, backbone_map_hw(photo_hw, stride)
    return [(min(r0 * stride, h), min(c0 * stride, w), min(r1 * stride, h), min(c1 * stride, w))
            for r0, r1 in bin_edges(fh, level) for c0, c1 in bin_edges(fw, level)]


def scaled_photo_hw(photo_hw: tuple[int, int], scale: float, *,
                    min_side: int = MIN_SCALED_SIDE) -> tuple[int, int]:
    """``(h, w)`` of a photo scaled by ``scale`` (rounded, each side at least ``min_side``).

    No cap: ``1`` gives the photo's own size, and ``1.5`` really is one and a half times it.

    Examples
    --------
    >>> scaled_photo_hw((300, 451), 0.5), scaled_photo_hw((1200, 1600), 1.5)
    ((150, 226), (1800, 2400))
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    h, w = photo_hw
    return max(min_side, round(h * scale)), max(min_side, round(w * scale))


def scaled_photo_sizes(photo_hw: tuple[int, int], scales: Sequence[float | str], *,
                       min_side: int = MIN_SCALED_SIDE) -> tuple[tuple[int, int], ...]:
    """The photo's ``(h, w)`` at each scale: "any size in, same length out" (He et al., Fig. 1).

    Each size is :func:`scaled_photo_hw` of the photo the page works on (scale ``1`` is that
    photo itself, never a capped copy), so different scales give different sizes: the
    feature maps differ, SPP's vector length does not.

    Parameters
    ----------
    photo_hw : (int, int)
        Height and width in pixels of the photo in use.
    scales : sequence of float or str
        Distinct positive scales, e.g. ``(0.5, 0.75, 1, 1.5)`` or the strings ``"0.75"``.
    min_side : int
        Shortest side a scaled photo may have.

    Returns
    -------
    tuple of (int, int)
        ``(h, w)`` per scale, in the order given.

    Raises
    ------
    ValueError
        For a non-positive scale, or when two scales give one size (a photo too small to
        show the difference).

    Examples
    --------
    >>> scaled_photo_sizes((1200, 1600), ["0.5", "0.75", "1", "1.5"])
    ((600, 800), (900, 1200), (1200, 1600), (1800, 2400))
    """
    sizes = tuple(scaled_photo_hw(photo_hw, float(s), min_side=min_side) for s in scales)
    if len(set(sizes)) < len(sizes):
        raise ValueError(f"scales {list(scales)!r} give repeated sizes {sizes!r} "
                         f"for a {photo_hw!r} photo")
    return sizes


def centre_crop(photo_hw: tuple[int, int], side: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """A fixed-input CNN's crop: short side resized to ``side``, then a centred square.

    Returns
    -------
    resized_hw : (int, int)
        The photo after its short side is resized to ``side`` (aspect kept).
    top_left : (int, int)
        Where the ``side x side`` crop starts in the resized photo.

    Examples
    --------
    >>> centre_crop((300, 451), 224)
    ((224, 337), (0, 56))
    """
    h, w = photo_hw
    short = min(h, w)
    resized = (max(side, round(h * side / short)), max(side, round(w * side / short)))
    return resized, ((resized[0] - side) // 2, (resized[1] - side) // 2)


@dataclass(frozen=True)
class SizeRow:
    """One input of the sizes table.

    Attributes
    ----------
    kind : {"scaled", "crop", "warp"}
    scale : str or None
        The scale as offered (e.g. ``"0.75"``) for ``"scaled"`` rows.
    photo_hw, map_hw : (int, int)
        Photo size in pixels and feature-map size in cells.
    flat : int
        ``C * h * w``: what flattening the map would give.
    spp : int or None
        SPP vector length ``C * sum(n * n)``; None for crop/warp (a fixed input needs none).
    """

    kind: str
    scale: str | None
    photo_hw: tuple[int, int]
    map_hw: tuple[int, int]
    flat: int
    spp: int | None


def size_table(photo_hw: tuple[int, int], scales: Sequence[str], *, fixed: int, channels: int,
               stride: int, levels: Sequence[int]) -> list[SizeRow]:
    """One row per scale of the photo (:func:`scaled_photo_sizes`), then the crop and warp.

    Examples
    --------
    >>> rows = size_table((300, 451), ["0.5", "1"], fixed=224, channels=320, stride=32,
    ...                   levels=(4, 2, 1))
    >>> [(r.kind, r.map_hw, r.flat, r.spp) for r in rows]  # doctest: +NORMALIZE_WHITESPACE
    [('scaled', (5, 8), 12800, 6720), ('scaled', (10, 15), 48000, 6720),
     ('crop', (7, 7), 15680, None), ('warp', (7, 7), 15680, None)]
    """
    length = vector_length(channels, levels)
    rows = []
    for scale, scaled_hw in zip(scales, scaled_photo_sizes(photo_hw, scales), strict=True):
        map_hw = backbone_map_hw(scaled_hw, stride)
        rows.append(SizeRow("scaled", scale, scaled_hw, map_hw,
                            channels * map_hw[0] * map_hw[1], length))
    map_hw = backbone_map_hw((fixed, fixed), stride)
    return rows + [SizeRow(kind, None, (fixed, fixed), map_hw, channels * map_hw[0] * map_hw[1],
                           None) for kind in ("crop", "warp")]

"""Spatial pyramid pooling (SPP): fixed-length vectors from feature maps of any size.

The torch part of SPP: :func:`spatial_pyramid_pool` max- (or average-) pools each level's
``n x n`` adaptive bins and concatenates them, and :class:`SpatialPyramidPooling` is its layer
form. Where the bins lie, how many there are and what the paper's own rule does are plain
integers in :mod:`pyramidviz.bins` (no torch needed).

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 37(9), 2015 (arXiv:1406.4729), Sec. 2.3, Fig. 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pyramidviz.checks import positive_ints

__all__ = ["SPPResult", "SpatialPyramidPooling", "spatial_pyramid_pool"]

_MODES = ("max", "avg")


@dataclass(frozen=True)
class SPPResult:
    """Output of :func:`spatial_pyramid_pool`.

    Attributes
    ----------
    vector : Tensor, shape (N, C * sum(n * n))
        Levels concatenated in order, each flattened channel-major like ``flatten(1)``.
    levels : tuple of int
    pooled : tuple of Tensor, each shape (N, C, n, n)
    argmax : tuple of Tensor, each shape (N, C, n, n, 2), int64, or None
        ``(row, col)`` of the cell that won each bin (``mode="max"`` only).
    """

    vector: Tensor
    levels: tuple[int, ...]
    pooled: tuple[Tensor, ...]
    argmax: tuple[Tensor, ...] | None


def _max_level(x: Tensor, n: int) -> tuple[Tensor, Tensor]:
    pooled, flat = F.adaptive_max_pool2d(x, n, return_indices=True)
    width = x.shape[-1]
    return pooled, torch.stack((flat // width, flat % width), dim=-1)


def spatial_pyramid_pool(
    x: Tensor, levels: Sequence[int] = (4, 2, 1), *, mode: str = "max"
) -> SPPResult:
    """Pool a feature map into ``n x n`` bins per level and concatenate (adaptive rule).

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)
        Any ``H, W >= 1``; bins may overlap when ``H`` or ``W`` is below ``n``.
    levels : sequence of positive int
        Pyramid levels, e.g. ``(4, 2, 1)`` (21 bins) or ``(6, 3, 2, 1)`` (50 bins).
    mode : {"max", "avg"}
        Max pooling (the paper) or average pooling.

    Returns
    -------
    SPPResult
        ``vector`` equals ``torch.cat([F.adaptive_max_pool2d(x, n).flatten(1) for n in
        levels], 1)`` bit for bit (``adaptive_avg_pool2d`` for ``"avg"``).

    Raises
    ------
    ValueError
        For a tensor that is not 4-D, bad levels or an unknown mode.

    Examples
    --------
    >>> spatial_pyramid_pool(torch.zeros(2, 256, 13, 9)).vector.shape
    torch.Size([2, 5376])

    References
    ----------
    He et al. (2015), Fig. 3 and Sec. 2.3.
    """
    levels = positive_ints(levels, "pyramid levels")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if not isinstance(x, Tensor) or x.dim() != 4 or min(x.shape[-2:]) < 1:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of shape (N, C, H, W) with H, W >= 1, got {shape}")
    if mode == "avg":
        pooled = tuple(F.adaptive_avg_pool2d(x, n) for n in levels)
        argmax = None
    else:
        pooled, argmax = zip(*(_max_level(x, n) for n in levels), strict=True)
    vector = torch.cat([p.flatten(1) for p in pooled], 1)
    return SPPResult(vector=vector, levels=levels, pooled=tuple(pooled),
                     argmax=None if argmax is None else tuple(argmax))


class SpatialPyramidPooling(nn.Module):
    """Layer form of :func:`spatial_pyramid_pool`, returning only the vector.

    Examples
    --------
    >>> spp = SpatialPyramidPooling((6, 3, 2, 1))
    >>> spp(torch.zeros(1, 4, 20, 31)).shape
    torch.Size([1, 200])
    """

    def __init__(self, levels: Sequence[int] = (4, 2, 1), *, mode: str = "max") -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.levels = positive_ints(levels, "pyramid levels")
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        return spatial_pyramid_pool(x, self.levels, mode=self.mode).vector

    def extra_repr(self) -> str:
        return f"levels={self.levels}, mode={self.mode!r}"

"""Receptive-field arithmetic: which input pixels a feature-map cell can see.

For a single-path chain of layers (kernel ``k``, stride ``s``, padding ``p``,
dilation ``d``), starting from the input with size ``r = 1``, effective stride ``j = 1`` and
effective padding ``P = 0``::

    k_eff = d * (k - 1) + 1
    r_out = r_in + (k_eff - 1) * j_in
    j_out = j_in * s
    P_out = P_in + p * j_in

Output cell ``u`` is then centred on input pixel ``u * j - P + (r - 1) / 2`` and
sees the half-open pixel range ``[u * j - P, u * j - P + r)``. ``p`` is the padding
*before* the input (top/left), the only padding that moves positions.

:func:`step` is that recurrence, the only place it is written; :func:`merge` is the rule
where branches meet (per axis, the largest of aligned fields). To get the layer chain of a
real PyTorch module, read its graph with :func:`pyramidviz.tracing.layers_of`.

References
----------
.. [1] A. Araujo, W. Norris, J. Sim, "Computing Receptive Fields of Convolutional
   Neural Networks", Distill, 2019. doi:10.23915/distill.00021
.. [2] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep
   Convolutional Networks for Visual Recognition", TPAMI 2015, Appendix
   ("Mapping a Window to Feature Maps").
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

Pair = tuple[int, int]
IntOrPair = int | Sequence[int]

__all__ = [
    "Box", "FieldInfo", "Layer", "image_box_to_cells", "merge", "receptive_field", "step",
]


def _pair(value: IntOrPair, what: str, *, minimum: int) -> Pair:
    """Normalise an int or an (h, w) pair of ints, each at least ``minimum``."""
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, Sequence):
            if len(value) != 2:
                raise TypeError
            pair = (operator.index(value[0]), operator.index(value[1]))
        else:
            pair = (operator.index(value),) * 2
    except TypeError:
        message = f"{what} must be an int or an (h, w) pair of ints, got {value!r}"
        raise ValueError(message) from None
    if min(pair) < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")
    return pair


@dataclass(frozen=True)
class Box:
    """Half-open pixel box ``[top, bottom) x [left, right)`` (may extend outside the image)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        """Number of rows, ``bottom - top``."""
        return self.bottom - self.top

    @property
    def width(self) -> int:
        """Number of columns, ``right - left``."""
        return self.right - self.left

    def clip(self, height: int, width: int) -> Box:
        """Intersect with the image ``[0, height) x [0, width)`` (an empty box stays empty).

        Examples
        --------
        >>> Box(-2, -2, 3, 3).clip(2, 10)
        Box(top=0, left=0, bottom=2, right=3)
        """
        top, left = min(max(self.top, 0), height), min(max(self.left, 0), width)
        bottom = max(top, min(self.bottom, height))
        right = max(left, min(self.right, width))
        return Box(top, left, bottom, right)


@dataclass(frozen=True)
class Layer:
    """One convolution or pooling layer as the arithmetic sees it.

    Parameters
    ----------
    kernel, stride, padding, dilation : int or (h, w) pair
        ``padding`` is the padding *before* the input (top, left). TF "SAME"
        padding puts ``total // 2`` there and the extra pixel after.
    name : str
        Label, e.g. the module's qualified name.
    global_pool : bool
        True for a pooling layer whose every output sees its whole input.

    Examples
    --------
    >>> Layer(3, padding=1).padding
    (1, 1)
    """

    kernel: IntOrPair
    stride: IntOrPair = 1
    padding: IntOrPair = 0
    dilation: IntOrPair = 1
    name: str = ""
    global_pool: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel", _pair(self.kernel, "kernel", minimum=1))
        object.__setattr__(self, "stride", _pair(self.stride, "stride", minimum=1))
        object.__setattr__(self, "padding", _pair(self.padding, "padding", minimum=0))
        object.__setattr__(self, "dilation", _pair(self.dilation, "dilation", minimum=1))

    @property
    def effective_kernel(self) -> Pair:
        """``d * (k - 1) + 1`` per axis: the span of a dilated kernel."""
        pairs = zip(self.kernel, self.dilation, strict=True)
        return tuple(d * (k - 1) + 1 for k, d in pairs)  # type: ignore[return-value]


def _span(start: int, stop: int, size: int, jump: int, pad: int) -> tuple[int, int]:
    """Half-open pixel span of the cells ``[start, stop)`` along one axis."""
    return start * jump - pad, (stop - 1) * jump - pad + size


@dataclass(frozen=True)
class FieldInfo:
    """Receptive field of a layer's output cells, as (h, w) pairs.

    Attributes
    ----------
    size : (int, int)
        Receptive-field size ``r`` in input pixels.
    stride : (int, int)
        Effective stride ``j`` (Araujo et al.'s "jump"): input pixels between neighbouring
        cells. Not a layer's own stride, nor the network's output stride.
    padding : (int, int)
        Effective padding ``P``: cell 0's field starts at pixel ``-P``.
    global_ : bool
        True once a global pool was crossed: every cell sees the whole image.
    """

    size: Pair
    stride: Pair
    padding: Pair
    global_: bool = False

    def center(self, row: float, col: float) -> tuple[float, float]:
        """Input pixel ``(y, x)`` at the centre of cell ``(row, col)``: ``u*j - P + (r-1)/2``.

        Examples
        --------
        >>> FieldInfo(size=(3, 3), stride=(2, 2), padding=(1, 1)).center(0, 2)
        (0.0, 4.0)
        """
        return tuple(  # type: ignore[return-value]
            u * j - p + (r - 1) / 2
            for u, j, p, r in zip((row, col), self.stride, self.padding, self.size, strict=True)
        )

    def nearest_cell(self, y: float, x: float, feature_size: Pair) -> Pair:
        """The cell of a ``feature_size`` map whose centre is nearest pixel ``(y, x)``.

        Inverts :meth:`center`, ``u = (y + P - (r - 1) / 2) / j``, rounded half up and
        clipped to the map. Moving a chosen cell to a map of another stride (an output
        stride change) through its centre pixel keeps the point on the photo, where keeping
        the index would move it.

        Examples
        --------
        EfficientNet-Lite0's stage7 on a 300 x 451 photo, at output stride 16 and 8:

        >>> os16 = FieldInfo(size=(851, 851), stride=(16, 16), padding=(414, 423))
        >>> os8 = FieldInfo(size=(851, 851), stride=(8, 8), padding=(422, 423))
        >>> os16.center(9, 14), os8.nearest_cell(*os16.center(9, 14), (38, 57))
        ((155.0, 226.0), (19, 28))
        >>> os16.nearest_cell(-100.0, 1e9, (19, 29))
        (0, 28)
        """
        return tuple(  # type: ignore[return-value]
            min(max(math.floor((v + p - (r - 1) / 2) / j + 0.5), 0), n - 1)
            for v, j, p, r, n in zip((y, x), self.stride, self.padding, self.size,
                                     feature_size, strict=True)
        )

    def carry(self, size: Pair, other: FieldInfo, other_size: Pair
              ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Where each cell of this ``size`` map goes on the ``other_size`` map of ``other``.

        Row ``u`` goes to row ``rows[u]``, column ``v`` to ``cols[v]``:
        :meth:`nearest_cell` of the cell's :meth:`center`, which works on each axis alone.
        A browser view carries the cell it was moved to through these two lists when the map
        changes, so it needs no geometry of its own.

        Examples
        --------
        The stage7 maps of a 300 x 451 photo, from output stride 16 to 32 (a 10 x 15 map):

        >>> os16 = FieldInfo(size=(851, 851), stride=(16, 16), padding=(414, 423))
        >>> os32 = FieldInfo(size=(851, 851), stride=(32, 32), padding=(414, 423))
        >>> rows, cols = os16.carry((19, 29), os32, (10, 15))
        >>> rows[:6], cols[-3:]
        ((0, 1, 1, 2, 2, 3), (13, 14, 14))
        >>> (rows[9], cols[14]) == os32.nearest_cell(*os16.center(9, 14), (10, 15))
        True
        """
        rows = tuple(other.nearest_cell(self.center(u, 0)[0], 0.0, other_size)[0]
                     for u in range(size[0]))
        cols = tuple(other.nearest_cell(0.0, self.center(0, u)[1], other_size)[1]
                     for u in range(size[1]))
        return rows, cols

    def block_box(
        self, rows: Pair, cols: Pair, *, image_size: Pair | None = None
    ) -> Box:
        """Union of the fields of the half-open block of cells ``rows x cols``.

        With ``image_size=(H, W)`` the box is clipped to the image (and is the whole
        image when ``global_`` is set).

        Examples
        --------
        >>> FieldInfo(size=(5, 5), stride=(2, 2), padding=(2, 2)).block_box((0, 2), (1, 3))
        Box(top=-2, left=0, bottom=5, right=7)
        """
        (r0, r1), (c0, c1) = rows, cols
        if r1 <= r0 or c1 <= c0:
            raise ValueError(f"cell block must be non-empty, got rows={rows!r}, cols={cols!r}")
        top, bottom = _span(r0, r1, self.size[0], self.stride[0], self.padding[0])
        left, right = _span(c0, c1, self.size[1], self.stride[1], self.padding[1])
        if image_size is None:
            return Box(top, left, bottom, right)
        height, width = image_size
        if self.global_:
            return Box(0, 0, height, width)
        return Box(top, left, bottom, right).clip(height, width)

    def cell_box(self, row: int, col: int, *, image_size: Pair | None = None) -> Box:
        """Half-open pixel box seen by cell ``(row, col)``; clipped when ``image_size`` given.

        Examples
        --------
        >>> FieldInfo(size=(3, 3), stride=(1, 1), padding=(1, 1)).cell_box(0, 0)
        Box(top=-1, left=-1, bottom=2, right=2)
        >>> FieldInfo(size=(3, 3), stride=(1, 1), padding=(1, 1)).cell_box(0, 0, image_size=(8, 8))
        Box(top=0, left=0, bottom=2, right=2)
        """
        return self.block_box((row, row + 1), (col, col + 1), image_size=image_size)

    def whole_image_cells(self, feature_size: Pair, image_size: Pair) -> int:
        """How many cells of a ``feature_size`` map see the whole ``image_size`` photo.

        A cell sees the whole photo when its field box reaches past every border; the box
        is separable, so the count is (rows that span the height) x (columns that span the
        width). Cells near a border reach only part of the photo on the far side.

        Examples
        --------
        >>> FieldInfo(size=(5, 5), stride=(1, 1), padding=(2, 2)).whole_image_cells((4, 4), (4, 4))
        4
        >>> FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0), global_=True).whole_image_cells(
        ...     (3, 5), (3, 5))
        15
        """
        (fh, fw), (height, width) = _pair(feature_size, "feature_size", minimum=1), _pair(
            image_size, "image_size", minimum=1)
        if self.global_:
            return fh * fw
        counts = []
        for cells, side, size, jump, pad in zip((fh, fw), (height, width), self.size,
                                                self.stride, self.padding, strict=True):
            counts.append(sum(1 for u in range(cells)
                              if u * jump - pad <= 0 and u * jump - pad + size >= side))
        return counts[0] * counts[1]

    def stride_box(self, rows: Pair, cols: Pair, *, image_size: Pair | None = None) -> Box:
        """The ``j``-pixel tiles the cells ``rows x cols`` "own", centred on their centres.

        Cell ``u`` owns ``[c(u) - j/2, c(u) + j/2)`` around its centre ``c(u)``
        (:meth:`center`), rounded up to whole pixels, so a block of cells owns
        ``[ceil(c(u0) - j/2), ceil(c(u0) - j/2) + (u1 - u0) j)``. With TF "SAME" padding the
        centres are not at ``u j``, so neither are the tiles.

        Examples
        --------
        >>> FieldInfo(size=(7, 7), stride=(4, 4), padding=(3, 3)).stride_box((1, 3), (0, 1))
        Box(top=2, left=-2, bottom=10, right=2)
        >>> FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0)).stride_box((2, 4), (0, 1))
        Box(top=2, left=0, bottom=4, right=1)
        """
        (r0, r1), (c0, c1) = rows, cols
        (jh, jw) = self.stride
        cy, cx = self.center(r0, c0)
        top, left = math.ceil(cy - jh / 2), math.ceil(cx - jw / 2)
        box = Box(top, left, top + (r1 - r0) * jh, left + (c1 - c0) * jw)
        return box if image_size is None else box.clip(*image_size)


def step(field: FieldInfo, layer: Layer) -> FieldInfo:
    """The field after ``layer``, from the field of its input: one step of the recurrence.

    ``r + (k_eff - 1) j``, ``j s``, ``P + p j`` per axis; a global pool makes it global.
    The only place the recurrence is written: :func:`receptive_field`, the ONNX reader
    (:mod:`pyramidviz.onnxgraph`) and everything else call it.

    Examples
    --------
    >>> step(FieldInfo((3, 3), (2, 2), (1, 1)), Layer((1, 3), stride=2, padding=(0, 1)))
    FieldInfo(size=(3, 7), stride=(4, 4), padding=(1, 3), global_=False)

    References
    ----------
    Araujo et al., Distill 2019, "Single-path networks", Eq. (11)-(13).
    """
    kh, kw = layer.effective_kernel
    (rh, rw), (jh, jw), (ph, pw) = field.size, field.stride, field.padding
    (sh, sw), (lh, lw) = layer.stride, layer.padding
    return FieldInfo(
        size=(rh + (kh - 1) * jh, rw + (kw - 1) * jw),
        stride=(jh * sh, jw * sw),
        padding=(ph + lh * jh, pw + lw * jw),
        global_=field.global_ or layer.global_pool,
    )


_AXES = ("height", "width")


def _check_aligned(fields: Sequence[FieldInfo], name: str) -> None:
    """Raise unless the local fields share, per axis, their effective stride and centre."""
    local = [f for f in fields if not f.global_]
    for axis, word in enumerate(_AXES):
        strides = sorted({f.stride[axis] for f in local})
        if len(strides) > 1:
            raise ValueError(f"branches meeting at {name!r} are not aligned: their effective "
                             f"strides along the {word} differ ({strides[0]} and "
                             f"{strides[-1]} pixels)")
        centres = sorted({(f.size[axis] - 1) / 2 - f.padding[axis] for f in local})
        if len(centres) > 1:
            raise ValueError(f"branches meeting at {name!r} are not aligned: cell 0 is "
                             f"centred on pixel {centres[0]:g} along one branch and "
                             f"{centres[-1]:g} along another ({word})")


def merge(fields: Sequence[FieldInfo], *, name: str = "") -> FieldInfo:
    """The field where branches meet (Add, Concat along channels, Mul ...), per axis.

    A cell sees the union of what its branches see. For aligned branches (the same
    effective stride and the same centres, per axis) the fields on each axis are nested
    intervals, so the union is the largest: each axis takes the branch with the largest
    field on it, which may be a different branch on each axis (1 x 7 and 5 x 1 give 5 x 7).
    A global branch (every cell sees the whole input) wins on both axes.

    Parameters
    ----------
    fields : sequence of FieldInfo
        One per branch, at least one.
    name : str
        The node where they meet, for the error message.

    Raises
    ------
    ValueError
        Branches that are not aligned (google-research/receptive_field raises too), naming
        ``name``: their union is no receptive field with one stride and centre.

    Examples
    --------
    >>> a = FieldInfo(size=(1, 7), stride=(1, 1), padding=(0, 3))
    >>> b = FieldInfo(size=(5, 1), stride=(1, 1), padding=(2, 0))
    >>> merge([a, b])
    FieldInfo(size=(5, 7), stride=(1, 1), padding=(2, 3), global_=False)
    >>> merge([a, FieldInfo((3, 3), (2, 2), (1, 1))], name="add")
    Traceback (most recent call last):
    ...
    ValueError: branches meeting at 'add' are not aligned: their effective strides along \
the height differ (1 and 2 pixels)

    References
    ----------
    Araujo et al., Distill 2019, "Arbitrary computation graphs".
    """
    if not fields or not all(isinstance(f, FieldInfo) for f in fields):
        raise ValueError(f"fields must be one or more FieldInfo, got {fields!r}")
    _check_aligned(fields, name)
    picks = [max(fields, key=lambda f, a=axis: (f.global_, f.size[a])) for axis in (0, 1)]
    return FieldInfo(size=(picks[0].size[0], picks[1].size[1]),
                     stride=(picks[0].stride[0], picks[1].stride[1]),
                     padding=(picks[0].padding[0], picks[1].padding[1]),
                     global_=any(f.global_ for f in fields))


def receptive_field(layers: Sequence[Layer]) -> list[FieldInfo]:
    """Cumulative receptive field after each layer of a single-path chain.

    Parameters
    ----------
    layers : sequence of Layer
        From the input onwards.

    Returns
    -------
    list of FieldInfo
        One per layer: the field of that layer's output cells in input pixels.

    Examples
    --------
    >>> [f.size for f in receptive_field([Layer(3), Layer(2, stride=2), Layer(3)])]
    [(3, 3), (4, 4), (8, 8)]

    References
    ----------
    Araujo et al., Distill 2019, "Single-path networks".
    """
    field = FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0))
    fields = []
    for layer in layers:
        if not isinstance(layer, Layer):
            raise ValueError(f"layers must be Layer objects, got {layer!r}")
        field = step(field, layer)
        fields.append(field)
    return fields


def image_box_to_cells(
    box: Box, stride: IntOrPair, *, feature_size: Pair | None = None
) -> tuple[Pair, Pair]:
    """Cells of a stride-``S`` feature map under an image window (SPP paper, Appendix).

    Left/top ``x' = floor(x / S) + 1``, right/bottom ``x' = ceil(x / S) - 1`` (inclusive),
    returned as half-open ``(rows, cols)``. This assumes the paper's set-up: every layer
    pads ``floor(k / 2)`` so that cell ``x'`` is centred on pixel ``S * x'``; the rule then
    keeps the cells whose centre lies strictly inside the window, with ``box`` edges read
    as coordinates. For other paddings (e.g. TF "SAME") use :meth:`FieldInfo.center`.
    The result may be empty (``r1 <= r0``) for windows narrower than ``S``.

    Parameters
    ----------
    box : Box
        Window in image pixels.
    stride : int or (h, w) pair
        Product ``S`` of all strides before the feature map.
    feature_size : (int, int), optional
        ``(h, w)`` of the map: clip the cell ranges to it.

    Returns
    -------
    rows, cols : (int, int) each
        Half-open cell ranges.

    Examples
    --------
    >>> image_box_to_cells(Box(0, 0, 64, 40), 16)
    ((1, 4), (1, 3))
    """
    sh, sw = _pair(stride, "stride", minimum=1)
    rows = (box.top // sh + 1, -(-box.bottom // sh))
    cols = (box.left // sw + 1, -(-box.right // sw))
    if feature_size is not None:
        fh, fw = feature_size
        rows = (min(max(rows[0], 0), fh), min(max(rows[1], 0), fh))
        cols = (min(max(cols[0], 0), fw), min(max(cols[1], 0), fw))
    return rows, cols

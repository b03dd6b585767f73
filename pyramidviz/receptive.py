"""Receptive-field arithmetic: which input pixels a feature-map cell can see.

For a single-path chain of layers (kernel ``k``, stride ``s``, padding ``p``,
dilation ``d``), starting from the input with size ``r = 1``, jump ``j = 1`` and
effective padding ``P = 0``::

    k_eff = d * (k - 1) + 1
    r_out = r_in + (k_eff - 1) * j_in
    j_out = j_in * s
    P_out = P_in + p * j_in

Output cell ``u`` is then centred on input pixel ``u * j - P + (r - 1) / 2`` and
sees the half-open pixel range ``[u * j - P, u * j - P + r)``. ``p`` is the padding
*before* the input (top/left), the only padding that moves positions.

References
----------
.. [1] A. Araujo, W. Norris, J. Sim, "Computing Receptive Fields of Convolutional
   Neural Networks", Distill, 2019. doi:10.23915/distill.00021
.. [2] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep
   Convolutional Networks for Visual Recognition", TPAMI 2015, Appendix
   ("Mapping a Window to Feature Maps").
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch import nn

Pair = tuple[int, int]
IntOrPair = int | Sequence[int]

__all__ = [
    "Box", "FieldInfo", "Layer", "image_box_to_cells", "layers_of", "receptive_field",
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
    jump : (int, int)
        Effective stride ``j``: input pixels between neighbouring cells.
    padding : (int, int)
        Effective padding ``P``: cell 0's field starts at pixel ``-P``.
    global_ : bool
        True once a global pool was crossed: every cell sees the whole image.
    """

    size: Pair
    jump: Pair
    padding: Pair
    global_: bool = False

    def center(self, row: float, col: float) -> tuple[float, float]:
        """Input pixel ``(y, x)`` at the centre of cell ``(row, col)``: ``u*j - P + (r-1)/2``.

        Examples
        --------
        >>> FieldInfo(size=(3, 3), jump=(2, 2), padding=(1, 1)).center(0, 2)
        (0.0, 4.0)
        """
        return tuple(  # type: ignore[return-value]
            u * j - p + (r - 1) / 2
            for u, j, p, r in zip((row, col), self.jump, self.padding, self.size, strict=True)
        )

    def block_box(
        self, rows: Pair, cols: Pair, *, image_size: Pair | None = None
    ) -> Box:
        """Union of the fields of the half-open block of cells ``rows x cols``.

        With ``image_size=(H, W)`` the box is clipped to the image (and is the whole
        image when ``global_`` is set).

        Examples
        --------
        >>> FieldInfo(size=(5, 5), jump=(2, 2), padding=(2, 2)).block_box((0, 2), (1, 3))
        Box(top=-2, left=0, bottom=5, right=7)
        """
        (r0, r1), (c0, c1) = rows, cols
        if r1 <= r0 or c1 <= c0:
            raise ValueError(f"cell block must be non-empty, got rows={rows!r}, cols={cols!r}")
        top, bottom = _span(r0, r1, self.size[0], self.jump[0], self.padding[0])
        left, right = _span(c0, c1, self.size[1], self.jump[1], self.padding[1])
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
        >>> FieldInfo(size=(3, 3), jump=(1, 1), padding=(1, 1)).cell_box(0, 0)
        Box(top=-1, left=-1, bottom=2, right=2)
        >>> FieldInfo(size=(3, 3), jump=(1, 1), padding=(1, 1)).cell_box(0, 0, image_size=(8, 8))
        Box(top=0, left=0, bottom=2, right=2)
        """
        return self.block_box((row, row + 1), (col, col + 1), image_size=image_size)

    def stride_box(self, rows: Pair, cols: Pair, *, image_size: Pair | None = None) -> Box:
        """Pixels ``[r0*j, r1*j) x [c0*j, c1*j)`` that the cells "own" at their stride.

        Examples
        --------
        >>> FieldInfo(size=(7, 7), jump=(4, 4), padding=(3, 3)).stride_box((1, 3), (0, 1))
        Box(top=4, left=0, bottom=12, right=4)
        """
        (r0, r1), (c0, c1) = rows, cols
        (jh, jw) = self.jump
        box = Box(r0 * jh, c0 * jw, r1 * jh, c1 * jw)
        return box if image_size is None else box.clip(*image_size)


def _step(field: FieldInfo, layer: Layer) -> FieldInfo:
    """Apply one layer's formulas to the field before it."""
    kh, kw = layer.effective_kernel
    (rh, rw), (jh, jw), (ph, pw) = field.size, field.jump, field.padding
    (sh, sw), (lh, lw) = layer.stride, layer.padding
    return FieldInfo(
        size=(rh + (kh - 1) * jh, rw + (kw - 1) * jw),
        jump=(jh * sh, jw * sw),
        padding=(ph + lh * jh, pw + lw * jw),
        global_=field.global_ or layer.global_pool,
    )


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
    field = FieldInfo(size=(1, 1), jump=(1, 1), padding=(0, 0))
    fields = []
    for layer in layers:
        if not isinstance(layer, Layer):
            raise ValueError(f"layers must be Layer objects, got {layer!r}")
        field = _step(field, layer)
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


def _padding_before(module: nn.Module, input_hw: Pair) -> IntOrPair:
    """Top/left padding of a conv or pooling module for an input of ``input_hw``."""
    same_padding = getattr(module, "same_padding", None)
    if callable(same_padding):
        return tuple(same_padding(input_hw))
    padding = module.padding
    if padding == "valid":
        return 0
    if padding == "same":  # torch puts total // 2 before, the extra after
        kernel, dilation = _pair(module.kernel_size, "kernel", minimum=1), module.dilation
        dilation = _pair(dilation, "dilation", minimum=1)
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))
    return padding


def _widest_bin(size: int, bins: int) -> int:
    """Widest adaptive-pooling window ``ceil((i+1)a/n) - floor(ia/n)`` over the bins."""
    return max(-(-(i + 1) * size // bins) - i * size // bins for i in range(bins))


def _adaptive_layer(name: str, input_hw: Pair, output_hw: Pair) -> Layer:
    """Uniform stand-in for adaptive pooling: exact when sizes divide, else widest bin."""
    kernel = tuple(_widest_bin(i, o) for i, o in zip(input_hw, output_hw, strict=True))
    stride = tuple(max(i // o, 1) for i, o in zip(input_hw, output_hw, strict=True))
    whole = all(o == 1 or i == 1 for i, o in zip(input_hw, output_hw, strict=True))
    return Layer(kernel, stride, 0, 1, name=name, global_pool=whole)


def _conv_or_pool_layer(name: str, module: nn.Module, input_hw: Pair, output_hw: Pair) -> Layer:
    """Layer for a Conv2d, MaxPool2d or AvgPool2d call with these spatial sizes."""
    kernel = _pair(module.kernel_size, "kernel", minimum=1)
    stride = module.stride if module.stride else kernel  # pools: stride None -> kernel
    dilation = getattr(module, "dilation", 1)
    layer = Layer(kernel, stride, _padding_before(module, input_hw), dilation, name=name)
    if hasattr(module, "weight"):  # a convolution is never a global pool
        return layer
    sizes = zip(output_hw, layer.effective_kernel, input_hw, layer.padding, strict=True)
    covers = all(o == 1 and k >= i + p for o, k, i, p in sizes)
    return dataclasses.replace(layer, global_pool=covers)


def _layer_from_call(name: str, module: nn.Module, input_hw: Pair, output_hw: Pair) -> Layer:
    """Translate one recorded forward call into a Layer."""
    from torch import nn

    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return _adaptive_layer(name, input_hw, output_hw)
    if isinstance(module, (nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d)):
        left, _right, top, _bottom = module.padding
        return Layer(1, 1, (top, left), 1, name=name)
    return _conv_or_pool_layer(name, module, input_hw, output_hw)


def _hooked_types() -> tuple[type, ...]:
    from torch import nn

    return (
        nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
        nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d,
    )


def _placement(module: nn.Module) -> tuple[object, object]:
    """Device and floating dtype of the module's first parameter or buffer (CPU float32)."""
    import torch

    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.float32


def layers_of(module: nn.Module, input_shape: Sequence[int]) -> list[Layer]:
    """Record the conv, pooling and padding layers a module calls on one input.

    Runs ``module`` once on zeros of ``input_shape`` (no grad, eval mode, then restores
    each submodule's mode) with forward hooks on every ``nn.Conv2d``, ``nn.MaxPool2d``,
    ``nn.AvgPool2d``, adaptive pool and 2-D padding module, in call order. A module
    with a method ``same_padding(input_hw) -> (pad_top, pad_left)`` (e.g. a TF-"SAME"
    conv that pads inside ``forward``) reports its padding that way; otherwise
    ``module.padding`` is used. Padding modules become 1x1 layers with their top/left
    padding (reflection treated like zeros). Adaptive pools become their widest window
    with stride ``floor(in / out)`` (exact when sizes divide) and ``global_pool=True``
    when each output sees the whole input. Branches and skips are flattened in call
    order, which is exact for single-path chains and for residual blocks whose main
    path carries the largest field.

    Parameters
    ----------
    module : nn.Module
    input_shape : (N, C, H, W)

    Returns
    -------
    list of Layer
        ``Layer.name`` is the module's qualified name inside ``module``.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2))
    >>> [(l.name, l.kernel, l.stride) for l in layers_of(net, (1, 3, 16, 16))]
    [('0', (3, 3), (1, 1)), ('1', (2, 2), (2, 2))]
    """
    import torch

    if len(input_shape) != 4 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (N, C, H, W) of positive ints, got {input_shape!r}")
    recorded: list[Layer] = []

    def hook_for(name: str):
        def hook(mod: nn.Module, inputs: tuple, output: object) -> None:
            out = output[0] if isinstance(output, tuple) else output
            in_hw, out_hw = tuple(inputs[0].shape[-2:]), tuple(out.shape[-2:])
            recorded.append(_layer_from_call(name, mod, in_hw, out_hw))
        return hook

    types = _hooked_types()
    handles = [
        m.register_forward_hook(hook_for(n)) for n, m in module.named_modules()
        if isinstance(m, types)
    ]
    modes = [(m, m.training) for m in module.modules()]
    device, dtype = _placement(module)
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros(tuple(input_shape), device=device, dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
        for m, training in modes:
            m.training = training
    return recorded

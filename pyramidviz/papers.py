"""The numbers the papers state, and every number the app's prose quotes, in one place.

Pure arithmetic (no torch), so the Home page can use it without loading a model. The i18n
tables never type these digits: they hold placeholders (``{fc6}``, ``{sppnet_bins}`` ...)
that :func:`facts` fills, so the prose cannot drift from the code
(``tests/test_i18n.py`` fails on a table that types one of them).

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 37(9), 2015 (arXiv:1406.4729): Fig. 3 (a
   4-2-1 pyramid on 256 conv5 channels), Sec. 2.3 (a 3-2-1 pyramid on a 13 x 13 conv5),
   Sec. 3.1 and 4 (classification and detection use 6-3-2-1, 50 bins; on ZF-5's 256 conv5
   channels a 12,800-d vector feeds fc6 of 4,096 units); 224 x 224 fixed inputs.
.. [2] L.-C. Chen, G. Papandreou, F. Schroff, H. Adam, "Rethinking Atrous Convolution for
   Semantic Image Segmentation", arXiv:1706.05587, 2017 (DeepLab v3), Sec. 3.3: rates
   (6, 12, 18) at output stride 16, doubled at 8; 256 channels per branch; PASCAL VOC's 21
   classes. torchvision's ``DeepLabHead`` (``models/segmentation/deeplabv3.py``): ASPP, a
   3 x 3 conv 256 -> 256 with batch norm and ReLU, then a 1 x 1 classifier with bias
   (the paper itself feeds ASPP's projection straight to "the final 1 x 1 convolution which
   generates the final logits", Sec. 3.3). Fig. 4: the share of valid weights of a 3 x 3
   kernel on a 65 x 65 feature map, against the rate.
.. [3] L.-C. Chen, G. Papandreou, I. Kokkinos, K. Murphy, A. L. Yuille, "DeepLab: Semantic
   Image Segmentation with Deep Convolutional Nets, Atrous Convolution, and Fully Connected
   CRFs", TPAMI 40(4), 2017 (arXiv:1606.00915; DeepLab v2), Sec. 3.1 and Fig. 4: ASPP is
   introduced here, as four parallel 3 x 3 atrous branches at rates 6, 12, 18 and 24
   (ASPP-L, output stride 8) whose outputs are summed.
.. [4] M. Tan, Q. V. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
   Networks", ICML 2019, and the TensorFlow EfficientNet-Lite release
   (tensorflow/tpu, ``models/official/efficientnet/lite/README.md``): Lite0's ImageNet
   top-1 accuracy, 75.1 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from types import MappingProxyType

from pyramidviz.bins import bin_count

FIXED_INPUT = 224
"""Side of the fixed crop or warp classic CNNs need (SPP-net's single-size training)."""
CONV5_CHANNELS = 256
"""Channels of conv5 in SPP-net's networks (ZF-5, Convnet*-5, Overfeat-5/7): Fig. 3's 256."""
FIG3_LEVELS = (4, 2, 1)
"""The pyramid drawn in SPP-net's Fig. 3."""
SPPNET_LEVELS = (6, 3, 2, 1)
"""The pyramid SPP-net's classification and detection networks use (50 bins)."""
EXAMPLE_LEVELS = (3, 2, 1)
"""The pyramid of SPP-net's worked example (Sec. 2.3) ..."""
EXAMPLE_MAP = 13
"""... on a 13 x 13 conv5 map."""
SPPNET_FC6 = 4096
"""Outputs of SPP-net's first fully connected layer (fc6), the layer SPP feeds."""
DEEPLAB_V3_RATES: dict[int, tuple[int, int, int]] = {16: (6, 12, 18), 8: (12, 24, 36)}
"""DeepLab v3's atrous rates per output stride (Sec. 3.3)."""
DEEPLAB_V3_OUTPUT_STRIDE = 16
"""DeepLab v3's default output stride, the one its rates (6, 12, 18) are given for (Sec. 3.3)."""
DEEPLAB_V3_DENSE_OUTPUT_STRIDE = 8
"""DeepLab v3's denser output stride, where its rates double (Sec. 3.3)."""
DEEPLAB_V2_RATES = (6, 12, 18, 24)
"""DeepLab v2's ASPP-L rates, at output stride 8, branches summed (v2, Sec. 3.1, Fig. 4)."""
DEEPLAB_V2_OUTPUT_STRIDE = 8
"""The output stride of DeepLab v2 (v2, Sec. 3.1: the last two poolings no longer subsample)."""
FIG4_MAP = 65
"""Side of the feature map in DeepLab v3's Fig. 4 (valid weights of a 3 x 3 kernel vs rate)."""
LITE0_TOP1 = "75.1"
"""ImageNet top-1 accuracy (%) of EfficientNet-Lite0, as its TensorFlow release reports."""
DEEPLAB_CHANNELS = 256
"""Channels of every ASPP branch, of its projection and of the head's 3 x 3 conv."""
VOC_CLASSES = 21
"""PASCAL VOC 2012's 20 classes plus background: DeepLab v3's classifier outputs."""
LITE0_OUTPUT_STRIDE = 32
"""Output stride of the plain EfficientNet-Lite0 backbone (five stride-2 layers; checked
against :func:`pyramidviz.backbones.tap_info` in ``tests/test_papers.py``)."""
LITE0_LAST_CHANNELS = 320
"""Channels of EfficientNet-Lite0's last stage (stage7), the map this app pools
(``tests/test_papers.py`` checks it against :data:`pyramidviz.backbones.STAGES`)."""


def classifier_parameter_count(channels: int = DEEPLAB_CHANNELS,
                               classes: int = VOC_CLASSES) -> int:
    """Weights and biases of a 1 x 1 classifier ``channels -> classes``.

    Examples
    --------
    >>> classifier_parameter_count()  # 256 * 21 + 21
    5397
    """
    if min(channels, classes) < 1:
        raise ValueError(f"channels and classes must be positive, got {channels!r}, {classes!r}")
    return channels * classes + classes


def deeplab_head_parameter_count(channels: int = DEEPLAB_CHANNELS,
                                 classes: int = VOC_CLASSES) -> int:
    """Trainable parameters after ASPP in torchvision's ``DeepLabHead``.

    A 3 x 3 conv ``channels -> channels`` without bias, batch norm (scale and shift), ReLU,
    and the 1 x 1 classifier with bias: ``9 O^2 + 2 O + O K + K``.

    Examples
    --------
    >>> deeplab_head_parameter_count()  # 589,824 + 512 + 5,397
    595733

    References
    ----------
    torchvision ``DeepLabHead(in_channels, num_classes)``: ``ASPP(in_channels, [12, 24,
    36])``, ``Conv2d(256, 256, 3, padding=1, bias=False)``, ``BatchNorm2d(256)``, ``ReLU``,
    ``Conv2d(256, num_classes, 1)``.
    """
    if min(channels, classes) < 1:
        raise ValueError(f"channels and classes must be positive, got {channels!r}, {classes!r}")
    return 9 * channels * channels + 2 * channels + classifier_parameter_count(channels,
                                                                               classes)


def _dashes(levels: Sequence[int]) -> str:
    return "-".join(map(str, levels))


def _commas(values: Sequence[int]) -> str:
    return ", ".join(map(str, values))


@cache
def facts() -> MappingProxyType:
    """Every number the prose quotes, by the placeholder name the i18n tables use.

    Returns
    -------
    Mapping of str to int or str
        Read-only. Integers are formatted by the strings (``{sppnet_len:,}``); pyramids
        and rate lists are ready-made text (``"6-3-2-1"``, ``"6, 12, 18"``).

    Examples
    --------
    >>> f = facts()
    >>> f["sppnet_levels"], f["sppnet_bins"], f["sppnet_len"], f["fc6"]
    ('6-3-2-1', 50, 12800, 4096)
    >>> f["fig3_len"], f["app_len"], f["head_params"]
    (5376, 6720, 595733)
    """
    return MappingProxyType({
        "fixed": FIXED_INPUT,
        "conv5_c": CONV5_CHANNELS,
        "fig3_levels": _dashes(FIG3_LEVELS),
        "fig3_bins": bin_count(FIG3_LEVELS),
        "fig3_len": CONV5_CHANNELS * bin_count(FIG3_LEVELS),
        "sppnet_levels": _dashes(SPPNET_LEVELS),
        "sppnet_bins": bin_count(SPPNET_LEVELS),
        "sppnet_len": CONV5_CHANNELS * bin_count(SPPNET_LEVELS),
        "example_levels": _dashes(EXAMPLE_LEVELS),
        "example_map": EXAMPLE_MAP,
        "fc6": SPPNET_FC6,
        "app_c": LITE0_LAST_CHANNELS,
        "app_len": LITE0_LAST_CHANNELS * bin_count(FIG3_LEVELS),
        "v3_rates16": _commas(DEEPLAB_V3_RATES[16]),
        "v3_rates8": _commas(DEEPLAB_V3_RATES[8]),
        "v3_os": DEEPLAB_V3_OUTPUT_STRIDE,
        "v3_os_dense": DEEPLAB_V3_DENSE_OUTPUT_STRIDE,
        "lite0_os": LITE0_OUTPUT_STRIDE,
        "v2_rates": _commas(DEEPLAB_V2_RATES),
        "v2_os": DEEPLAB_V2_OUTPUT_STRIDE,
        "fig4_map": FIG4_MAP,
        "lite0_top1": LITE0_TOP1,
        "aspp_c": DEEPLAB_CHANNELS,
        "classes": VOC_CLASSES,
        "classifier_params": classifier_parameter_count(),
        "head_params": deeplab_head_parameter_count(),
    })

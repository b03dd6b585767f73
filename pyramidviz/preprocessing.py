"""Photo -> network input: 8-bit RGB arrays and EfficientNet-Lite's input scaling.

One small module that both :mod:`pyramidviz.backbones` (feature maps) and
:mod:`pyramidviz.imagenet` (classification) use, so neither imports the other for it.

References
----------
.. [1] M. Tan, Q. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
   Networks", ICML 2019; the Lite variants scale inputs as ``(x - 127) / 128``
   (tensorflow/tpu, models/official/efficientnet/lite).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import Tensor

__all__ = ["image_features", "preprocess", "rgb_array"]


def rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 array from a PIL image or a uint8 array (gray, RGB or RGBA).

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray of uint8, shape (H, W) or (H, W, 1 | 3 | 4)
        Gray is repeated to 3 channels, an alpha channel dropped.

    Returns
    -------
    np.ndarray of uint8, shape (H, W, 3)
        A view of ``image`` where possible (not necessarily writable).

    Raises
    ------
    ValueError
        For anything else, or an image with no pixels.

    Examples
    --------
    >>> rgb_array(np.full((2, 3), 7, np.uint8)).shape
    (2, 3, 3)
    """
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError(f"image must be a PIL image or a uint8 array, got {image!r:.80}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or min(image.shape[:2]) < 1:
        raise ValueError(f"image array must be (H, W), (H, W, 1|3|4), got {image.shape!r}")
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3]


def preprocess(image: Image.Image | np.ndarray) -> Tensor:
    """Network input ``(x - 127) / 128`` from a PIL image or uint8 array.

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray of uint8, shape (H, W) or (H, W, C)
        Gray images are repeated to 3 channels; an alpha channel is dropped.

    Returns
    -------
    Tensor, shape (1, 3, H, W), float32
        Values in [-0.992, 1.0], the TensorFlow EfficientNet-Lite scaling.

    Examples
    --------
    >>> preprocess(np.full((2, 3), 255, np.uint8))[0, :, 0, 0].tolist()
    [1.0, 1.0, 1.0]
    """
    array = rgb_array(image)
    x = torch.from_numpy(np.array(array)).permute(2, 0, 1).float()
    return ((x - 127.0) / 128.0).unsqueeze(0)


def image_features(image: Image.Image | np.ndarray) -> Tensor:
    """The photo itself as a 3-channel "feature map" in [0, 1] (stride 1, field 1 pixel).

    Examples
    --------
    >>> image_features(np.zeros((4, 5, 3), np.uint8)).shape
    torch.Size([1, 3, 4, 5])
    """
    array = rgb_array(image)
    return torch.from_numpy(np.array(array)).permute(2, 0, 1).float().div(255)[None]

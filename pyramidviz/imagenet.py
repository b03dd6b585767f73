"""ImageNet classification with the backbone: evaluation crop, class names, top-k.

The backbone's own job in pyramidviz is feature maps (:mod:`pyramidviz.backbones`);
this module checks that those features are the real, trained ones by naming what
the network sees.

References
----------
.. [1] O. Russakovsky et al., "ImageNet Large Scale Visual Recognition Challenge",
   IJCV 2015 (the 1000 ILSVRC-2012 classes, in PyTorch's index order).
.. [2] M. Tan, Q. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
   Networks", ICML 2019 (evaluation: resize, centre crop 224).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from pyramidviz.backbones import EfficientNetLite0
from pyramidviz.preprocessing import preprocess, rgb_array
from pyramidviz.samples import DATA_DIR

__all__ = ["Prediction", "class_names", "classify", "eval_transform"]


@dataclass(frozen=True)
class Prediction:
    """One ImageNet class with its softmax probability."""

    index: int
    name: str
    probability: float


@functools.lru_cache(maxsize=1)
def class_names() -> tuple[str, ...]:
    """The 1000 ImageNet class names in PyTorch's index order (``data/imagenet_classes.tsv``).

    Examples
    --------
    >>> len(class_names()), class_names()[967]
    (1000, 'espresso')
    """
    lines = (DATA_DIR / "imagenet_classes.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return tuple(line.split("\t", 1)[1] for line in lines if line.strip())


def eval_transform(image: Image.Image | np.ndarray, *, size: int = 224) -> Image.Image:
    """ImageNet evaluation crop: resize the short side to ``size`` (bicubic), centre crop.

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray of uint8
        Anything :func:`pyramidviz.preprocessing.rgb_array` accepts.
    size : int
        Side of the square crop, at least 1.

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGB"``, ``size`` x ``size``.

    Raises
    ------
    ValueError
        For a bad image or ``size``.

    Examples
    --------
    >>> eval_transform(np.zeros((400, 600, 3), np.uint8)).size
    (224, 224)
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    pil = Image.fromarray(rgb_array(image))
    width, height = pil.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    pil = pil.resize((new_w, new_h), Image.Resampling.BICUBIC)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return pil.crop((left, top, left + size, top + size))


def classify(model: EfficientNetLite0, image: Image.Image | np.ndarray, *, topk: int = 5
             ) -> list[Prediction]:
    """Top-``k`` ImageNet classes of ``image`` after :func:`eval_transform`.

    Parameters
    ----------
    model : EfficientNetLite0
        At any output stride (the classifier pools the head globally).
    image : PIL.Image.Image or np.ndarray of uint8
    topk : int
        Number of classes, 1 to 1000.

    Returns
    -------
    list of Prediction
        Highest probability first.

    Raises
    ------
    ValueError
        For a bad ``topk`` or image.

    Examples
    --------
    >>> from pyramidviz.backbones import load_backbone
    >>> cat = Image.open(DATA_DIR / "samples" / "chelsea.png")
    >>> classify(load_backbone(device="cpu"), cat, topk=1)[0].index in (281, 282, 285)
    True
    """
    if isinstance(topk, bool) or not isinstance(topk, int) or not 1 <= topk <= 1000:
        raise ValueError(f"topk must be an int in [1, 1000], got {topk!r}")
    x = preprocess(eval_transform(image)).to(next(model.parameters()).device)
    with torch.inference_mode():
        probabilities = model(x).softmax(dim=1)[0].float().cpu()
    values, indices = probabilities.topk(topk)
    names = class_names()
    pairs = zip(values.tolist(), indices.tolist(), strict=True)
    return [Prediction(i, names[i], v) for v, i in pairs]

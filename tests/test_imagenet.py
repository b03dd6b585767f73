"""Tests for pyramidviz.imagenet: evaluation crop, class names, top-k on real photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pyramidviz import backbones as B
from pyramidviz import imagenet
from pyramidviz.samples import DATA_DIR

SAMPLES = DATA_DIR / "samples"
CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def models() -> dict[int, B.EfficientNetLite0]:
    return {os_: B.load_backbone(output_stride=os_, device="cpu") for os_ in (32, 16, 8)}


def test_cat_and_espresso_are_recognised(models) -> None:
    cat = Image.open(SAMPLES / "chelsea.png")
    top = imagenet.classify(models[32], cat, topk=5)
    assert top[0].index in CATS and top[0].name in {"tabby", "tiger cat", "Egyptian cat"}
    assert sum(p.probability for p in top if p.index in CATS) > 0.8
    espresso = imagenet.classify(models[32], Image.open(SAMPLES / "coffee.png"), topk=1)[0]
    assert (espresso.index, espresso.name) == (967, "espresso")
    assert espresso.probability == pytest.approx(0.94, abs=0.01)  # REFERENCE.md


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png", "camera.png", "rocket.jpg"])
def test_top1_unchanged_at_output_stride_16_and_8(models, name) -> None:
    image = Image.open(SAMPLES / name)
    tops = {os_: imagenet.classify(model, image, topk=1)[0].index for os_, model in models.items()}
    assert tops[16] == tops[32] and tops[8] == tops[32]


def test_eval_transform_resizes_short_side_and_centre_crops() -> None:
    image = np.zeros((300, 600, 3), np.uint8)
    image[:, :150] = (255, 0, 0)  # the left and right quarters fall outside the crop
    image[:, 450:] = (0, 0, 255)
    image[:, 150:450] = (0, 255, 0)
    crop = np.asarray(imagenet.eval_transform(image))
    assert crop.shape == (224, 224, 3)
    assert (crop[:, 2:-2, 1] == 255).all() and (crop[:, 2:-2, [0, 2]] == 0).all()
    same = np.random.default_rng(0).integers(0, 256, (224, 224, 3), np.uint8)
    assert np.array_equal(np.asarray(imagenet.eval_transform(same)), same)


def test_class_names_follow_pytorch_order() -> None:
    names = imagenet.class_names()
    assert len(names) == 1000
    assert (names[0], names[281], names[285], names[967]) == (
        "tench", "tabby", "Egyptian cat", "espresso")


def test_bad_arguments_are_rejected(models) -> None:
    image = np.zeros((8, 8, 3), np.uint8)
    for topk in (0, 1001, True, 2.0):
        with pytest.raises(ValueError, match="topk"):
            imagenet.classify(models[32], image, topk=topk)
    for size in (0, -3, True, 224.0):
        with pytest.raises(ValueError, match="size"):
            imagenet.eval_transform(image, size=size)
    with pytest.raises(ValueError, match="image"):
        imagenet.classify(models[32], np.zeros((8, 8, 2), np.uint8))
    assert len(imagenet.classify(models[32], image, topk=1000)) == 1000

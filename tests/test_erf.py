"""Tests for pyramidviz.erf: effective receptive fields of a cell and of ASPP branches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from torch import nn

from pyramidviz import aspp, backbones, preprocessing, samples
from pyramidviz import erf as E
from pyramidviz.receptive import Box


@pytest.fixture(scope="module")
def model() -> backbones.EfficientNetLite0:
    return backbones.load_backbone(output_stride=16, device="cpu")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    path = samples.sample_path("astronaut")
    return np.asarray(Image.open(path).convert("RGB"))


def _support(erf_map: E.ERFMap) -> Box:
    rows, cols = np.nonzero(erf_map.map)
    return Box(int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)


def _inside(inner: Box, outer: Box) -> bool:
    return (outer.top <= inner.top and outer.left <= inner.left
            and inner.bottom <= outer.bottom and inner.right <= outer.right)


@settings(max_examples=30, deadline=None)
@given(rate=st.integers(1, 6), kernel=st.sampled_from([1, 3, 5, 7]), row=st.integers(0, 20),
       col=st.integers(0, 20))
def test_single_atrous_conv_erf_is_its_k_by_k_taps(rate, kernel, row, col) -> None:
    half = kernel // 2
    conv = nn.Conv2d(1, 1, kernel, padding=rate * half, dilation=rate, bias=False)
    conv.requires_grad_(False).weight.copy_(
        torch.arange(1.0, kernel * kernel + 1).view(1, 1, kernel, kernel))
    result = E.effective_receptive_field(conv, torch.ones(1, 1, 21, 21), point=(row, col))
    taps = {(row + dy * rate, col + dx * rate): 1.0 + kernel * (dy + half) + dx + half
            for dy in range(-half, half + 1) for dx in range(-half, half + 1)}
    inside = {p: w for p, w in taps.items() if 0 <= p[0] < 21 and 0 <= p[1] < 21}
    erf = result.backbone
    assert set(zip(*np.nonzero(erf.map), strict=True)) == set(inside)
    assert erf.mass == pytest.approx(sum(inside.values()))
    for (r, c), weight in inside.items():  # |d y / d x| is the kernel weight itself
        assert erf.map[r, c] == pytest.approx(weight / max(inside.values()))
    assert erf.center == (row, col)
    reach = rate * half
    assert erf.theoretical == Box(row - reach, col - reach, row + reach + 1,
                                  col + reach + 1).clip(21, 21)


@pytest.mark.parametrize(("kernel", "taps"), [(1, 1), (3, 9), (5, 25), (7, 49)])
def test_rate_branch_of_a_k_by_k_kernel_on_an_identity_net_hits_k_squared_pixels(kernel, taps):
    """Through an identity "backbone" the rate-r branch's ERF is exactly its k*k taps."""
    identity = nn.Identity()
    result = E.effective_receptive_field(identity, torch.ones(1, 1, 40, 40), point=(20, 20),
                                         rates=(3,), kernel=kernel)
    branch = result.branches["rate 3"]
    assert int((branch.map > 0).sum()) == taps
    rows, cols = np.nonzero(branch.map)
    half = 3 * (kernel // 2)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (20 - half, 20 + half,
                                                                20 - half, 20 + half)
    assert set(np.unique(rows - 20)) == set(range(-half, half + 1, 3))


def test_branch_seeds_hand_case() -> None:
    seeds = E.branch_seeds((5, 7), (1, 1), rates=(1, 2, 9))
    assert list(seeds) == ["1x1", "rate 1", "rate 2", "rate 9", "image pool"]
    assert np.argwhere(seeds["1x1"]).tolist() == [[1, 1]]
    assert np.allclose(seeds["rate 1"][:3, :3], 1 / 9) and seeds["rate 1"].sum() == 1
    # rate 2 from (1, 1): rows -1, 1, 3 and cols -1, 1, 3 -> 2 x 2 taps inside.
    assert np.argwhere(seeds["rate 2"]).tolist() == [[1, 1], [1, 3], [3, 1], [3, 3]]
    assert np.allclose(seeds["rate 2"][seeds["rate 2"] > 0], 0.25)
    # A rate larger than the map leaves only the centre tap: the 3x3 degenerates to 1x1.
    assert np.array_equal(seeds["rate 9"], seeds["1x1"])
    assert np.allclose(seeds["image pool"], 1 / 35)


@pytest.mark.parametrize("rates", [(1, 3), (6, 12, 18), (2, 5)])
@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_seeds_are_the_gradients_of_the_aspp_branch_previews(rates, kernel) -> None:
    features = torch.randn(1, 4, 9, 11, requires_grad=True)
    point = (2, 7)
    previews = aspp.branch_previews(features, rates, kernel=kernel)
    seeds = E.branch_seeds((9, 11), point, rates, kernel=kernel)
    assert list(seeds) == list(previews)
    for name, preview in previews.items():
        (grad,) = torch.autograd.grad(preview[0, :, point[0], point[1]].sum(), features)
        for channel in range(4):
            np.testing.assert_allclose(grad[0, channel].numpy(), seeds[name], atol=1e-6)


def test_branches_with_the_same_seed_share_one_backward(monkeypatch) -> None:
    calls = []
    real = E.input_gradients

    def spy(forward, x, seeds, **kw):
        calls.append(len(seeds))
        return real(forward, x, seeds, **kw)

    monkeypatch.setattr(E, "input_gradients", spy)
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    result = E.effective_receptive_field(conv, torch.ones(1, 1, 12, 12), point=(6, 6),
                                         rates=(2, 7, 9))
    assert calls == [3]  # 1x1 (= rate 7 = rate 9: only the centre tap on the map), rate 2, pool
    one = result.branches["1x1"]
    assert result.branches["rate 7"] is one and result.branches["rate 9"] is one
    assert result.branches["rate 2"] is not one
    np.testing.assert_array_equal(result.branches["rate 2"].map, E.effective_receptive_field(
        conv, torch.ones(1, 1, 12, 12), point=(6, 6), rates=(2,)).branches["rate 2"].map)


def test_bad_points_and_rates_are_rejected() -> None:
    with pytest.raises(ValueError, match="point"):
        E.branch_seeds((4, 4), (4, 0))
    for rates in [(0,), (2, 2), (1.5,), (True,)]:
        with pytest.raises(ValueError, match="rates"):
            E.branch_seeds((4, 4), (0, 0), rates)
    with pytest.raises(ValueError, match="kernel"):
        E.branch_seeds((4, 4), (0, 0), (1,), kernel=4)
    with pytest.raises(ValueError, match="shape"):
        E.effective_receptive_field(nn.Conv2d(3, 3, 1), torch.zeros(3, 8, 8))


def test_erf_map_summary_hand_case() -> None:
    grad = np.zeros((9, 9), np.float32)
    grad[4, 4], grad[4, 6], grad[1, 4] = 6.0, 3.0, 1.0
    summary = E.erf_map(grad, (4.0, 4.0), Box(0, 0, 9, 9))
    assert summary.mass == 10.0 and summary.map.max() == 1.0 and summary.map[4, 6] == 0.5
    assert summary.centroid == pytest.approx((3.7, 4.6))
    assert (summary.r50, summary.r90) == (0.0, 2.0)  # 60 % at the centre, 90 % within 2 px
    empty = E.erf_map(np.zeros((3, 3), np.float32), (1.0, 1.0), Box(0, 0, 3, 3))
    assert empty.mass == 0.0 and np.isnan(empty.r50)


def test_batched_backward_equals_a_per_branch_loop(model, astronaut) -> None:
    x = preprocessing.preprocess(astronaut[:160, :192])
    seeds = torch.from_numpy(np.stack(list(E.branch_seeds((10, 12), (4, 5), (2, 4)).values())))

    def forward(inp):
        return model.features(inp, ("stage7",))["stage7"]

    looped = E.input_gradients(forward, x, seeds, batched=False)
    batched = E.input_gradients(forward, x, seeds, batched=True)
    torch.testing.assert_close(batched, looped)
    for seed, grad in zip(seeds, looped, strict=True):  # one backward per branch, alone
        alone = E.input_gradients(forward, x, seed[None])[0]
        torch.testing.assert_close(grad, alone)


@pytest.fixture(scope="module")
def branch_result(model, astronaut) -> E.ERFResult:
    return E.effective_receptive_field(model, astronaut, tap="stage7", point=(2, 3),
                                       rates=(2, 4, 12))


def test_every_branch_lies_within_its_theoretical_box(branch_result) -> None:
    assert list(branch_result.branches) == ["1x1", "rate 2", "rate 4", "rate 12", "image pool"]
    for erf in branch_result.branches.values():
        assert erf.mass > 0 and erf.map.max() == 1.0 and erf.map.dtype == np.float32
        assert _inside(_support(erf), erf.theoretical)
        assert 0 <= erf.r50 <= erf.r90 <= np.hypot(*branch_result.image_size)


def test_theoretical_boxes_of_the_branches(branch_result) -> None:
    field, (row, col) = branch_result.field, branch_result.point
    assert branch_result.feature_size == (32, 32) and field.stride == (16, 16)
    one = branch_result.branches["1x1"].theoretical
    assert one == field.cell_box(row, col, image_size=(512, 512))
    assert one.bottom < 512 and one.right < 512  # a real constraint on a 512 x 512 image
    # rate 2: all nine taps inside -> the field grows by r * jump on each side.
    grown = field.cell_box(row, col)
    assert branch_result.branches["rate 2"].theoretical == Box(
        grown.top - 32, grown.left - 32, grown.bottom + 32, grown.right + 32).clip(512, 512)
    assert branch_result.branches["image pool"].theoretical == Box(0, 0, 512, 512)
    assert branch_result.backbone.center == field.center(row, col)


def test_backbone_erf_stays_inside_the_851_pixel_field(model, astronaut) -> None:
    result = E.effective_receptive_field(model, astronaut, point=(0, 0))
    box = result.backbone.theoretical
    assert result.field.size == (851, 851)
    assert box.height < 512 and _inside(_support(result.backbone), box)
    # Luo et al.: the effective field is much smaller than the theoretical one.
    assert result.backbone.r50 < 851 / 4


def test_erf_of_the_image_pool_spreads_wider_than_one_cell(branch_result) -> None:
    one, pool = branch_result.branches["1x1"], branch_result.branches["image pool"]
    assert _support(pool) == Box(0, 0, 512, 512)
    assert (pool.map > 0).sum() > (one.map > 0).sum()


def test_erf_works_inside_inference_mode_and_no_grad(model) -> None:
    image = np.random.default_rng(0).integers(0, 256, (96, 128, 3), np.uint8)
    free = E.effective_receptive_field(model, image, rates=(1, 2))
    with torch.inference_mode():
        inside = E.effective_receptive_field(model, image, rates=(1, 2))
    with torch.no_grad():
        tensor = E.effective_receptive_field(model, preprocessing.preprocess(image), rates=(1, 2))
    for name, erf in free.branches.items():
        np.testing.assert_array_equal(inside.branches[name].map, erf.map)
        np.testing.assert_array_equal(tensor.branches[name].map, erf.map)


# ---------------------------------------------------------------- averaged ERF

def _uniform_stack(n: int) -> nn.Sequential:
    convs = [nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(n)]
    for conv in convs:
        nn.init.constant_(conv.weight, 1 / 9)
    return nn.Sequential(*convs).requires_grad_(False)


@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_averaged_erf_of_n_uniform_3x3_convs_has_std_sqrt_2n_over_3(n: int) -> None:
    """A uniform 3-tap kernel has variance 2/3 per axis; n of them add up (Luo et al. Sec. 2)."""
    size = 2 * n + 9  # the field (2n + 1) stays inside: no border effect
    x = torch.randn(4, 1, size, size)
    result = E.effective_receptive_field(_uniform_stack(n), x)
    grad = result.backbone.map.astype(np.float64)
    ys, xs = np.indices(grad.shape)
    cy, cx = result.backbone.center
    std_y = np.sqrt((grad * (ys - cy) ** 2).sum() / grad.sum())
    std_x = np.sqrt((grad * (xs - cx) ** 2).sum() / grad.sum())
    assert result.inputs == 4
    assert std_y == pytest.approx(np.sqrt(2 * n / 3), rel=1e-4)
    assert std_x == pytest.approx(np.sqrt(2 * n / 3), rel=1e-4)


def test_averaged_erf_is_the_mean_of_the_single_photo_erfs(astronaut) -> None:
    photos = [astronaut[:96, :128], astronaut[100:196, 200:328], astronaut[300:396, :128]]
    model = backbones.load_backbone(output_stride=16)
    averaged = E.averaged_effective_receptive_field(model, photos, tap="stage4", point=(3, 4),
                                                    rates=(2,))
    singles = [E.effective_receptive_field(model, p, tap="stage4", point=(3, 4), rates=(2,))
               for p in photos]
    assert averaged.inputs == 3
    for name, branch in averaged.branches.items():
        mean = np.mean([s.branches[name].map * s.branches[name].peak for s in singles], axis=0)
        np.testing.assert_allclose(branch.map * branch.peak, mean, rtol=1e-4, atol=1e-9)


def test_erf_inputs_are_the_photo_its_mirror_and_the_samples(astronaut) -> None:
    photo = astronaut[:90, :150]
    inputs = E.erf_inputs(photo)
    assert len(inputs) == 2 + 5 and {x.shape for x in inputs} == {(90, 150, 3)}
    np.testing.assert_array_equal(inputs[1], photo[:, ::-1])
    assert len(E.erf_inputs(photo, samples=False)) == 2
    with pytest.raises(ValueError, match="one shape"):
        E.averaged_effective_receptive_field(nn.Conv2d(3, 1, 3), [photo, astronaut])


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 12), st.integers(3, 12), st.integers(0, 2**32 - 1))
def test_common_scale_keeps_the_ratio_of_total_masses(h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    grads = {name: rng.random((h, w)) * rng.uniform(0.1, 10) for name in ("a", "b", "c")}
    maps = {name: E.erf_map(g, (h / 2, w / 2), Box(0, 0, h, w)) for name, g in grads.items()}
    scaled = E.common_scale(maps)
    assert max(float(m.max()) for m in scaled.values()) == pytest.approx(1.0)
    for a, b in (("a", "b"), ("b", "c")):
        ratio = grads[a].sum() / grads[b].sum()
        assert scaled[a].sum() / scaled[b].sum() == pytest.approx(ratio, rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 30), st.integers(2, 30), st.integers(0, 2**32 - 1))
def test_radial_profiles_are_monotone_and_reach_one(h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    grad = rng.random((h, w)) * (rng.random((h, w)) > 0.5)
    center = (rng.uniform(0, h - 1), rng.uniform(0, w - 1))
    radii = np.linspace(0, np.hypot(h, w), 50)
    profile = E.mass_within(grad, center, radii)
    assert np.all(np.diff(profile) >= -1e-12) and profile[0] >= 0
    if grad.sum() > 0:
        assert profile[-1] == pytest.approx(1.0)
        m = E.erf_map(grad, center, Box(0, 0, h, w))  # r50: the first radius holding half
        assert E.mass_within(grad, center, [m.r50])[0] >= 0.5 - 1e-9


def _unpacked(forward, x: torch.Tensor, seeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The plain way: one backward per branch seed, no packing."""
    grads = E.input_gradients(forward, x, torch.from_numpy(np.stack(list(seeds.values()))))
    return dict(zip(seeds, grads.numpy(), strict=True))


def _small_net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, 2, 1), nn.ReLU(),
                        nn.Conv2d(4, 4, 3, padding=2, dilation=2))
    return net.eval().requires_grad_(False)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(16, 90), w=st.integers(16, 90), rates=st.sets(st.integers(1, 7), max_size=3),
       where=st.tuples(st.floats(0, 0.999), st.floats(0, 0.999)), seed=st.integers(0, 2**31))
def test_packed_backward_passes_give_the_plain_gradients(h, w, rates, where, seed) -> None:
    """Parts with disjoint fields share a backward pass, and nothing changes."""
    net = _small_net()
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(seed))
    fh, fw = net(x[:1]).shape[-2:]
    point = (int(where[0] * fh), int(where[1] * fw))
    result = E.effective_receptive_field(net, x, point=point, rates=sorted(rates))
    seeds = E.branch_seeds((fh, fw), point, sorted(rates))
    plain = _unpacked(net, x, seeds)
    passes, _ = E.packed_seeds(seeds, result.field, (h, w))
    assert len(passes) <= len({s.tobytes() for s in seeds.values()})
    for name, grad in plain.items():
        branch = result.branches[name]
        np.testing.assert_allclose(branch.map * branch.peak, grad, rtol=1e-5, atol=1e-7)
        assert branch.mass == pytest.approx(float(grad.sum(dtype=np.float64)), rel=1e-5)


def test_packing_splits_only_taps_whose_fields_are_apart(model) -> None:
    field = backbones.tap_info(model, "stage4", (512, 512)).field
    seeds = E.branch_seeds((32, 32), (16, 16), rates=(6, 12, 18))
    passes, recipe = E.packed_seeds(seeds, field, (512, 512))
    assert field.size == (147, 147) and field.stride == (16, 16)
    # rate 6's taps are 96 px apart (< 147 px): one part; rate 12's 192 px: a part per tap;
    # rate 18's outer taps fall off the 32 x 32 map, leaving the centre (the 1x1 seed)
    assert [len(recipe[name]) for name in seeds] == [1, 1, 9, 1, 1]
    assert len(passes) == 3  # image pool | rate 6 | the centre and rate 12's outer taps
    assert passes.sum() == pytest.approx(1 + 1 + 9)
    weights = [weight for _, _, weight in recipe["rate 12"]]
    assert weights == pytest.approx([1 / 9] * 9)
    assert len({index for index, _, _ in recipe["rate 12"]}) == 1
    off_centre = E.branch_seeds((32, 32), (5, 20), rates=(6, 12, 18))  # 18's taps on the map
    passes, recipe = E.packed_seeds(off_centre, field, (512, 512))
    assert len(recipe["rate 18"]) == 4 and len(passes) < 5  # 4 of 9 taps on the map


@pytest.mark.parametrize("size", [(512, 512), (333, 401)])
def test_packed_backbone_gradients_equal_the_plain_ones(model, astronaut, size) -> None:
    photo = np.asarray(Image.fromarray(astronaut).resize(size[::-1]))
    x = preprocessing.preprocess(photo)
    result = E.effective_receptive_field(model, x, tap="stage4", rates=(6, 12, 18))
    seeds = E.branch_seeds(result.feature_size, result.point, (6, 12, 18))
    plain = _unpacked(lambda inp: model.features(inp, ("stage4",))["stage4"], x, seeds)
    for name, grad in plain.items():
        branch = result.branches[name]
        np.testing.assert_allclose(branch.map * branch.peak, grad, rtol=1e-4,
                                   atol=1e-6 * float(grad.max()))


def test_erf_inputs_skip_the_photos_own_sample(astronaut) -> None:
    assert len(E.erf_inputs(astronaut, skip=("astronaut",))) == E.ERF_INPUTS - 1
    with pytest.raises(ValueError, match="unknown samples"):
        E.erf_inputs(astronaut, skip=("nope",))


# ---------------------------------------------------------------- the aligned crop

@pytest.fixture(scope="module")
def os8() -> backbones.EfficientNetLite0:
    return backbones.load_backbone(output_stride=8, device="cpu")


def _gradients(result: E.ERFResult) -> dict[str, np.ndarray]:
    return {name: m.map * np.float32(m.peak) for name, m in result.branches.items()}


def _cropped_equals_whole(model, image: np.ndarray, tap: str, point: tuple[int, int],
                          rates: tuple[int, ...]) -> Box:
    """The cropped route's branches equal the whole image's; returns the crop."""
    cropped = E.effective_receptive_field(model, image, tap=tap, point=point, rates=rates)
    whole = E.effective_receptive_field(model, image, tap=tap, point=point, rates=rates,
                                        crop=False)
    (H, W), crop, (sh, sw) = image.shape[:2], cropped.crop, cropped.field.stride
    assert whole.crop == Box(0, 0, H, W)
    assert 0 <= crop.top < crop.bottom <= H and 0 <= crop.left < crop.right <= W
    assert crop.top % sh == crop.left % sw == (H - crop.bottom) % sh == (W - crop.right) % sw == 0
    for name, branch in cropped.branches.items():
        if name != "image pool":  # every other branch's field lies in the crop
            assert _inside(branch.theoretical, crop)
    expected = _gradients(whole)
    for name, grad in _gradients(cropped).items():
        np.testing.assert_allclose(grad, expected[name], rtol=1e-5,
                                   atol=1e-5 * float(expected[name].max()), err_msg=name)
        assert cropped.branches[name].mass == pytest.approx(whole.branches[name].mass, rel=1e-5)
        assert cropped.branches[name].centroid == pytest.approx(whole.branches[name].centroid)
    return crop


def _cell(draw, size: int) -> int:
    """A row or column of a map of ``size`` cells, often at a border."""
    return draw(st.one_of(st.sampled_from([0, 1, size - 2, size - 1]),
                          st.integers(0, size - 1))) % size


@settings(max_examples=10, deadline=None)
@given(data=st.data(), os_=st.sampled_from([16, 8]), h=st.integers(17, 96),
       w=st.integers(150, 460), rates=st.sets(st.sampled_from([1, 2, 3, 6]), max_size=2),
       seed=st.integers(0, 2**31))
def test_stage4_on_the_aligned_crop_equals_the_whole_photo(model, os8, data, os_, h, w, rates,
                                                           seed) -> None:
    """Sizes not a multiple of the stride, cells at the borders: the same gradients."""
    net = model if os_ == 16 else os8
    image = np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)
    fh, fw = backbones.tap_info(net, "stage4", (h, w)).feature_size
    point = (_cell(data.draw, fh), _cell(data.draw, fw))
    _cropped_equals_whole(net, image, "stage4", point, tuple(sorted(rates)))


@settings(max_examples=6, deadline=None)
@given(data=st.data(), os_=st.sampled_from([16, 8]), h=st.integers(17, 40),
       w=st.integers(860, 1100), rates=st.sets(st.sampled_from([1, 2, 3]), max_size=1),
       seed=st.integers(0, 2**31))
def test_stage7_on_the_aligned_crop_equals_the_whole_photo(model, os8, data, os_, h, w, rates,
                                                           seed) -> None:
    """Stage7's 851 px field: a crop only along a side longer than that (a thin strip)."""
    net = model if os_ == 16 else os8
    image = np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)
    fh, fw = backbones.tap_info(net, "stage7", (h, w)).feature_size
    point = (_cell(data.draw, fh), _cell(data.draw, fw))
    _cropped_equals_whole(net, image, "stage7", point, tuple(sorted(rates)))


@pytest.mark.parametrize(("tap", "size", "point"), [("stage4", (300, 333), (3, 17)),
                                                    ("stage7", (40, 1000), (2, 60))])
def test_a_crop_smaller_than_the_photo_gives_the_same_field(model, tap, size, point) -> None:
    image = np.random.default_rng(1).integers(0, 256, (*size, 3), np.uint8)
    crop = _cropped_equals_whole(model, image, tap, point, (2,))
    assert crop.height * crop.width < size[0] * size[1] * 0.8  # a real crop


@settings(max_examples=200, deadline=None)
@given(h=st.integers(1, 2000), stride=st.sampled_from([1, 2, 8, 16, 32]),
       lo=st.integers(-900, 2000), span=st.integers(1, 900))
def test_aligned_crop_is_the_smallest_aligned_window_holding_the_box(h, stride, lo, span):
    box = Box(lo, 0, lo + span, 1).clip(h, 1)
    if box.height == 0:
        return
    crop = aligned_crop = E.aligned_crop(box, (h, 1), (stride, 1))
    assert crop.top % stride == 0 and (h - crop.bottom) % stride == 0
    assert crop.top <= box.top and box.bottom <= crop.bottom <= h
    assert crop.top + stride > box.top  # no smaller start,
    assert crop.bottom == h or crop.bottom - stride < box.bottom  # no smaller end
    assert aligned_crop.left == 0 and aligned_crop.right == 1


def test_the_stride_chain_pads_the_crop_as_it_pads_the_photo() -> None:
    """The condition, from the layers themselves: a length ``H - m S`` gets every layer's
    TF "SAME" padding that ``H`` gets; ``H - S / 2`` does not."""
    def paddings(os_: int, tap: str, size: int) -> list:
        return [layer.padding for layer in backbones.backbone_layers(os_, tap, (size, size))]

    for os_, tap in ((16, "stage4"), (16, "stage7"), (8, "stage7"), (8, "stage4")):
        for H in (61, 300, 1224):
            S = backbones.tap_info(os_, tap, (H, H)).stride
            full = paddings(os_, tap, H)
            for m in range(1, H // S):
                assert paddings(os_, tap, H - m * S) == full
            assert paddings(os_, tap, H - S // 2) != full


# ---------------------------------------------------------------- image pool, once per photo

def test_the_image_pool_is_computed_once_and_only_it_sees_the_whole_photo(model, monkeypatch):
    photos = [np.random.default_rng(s).integers(0, 256, (64, 400, 3), np.uint8)
              for s in range(2)]
    pool = E.image_pool_gradient(model, photos, tap="stage4")
    shapes = []
    real = E.input_gradients

    def spy(forward, x, seeds, **kw):
        shapes.append(tuple(x.shape))
        return real(forward, x, seeds, **kw)

    monkeypatch.setattr(E, "input_gradients", spy)
    computed = E.averaged_effective_receptive_field(model, photos, tap="stage4", point=(1, 3),
                                                    rates=(2, 6))
    assert shapes == [(2, 3, 64, 240), (2, 3, 64, 400)]  # the crop's passes, then the pool
    shapes.clear()
    kept = E.averaged_effective_receptive_field(model, photos, tap="stage4", point=(1, 3),
                                                rates=(2, 6), pool=pool)
    assert shapes == [(2, 3, 64, 240)] and kept.crop == Box(0, 0, 64, 240)
    np.testing.assert_allclose(computed.pool, pool, rtol=1e-6)
    np.testing.assert_allclose(computed.branches["image pool"].map * computed.branches[
        "image pool"].peak, pool, rtol=1e-6)
    for name, grad in _gradients(kept).items():
        np.testing.assert_array_equal(grad, _gradients(computed)[name])
    assert pool.min() > 0  # the mean of every cell reaches every pixel
    shapes.clear()  # a crop as large as the photo: the pool shares its forward pass
    whole = E.averaged_effective_receptive_field(model, photos, tap="stage4", point=(1, 12),
                                                 rates=(2, 6, 12))
    assert shapes == [(2, 3, 64, 400)] and whole.crop == Box(0, 0, 64, 400)
    np.testing.assert_allclose(whole.pool, pool, rtol=1e-5, atol=1e-6 * float(pool.max()))
    with pytest.raises(ValueError, match="pool"):
        E.averaged_effective_receptive_field(model, photos, tap="stage4", rates=(2,),
                                             pool=pool[:10])


@pytest.mark.slow
def test_the_page_computes_the_pool_once_and_the_branches_on_the_crop(monkeypatch) -> None:
    """The ASPP page (AppTest): two cells of one photo, one image-pool pass, cropped fields."""
    from apptest import open_page

    shapes, crops, pools = [], [], []
    real_grad, real_erf = E.input_gradients, E.averaged_effective_receptive_field

    def grad(forward, x, seeds, **kw):
        shapes.append(tuple(x.shape[-2:]))
        return real_grad(forward, x, seeds, **kw)

    def averaged(*args, **kw):
        pools.append(kw.get("pool"))
        result = real_erf(*args, **kw)
        crops.append(result.crop)
        return result

    monkeypatch.setattr(E, "input_gradients", grad)
    monkeypatch.setattr(E, "averaged_effective_receptive_field", averaged)
    at = open_page("aspp", aspp_tap="stage4", aspp_cell="0,0")  # chelsea, 300 x 451
    at.button(key="aspp_erf_go").click().run()
    at.session_state["_aspp_erf_cell"] = (0, 1)
    at.run()
    assert not at.exception
    assert shapes.count((300, 451)) <= 1  # the pool; none if this process had it already
    assert len(crops) == 2 and pools[1] is not None and pools[1].shape == (300, 451)
    # rate 18's far taps: row 18 sees past row 299 (all 300 rows); column 18 sees pixels
    # [217, 364) (padding 71), so the crop ends at 371 = 451 - 5 * 16; column 19 at 387.
    # (The whole photo would cost more even with the pool sharing its forward pass.)
    assert crops == [Box(0, 0, 300, 371), Box(0, 0, 300, 387)]

"""Tests for pyramidviz.aspp: tap geometry, valid weights (Fig. 4), gridding, ASPP layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from pyramidviz.aspp import (
    ASPP,
    DEEPLAB_V3_RATES,
    aspp_macs,
    aspp_parameter_count,
    branch_previews,
    effective_kernel_size,
    hdc_check,
    rates_for_output_stride,
    stack_coverage,
    tap_offsets,
    valid_weight_counts,
)

# ---------------------------------------------------------------- kernel geometry


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([1, 3, 5, 7]), st.integers(1, 40))
def test_tap_offsets_row_major_centred_and_span(kernel: int, rate: int) -> None:
    taps = tap_offsets(kernel, rate)
    assert taps.shape == (kernel * kernel, 2)
    assert taps[kernel * kernel // 2].tolist() == [0, 0]
    assert taps.tolist() == sorted(taps.tolist())  # row-major: dy, then dx, ascending
    assert (taps % rate == 0).all() and (taps.sum(0) == 0).all()
    assert taps.max() - taps.min() + 1 == effective_kernel_size(kernel, rate)


def test_effective_kernel_size_hand_values() -> None:
    assert [effective_kernel_size(3, r) for r in (1, 2, 6, 12, 18)] == [3, 5, 13, 25, 37]


@pytest.mark.parametrize("kernel", [2, 4, 0])
def test_tap_offsets_rejects_even_or_empty_kernels(kernel: int) -> None:
    with pytest.raises(ValueError, match="kernel"):
        tap_offsets(kernel, 1)


def test_rates_for_output_stride() -> None:
    assert rates_for_output_stride(16) == (6, 12, 18) == DEEPLAB_V3_RATES[16]
    assert rates_for_output_stride(8) == (12, 24, 36) == DEEPLAB_V3_RATES[8]
    assert rates_for_output_stride(32) == (3, 6, 9)  # the app's extrapolation
    for bad in (4, 64, 0, "16"):
        with pytest.raises(ValueError, match="output stride"):
            rates_for_output_stride(bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------- valid weights


def _brute_counts(h: int, w: int, rate: int, kernel: int) -> dict[int, float]:
    counts: dict[int, int] = {}
    taps = tap_offsets(kernel, rate)
    for y in range(h):
        for x in range(w):
            n = sum(0 <= y + dy < h and 0 <= x + dx < w for dy, dx in taps)
            counts[n] = counts.get(n, 0) + 1
    return {k: v / (h * w) for k, v in sorted(counts.items())}


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 15), st.sampled_from([1, 3, 5]))
def test_valid_weight_counts_match_brute_force(h: int, w: int, rate: int, kernel: int) -> None:
    counts = valid_weight_counts((h, w), rate, kernel)
    assert counts == _brute_counts(h, w, rate, kernel)
    assert sum(counts.values()) == pytest.approx(1.0)


def test_valid_weights_on_65x65_rate_1() -> None:
    """Fig. 4 at rate 1: all 9 weights valid except on the 1-cell border."""
    total = 65 * 65
    assert valid_weight_counts(65, 1) == {
        4: 4 / total, 6: 4 * 63 / total, 9: 63 * 63 / total,
    }


@settings(max_examples=30, deadline=None)
@given(st.integers(65, 400))
def test_valid_weights_on_65x65_degenerate_to_centre(rate: int) -> None:
    """Fig. 4: once the rate reaches the map size only the centre weight is valid."""
    assert valid_weight_counts(65, rate) == {1: 1.0}


def test_share_of_full_filters_falls_with_rate_on_65x65() -> None:
    full = [valid_weight_counts(65, r).get(9, 0.0) for r in range(1, 66)]
    assert all(a >= b for a, b in zip(full, full[1:], strict=False))
    assert full[:32] == [(65 - 2 * r) ** 2 / 65**2 for r in range(1, 33)]
    assert set(full[32:]) == {0.0}  # rate >= 33: no position keeps all 9 weights


def test_valid_weight_counts_validates() -> None:
    with pytest.raises(ValueError, match="feature_size"):
        valid_weight_counts(0, 1)
    with pytest.raises(ValueError, match="rate"):
        valid_weight_counts(5, 0)
    with pytest.raises(ValueError, match="kernel"):
        valid_weight_counts(5, 1, kernel=4)


# ---------------------------------------------------------------- gridding and HDC


def _conv_reach(rates: tuple[int, ...], kernel: int) -> np.ndarray:
    """Reach of the stack measured by pushing a delta through real dilated convs."""
    span = 1 + (kernel - 1) * sum(rates)
    x = torch.zeros(1, 1, span, span, dtype=torch.float64)
    x[0, 0, span // 2, span // 2] = 1.0
    ones = torch.ones(1, 1, kernel, kernel, dtype=torch.float64)
    for rate in rates:
        x = F.conv2d(x, ones, padding=rate * (kernel // 2), dilation=rate)
    return (x[0, 0] != 0).numpy()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.sampled_from([3, 5]))
def test_stack_coverage_matches_real_convolutions(rates: list, kernel: int) -> None:
    coverage = stack_coverage(rates, kernel)
    assert coverage.span == 1 + (kernel - 1) * sum(rates)
    assert np.array_equal(coverage.reach, _conv_reach(tuple(rates), kernel))
    assert coverage.holes == int((~coverage.reach).sum())


def test_gridding_2_2_2_has_holes_and_fails_hdc() -> None:
    coverage = stack_coverage((2, 2, 2))
    assert (coverage.span, coverage.holes) == (13, 13 * 13 - 7 * 7)
    assert coverage.reach[6, 6] and not coverage.reach[6, 7]  # checkerboard of even offsets
    report = hdc_check((2, 2, 2))
    assert report.common_factor == 2 and not report.ok


@pytest.mark.parametrize(("rates", "distances"), [((1, 2, 5), (1, 2, 5)),
                                                   ((1, 2, 3), (1, 2, 3))])
def test_hdc_examples_pass_and_cover_everything(rates: tuple, distances: tuple) -> None:
    report = hdc_check(rates)
    assert report.max_distances == distances  # M_2 = 2 <= K = 3
    assert report.max_distance_ok and report.common_factor == 1 and report.ok
    assert report.holes == 0 and stack_coverage(rates).holes == 0


def test_hdc_max_distance_rule_can_fail_alone() -> None:
    report = hdc_check((1, 2, 9))  # M_2 = max(9 - 4, 9 - 14, 2) = 5 > 3
    assert report.max_distances[1] == 5 and not report.max_distance_ok
    assert report.common_factor == 1 and report.holes > 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=3))
def test_hdc_pass_starting_at_rate_1_means_no_holes(tail: list) -> None:
    report = hdc_check((1, *tail))
    if report.ok:
        assert report.holes == 0


def test_hdc_needs_two_rates() -> None:
    with pytest.raises(ValueError, match="two"):
        hdc_check((2,))


# ---------------------------------------------------------------- ASPP module

# torchvision ASPP(2048, [12, 24, 36]) (DeepLabHead), read off
# torchvision/models/segmentation/deeplabv3.py: convs = [1x1 Sequential, ASPPConv x 3,
# ASPPPooling], project = Sequential(conv, BN, ReLU, Dropout).
_BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
TORCHVISION_KEYS: list[tuple[str, tuple[int, ...]]] = [
    ("convs.0.0.weight", (256, 2048, 1, 1)),
    *[(f"convs.0.1.{k}", () if k == "num_batches_tracked" else (256,)) for k in _BN],
    *[item for i in (1, 2, 3) for item in (
        (f"convs.{i}.0.weight", (256, 2048, 3, 3)),
        *[(f"convs.{i}.1.{k}", () if k == "num_batches_tracked" else (256,)) for k in _BN],
    )],
    ("convs.4.1.weight", (256, 2048, 1, 1)),
    *[(f"convs.4.2.{k}", () if k == "num_batches_tracked" else (256,)) for k in _BN],
    ("project.0.weight", (256, 1280, 1, 1)),
    *[(f"project.1.{k}", () if k == "num_batches_tracked" else (256,)) for k in _BN],
]


def test_state_dict_matches_torchvision_layout() -> None:
    with torch.device("meta"):
        aspp = ASPP(2048, 256, (12, 24, 36))
    assert [(k, tuple(v.shape)) for k, v in aspp.state_dict().items()] == TORCHVISION_KEYS
    assert aspp.convs[1][0].dilation == (12, 12) and aspp.convs[1][0].padding == (12, 12)
    assert aspp.convs[3][0].dilation == (36, 36) and aspp.convs[0][0].bias is None
    assert isinstance(aspp.project[3], nn.Dropout) and aspp.project[3].p == 0.5


def test_torchvision_style_state_dict_loads_unchanged() -> None:
    state = {k: torch.randn(s) if s else torch.tensor(7) for k, s in TORCHVISION_KEYS}
    aspp = ASPP(2048, 256, (12, 24, 36))
    aspp.load_state_dict(state, strict=True)
    assert torch.equal(aspp.convs[2][0].weight, state["convs.2.0.weight"])


@pytest.mark.parametrize(("c", "o", "rates"), [(2048, 256, (12, 24, 36)), (320, 256, (6, 12, 18)),
                                               (7, 5, (1,)), (3, 2, (1, 2, 3, 4))])
def test_parameter_count_formula(c: int, o: int, rates: tuple) -> None:
    with torch.device("meta"):
        aspp = ASPP(c, o, rates)
    assert aspp_parameter_count(c, o, rates) == sum(p.numel() for p in aspp.parameters())


def test_parameter_count_hand_value() -> None:
    # 1x1: 2048*256 + 512; 3 atrous: 3*(9*2048*256 + 512); pool: 2048*256 + 512;
    # project: 1280*256 + 512
    hand = 2048 * 256 + 3 * 9 * 2048 * 256 + 2048 * 256 + 1280 * 256 + 6 * 512
    assert aspp_parameter_count(2048, 256, (12, 24, 36)) == hand == 15_535_104


def _conv_macs(module: nn.Module, x: torch.Tensor) -> int:
    total = 0

    def hook(m: nn.Conv2d, inputs: tuple, out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += out[0, 0].numel() * m.out_channels * m.in_channels // m.groups * kh * kw

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        module.eval()(x)
    for handle in handles:
        handle.remove()
    return total


@pytest.mark.parametrize(("c", "o", "rates", "hw"), [(8, 4, (1, 2, 3), (5, 7)),
                                                     (3, 6, (6,), (1, 1))])
def test_macs_equal_counted_conv_multiply_adds(c: int, o: int, rates: tuple, hw: tuple) -> None:
    measured = _conv_macs(ASPP(c, o, rates), torch.zeros(1, c, *hw))
    assert aspp_macs(c, o, rates, hw) == measured


def test_macs_hand_value() -> None:
    # 65x65 (OS 8 on 513 px), 2048 -> 256, 3 rates: 28 * 4225 * 2048 * 256 + 2048 * 256
    # + 4225 * 5 * 256**2
    hand = 28 * 4225 * 2048 * 256 + 2048 * 256 + 4225 * 5 * 256**2
    assert aspp_macs(2048, 256, (12, 24, 36), (65, 65)) == hand == 63_408_242_688


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.lists(st.integers(1, 12), min_size=1,
                                                       max_size=3))
def test_output_keeps_h_w(h: int, w: int, rates: list) -> None:
    aspp = ASPP(3, 4, rates).eval()
    with torch.no_grad():
        assert aspp(torch.randn(2, 3, h, w)).shape == (2, 4, h, w)


@pytest.mark.parametrize("bad", [dict(in_channels=0), dict(in_channels=4, out_channels=(6, 12)),
                                 dict(in_channels=4, atrous_rates=()),
                                 dict(in_channels=4, atrous_rates=(6, -1))])
def test_aspp_validates(bad: dict) -> None:
    with pytest.raises(ValueError):
        ASPP(**bad)


# ---------------------------------------------------------------- branch previews


def _brute_dilated_average(x: torch.Tensor, rate: int) -> torch.Tensor:
    n, c, h, w = x.shape
    out = torch.empty_like(x)
    for y in range(h):
        for xx in range(w):
            taps = [(y + dy, xx + dx) for dy, dx in tap_offsets(3, rate).tolist()
                    if 0 <= y + dy < h and 0 <= xx + dx < w]
            out[:, :, y, xx] = torch.stack([x[:, :, a, b] for a, b in taps]).mean(0)
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 8), st.integers(0, 2**31 - 1))
def test_branch_previews_match_brute_force(h: int, w: int, rate: int, seed: int) -> None:
    x = torch.randn(2, 3, h, w, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(seed))
    previews = branch_previews(x, (rate,))
    assert list(previews) == ["1x1", f"rate {rate}", "image pool"]
    assert torch.equal(previews["1x1"], x)
    torch.testing.assert_close(previews[f"rate {rate}"], _brute_dilated_average(x, rate))
    pool = previews["image pool"]
    assert pool.shape == x.shape
    torch.testing.assert_close(pool[:, :, -1, 0], x.mean(dim=(-2, -1)))


def test_branch_preview_at_large_rate_is_the_centre_value() -> None:
    x = torch.randn(1, 4, 6, 9)
    previews = branch_previews(x, (6, 12, 18))
    assert list(previews) == ["1x1", "rate 6", "rate 12", "rate 18", "image pool"]
    for key in ("rate 12", "rate 18"):  # rate >= H and W: only the centre tap is valid
        torch.testing.assert_close(previews[key], x)
    assert not torch.allclose(previews["rate 6"], x)  # 6 < W = 9: side taps still count


def test_branch_previews_validate() -> None:
    with pytest.raises(ValueError, match="distinct"):
        branch_previews(torch.zeros(1, 1, 4, 4), (2, 2))
    with pytest.raises(ValueError, match="N, C, H, W"):
        branch_previews(torch.zeros(1, 4, 4), (2,))
    with pytest.raises(ValueError, match="rates"):
        branch_previews(torch.zeros(1, 1, 4, 4), ())

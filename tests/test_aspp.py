"""Tests for pyramidviz.aspp: DeepLab rates, rates text, the ASPP module layout, parameter and
MAC counts, branch previews; the atrous names it re-exports."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from pyramidviz import aspp as aspp_module
from pyramidviz import atrous
from pyramidviz.aspp import (
    ASPP,
    DEEPLAB_V3_RATES,
    RatesError,
    aspp_macs,
    aspp_parameter_count,
    branch_previews,
    centre_only_rates,
    parse_rates,
    rates_for_output_stride,
    rates_source,
    tap_offsets,
)


def test_rates_for_output_stride() -> None:
    assert rates_for_output_stride(16) == (6, 12, 18) == DEEPLAB_V3_RATES[16]
    assert rates_for_output_stride(8) == (12, 24, 36) == DEEPLAB_V3_RATES[8]
    assert rates_for_output_stride(32) == (3, 6, 9)  # the app's extrapolation
    for bad in (4, 64, 0, "16"):
        with pytest.raises(ValueError, match="output stride"):
            rates_for_output_stride(bad)  # type: ignore[arg-type]


def test_rates_source_says_paper_app_or_custom() -> None:
    assert rates_source((6, 12, 18), 16) == rates_source([12, 24, 36], 8) == "paper"
    assert rates_source((3, 6, 9), 32) == "extrapolated"
    assert rates_source((6, 12, 18), 8) == rates_source((6, 12), 16) == "custom"


REEXPORTED = ["Coverage", "HDCReport", "effective_kernel_size", "hdc_check", "stack_coverage",
              "tap_offsets", "valid_weight_counts"]


def test_atrous_geometry_is_re_exported_unchanged() -> None:
    for name in REEXPORTED:
        assert getattr(aspp_module, name) is getattr(atrous, name)
        assert name in aspp_module.__all__
    assert all(hasattr(aspp_module, name) for name in aspp_module.__all__)
    assert "Examples" in aspp_module.valid_weight_counts.__doc__  # docstring lives in atrous


# ---------------------------------------------------------------- rates typed as text


@pytest.mark.parametrize(("text", "expected"), [
    ("6,12,18", (6, 12, 18)), (" 3 ; 5 ", (3, 5)), ("1", (1,)), ("128", (128,)),
    ("2\t4\n8", (2, 4, 8)),
])
def test_parse_rates_accepts_lists(text: str, expected: tuple) -> None:
    assert parse_rates(text) == expected


@pytest.mark.parametrize(("text", "code"), [
    ("", "count"), ("  ", "count"), ("6,x", "syntax"), ("6.5", "syntax"), ("-3", "range"),
    ("६", "syntax"), ("1234567", "syntax"), ("0", "range"), ("129", "range"),
    ("6,6", "repeat"), ("1,2,3,4,5,6,7", "count"),
])
def test_parse_rates_rejects_bad_text_with_a_code(text: str, code: str) -> None:
    with pytest.raises(RatesError) as caught:
        parse_rates(text)
    assert caught.value.code == code and isinstance(caught.value, ValueError)
    assert repr(text) in str(caught.value)


def test_parse_rates_for_stacks_allows_repeats_and_needs_two() -> None:
    kw = {"distinct": False, "min_count": 2, "max_count": 6, "max_rate": 32}
    assert parse_rates("2,2,2", **kw) == (2, 2, 2)
    for text, code in (("2", "count"), ("1,33", "range"), ("1,2,3,4,5,6,7", "count")):
        with pytest.raises(RatesError) as caught:
            parse_rates(text, **kw)
        assert caught.value.code == code


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 128), min_size=1, max_size=6, unique=True),
       st.sampled_from([",", ", ", " ", ";", " ; "]))
def test_parse_rates_round_trips_any_valid_list(rates: list, sep: str) -> None:
    assert parse_rates(sep.join(map(str, rates))) == tuple(rates)


def test_centre_only_rates_match_the_tap_count() -> None:
    assert centre_only_rates((19, 29), (9, 14), (6, 12, 18)) == (18,)
    assert centre_only_rates((4, 6), (0, 0), (1, 6, 12)) == (6, 12)
    assert centre_only_rates((65, 65), (32, 32), (6, 12, 18)) == ()
    # wider kernels only add taps farther out (multiples of r): same answer as 3 x 3 here
    assert centre_only_rates((19, 29), (9, 14), (6, 12, 18), kernel=5) == (18,)
    assert centre_only_rates((3, 3), (1, 1), (1, 2), kernel=1) == (1, 2)  # 1x1: always




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
@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
def test_parameter_count_formula(c: int, o: int, rates: tuple, kernel: int) -> None:
    with torch.device("meta"):
        aspp = ASPP(c, o, rates, kernel=kernel)
    assert aspp_parameter_count(c, o, rates, kernel=kernel) == sum(
        p.numel() for p in aspp.parameters())


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
@pytest.mark.parametrize("kernel", [3, 5])
def test_macs_equal_counted_conv_multiply_adds(c: int, o: int, rates: tuple, hw: tuple,
                                               kernel: int) -> None:
    measured = _conv_macs(ASPP(c, o, rates, kernel=kernel), torch.zeros(1, c, *hw))
    assert aspp_macs(c, o, rates, hw, kernel=kernel) == measured


def test_macs_hand_value() -> None:
    # 65x65 (OS 8 on 513 px), 2048 -> 256, 3 rates: 28 * 4225 * 2048 * 256 + 2048 * 256
    # + 4225 * 5 * 256**2
    hand = 28 * 4225 * 2048 * 256 + 2048 * 256 + 4225 * 5 * 256**2
    assert aspp_macs(2048, 256, (12, 24, 36), (65, 65)) == hand == 63_408_242_688


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.lists(st.integers(1, 12), min_size=1,
                                                       max_size=3), st.sampled_from([1, 3, 5]))
def test_output_keeps_h_w(h: int, w: int, rates: list, kernel: int) -> None:
    aspp = ASPP(3, 4, rates, kernel=kernel).eval()
    with torch.no_grad():
        assert aspp(torch.randn(2, 3, h, w)).shape == (2, 4, h, w)


@pytest.mark.parametrize("bad", [dict(in_channels=0), dict(in_channels=4, out_channels=(6, 12)),
                                 dict(in_channels=4, atrous_rates=()),
                                 dict(in_channels=4, atrous_rates=(6, -1)),
                                 dict(in_channels=4, kernel=4)])
def test_aspp_validates(bad: dict) -> None:
    with pytest.raises(ValueError):
        ASPP(**bad)


# ---------------------------------------------------------------- branch previews


def _brute_dilated_average(x: torch.Tensor, rate: int, kernel: int = 3) -> torch.Tensor:
    n, c, h, w = x.shape
    out = torch.empty_like(x)
    for y in range(h):
        for xx in range(w):
            taps = [(y + dy, xx + dx) for dy, dx in tap_offsets(kernel, rate).tolist()
                    if 0 <= y + dy < h and 0 <= xx + dx < w]
            out[:, :, y, xx] = torch.stack([x[:, :, a, b] for a, b in taps]).mean(0)
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 8), st.integers(0, 2**31 - 1),
       st.sampled_from([1, 3, 5, 7]))
def test_branch_previews_match_brute_force(h: int, w: int, rate: int, seed: int,
                                           kernel: int) -> None:
    x = torch.randn(2, 3, h, w, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(seed))
    previews = branch_previews(x, (rate,), kernel=kernel)
    assert list(previews) == ["1x1", f"rate {rate}", "image pool"]
    assert torch.equal(previews["1x1"], x)
    torch.testing.assert_close(previews[f"rate {rate}"],
                               _brute_dilated_average(x, rate, kernel))
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


def test_branch_preview_5x5_hand_value() -> None:
    x = torch.arange(25.0).view(1, 1, 5, 5)
    previews = branch_previews(x, (1, 2), kernel=5)
    assert previews["rate 1"][0, 0, 2, 2].item() == 12.0  # all 25 cells: their mean
    # corner at rate 2: taps at rows/cols 0, 2, 4 -> 3 x 3 on the map
    assert previews["rate 2"][0, 0, 0, 0].item() == x[0, 0, ::2, ::2].mean().item()


def test_branch_previews_validate() -> None:
    with pytest.raises(ValueError, match="distinct"):
        branch_previews(torch.zeros(1, 1, 4, 4), (2, 2))
    with pytest.raises(ValueError, match="N, C, H, W"):
        branch_previews(torch.zeros(1, 4, 4), (2,))
    with pytest.raises(ValueError, match="rates"):
        branch_previews(torch.zeros(1, 1, 4, 4), ())
    with pytest.raises(ValueError, match="kernel"):
        branch_previews(torch.zeros(1, 1, 4, 4), (1,), kernel=2)


def test_batchnorm_share_of_the_parameters_matches_the_module():
    module = aspp_module.ASPP(320, 256, (6, 12, 18))
    bn = sum(p.numel() for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)
             for p in m.parameters())
    assert aspp_module.aspp_batchnorm_parameter_count(256, (6, 12, 18)) == bn == 3_072


@pytest.mark.parametrize("size", [(19, 29), (7, 5), (3, 40)])
@pytest.mark.parametrize("rates", [(6, 12, 18), (1, 2), (40,)])
def test_multiply_adds_on_real_features_count_only_taps_on_the_map(size, rates):
    """An explicit torch count: a ones kernel over a ones map counts the taps that land."""
    h, w = size
    c, o = 3, 4
    on_map = sum(int(torch.nn.functional.conv2d(torch.ones(1, 1, h, w), torch.ones(1, 1, 3, 3),
                                                padding=r, dilation=r).sum()) for r in rates)
    every = aspp_module.aspp_macs(c, o, rates, size)
    real = aspp_module.aspp_macs_on_map(c, o, rates, size)
    assert every - real == c * o * (9 * h * w * len(rates) - on_map)
    share = on_map / (9 * h * w * len(rates))
    assert aspp_module.atrous_tap_share(size, rates) == pytest.approx(share)


def test_only_44_percent_of_the_taps_touch_real_features_on_chelsea():
    """Chelsea's 19 x 29 map at output stride 16 with DeepLab v3's rates."""
    assert round(100 * aspp_module.atrous_tap_share((19, 29), (6, 12, 18))) == 44
    real, every = (aspp_module.aspp_macs_on_map(320, 256, (6, 12, 18), (19, 29)),
                   aspp_module.aspp_macs(320, 256, (6, 12, 18), (19, 29)))
    assert real < every and every == aspp_module.aspp_macs(320, 256, (2, 3, 4), (19, 29))
    assert aspp_module.aspp_macs_on_map(320, 256, (2, 3, 4), (19, 29)) > real  # rates change it

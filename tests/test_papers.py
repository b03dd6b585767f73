"""The numbers the prose quotes: each against torch, the architecture or the other modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pyramidviz import papers
from pyramidviz.aspp import rates_for_output_stride
from pyramidviz.backbones import STAGES
from pyramidviz.bins import bin_count, vector_length


def _numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_deeplab_head_counts_the_modules_torchvision_builds():
    """torchvision's DeepLabHead after ASPP: 3x3 conv 256->256 (no bias), BN, ReLU, 1x1 -> 21."""
    classifier = nn.Conv2d(256, 21, 1)
    head = nn.Sequential(nn.Conv2d(256, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256),
                         nn.ReLU(), classifier)
    assert papers.deeplab_head_parameter_count() == _numel(head) == 595_733
    assert papers.classifier_parameter_count() == _numel(classifier) == 5_397
    small = nn.Sequential(nn.Conv2d(8, 8, 3, bias=False), nn.BatchNorm2d(8), nn.Conv2d(8, 3, 1))
    assert papers.deeplab_head_parameter_count(8, 3) == _numel(small)
    with pytest.raises(ValueError, match="positive"):
        papers.deeplab_head_parameter_count(0, 21)


def test_sppnet_facts():
    f = papers.facts()
    assert (f["sppnet_bins"], f["fig3_bins"], bin_count(papers.EXAMPLE_LEVELS)) == (50, 21, 14)
    assert f["sppnet_len"] == vector_length(256, (6, 3, 2, 1)) == 12_800  # ZF-5's fc6 input
    assert f["fig3_len"] == vector_length(256, (4, 2, 1)) == 5_376
    assert f["app_len"] == vector_length(STAGES[-1][3], (4, 2, 1)) == 6_720
    assert papers.LITE0_LAST_CHANNELS == STAGES[-1][3]
    assert (f["fc6"], f["fixed"], f["example_map"]) == (4096, 224, 13)
    assert f["v3_rates16"] == ", ".join(map(str, rates_for_output_stride(16)))
    assert f["v3_rates8"] == ", ".join(map(str, rates_for_output_stride(8)))
    with pytest.raises(ValueError, match="levels"):
        bin_count((4, 0))


def test_facts_are_read_only():
    with pytest.raises(TypeError):
        papers.facts()["fc6"] = 1  # type: ignore[index]


def test_torch_is_not_needed_for_the_facts():
    import subprocess
    import sys

    code = "import sys, pyramidviz.papers, pyramidviz.i18n; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=papers.__file__.rsplit("/pyramidviz/", 1)[0])
    assert out.stdout.strip() == "False"


del torch  # imported above only so a missing torch fails loudly here


def test_output_strides_and_the_papers_other_numbers():
    """Issue 24's facts: each against the code that computes it, or the paper's text."""
    from pyramidviz.backbones import tap_info

    f = papers.facts()
    assert f["lite0_os"] == tap_info(32, "stage7", (512, 512)).stride == 32  # the plain net
    assert f["v3_os"] == 16 and f["v3_os_dense"] == 8
    assert set(papers.DEEPLAB_V3_RATES) == {f["v3_os"], f["v3_os_dense"]}
    assert papers.DEEPLAB_V3_RATES[8] == tuple(2 * r for r in papers.DEEPLAB_V3_RATES[16])
    assert f["v2_rates"] == "6, 12, 18, 24" and f["v2_os"] == 8  # DeepLab v2's ASPP-L
    assert f["fig4_map"] == 65 and f["lite0_top1"] == "75.1"
    assert tap_info(16, "stage7", (512, 512)).stride == f["v3_os"]

"""pyramidviz.deck: the lecture deck's payload against the core's numbers, and its one-file
export (self-contained, in its language, small enough for a 2 MP photo)."""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys

import numpy as np
import pytest

from pyramidviz import deck, i18n, papers
from pyramidviz.backbones import tap_info
from pyramidviz.samples import load_sample, sample_bytes
from pyramidviz.sizes import backbone_map_hw, scaled_photo_sizes


def stub_features(photo: np.ndarray):
    """Feature maps of the right shapes (from the backbone's geometry), smooth random values:
    for tests of sizes and text, where the pretrained values do not matter."""
    rng = np.random.default_rng(0)

    def features(tap: str, output_stride: int) -> np.ndarray:
        info = tap_info(output_stride, tap, photo.shape[:2])
        return rng.random((info.channels, *info.feature_size), dtype=np.float32)

    return features


@pytest.fixture(scope="module")
def chelsea():
    return load_sample("chelsea")


@pytest.fixture(scope="module", params=i18n.LANGUAGES)
def payload(request, chelsea):
    return deck.deck_payload(chelsea, lang=request.param, name="chelsea")


def slide(payload: dict, name: str) -> dict:
    return payload["slides"][deck.SLIDES.index(name)]


def test_the_story_has_bookends_and_notes_in_both_languages(payload):
    assert [s["id"] for s in payload["slides"]] == list(deck.SLIDES)
    assert deck.SLIDES[0] == "title" and deck.SLIDES[-2:] == ("summary", "references")
    for s in payload["slides"]:
        assert s["title"] and s["notes"]["say"] and s["notes"]["ask"].endswith(("?", "요?", "까?"))
        words = [s["title"], *s["text"], s["notes"]["say"], s["notes"]["ask"]]
        words += [p.get("caption", "") for p in s["picture"].get("panels", [])]
        words += [item["text"] for item in s["picture"].get("legend", [])]
        for text in words:
            assert not re.search(r"\{\w*[:}]", text), (s["id"], text)  # every placeholder filled
    if payload["lang"] == "ko":
        assert re.search("[가-힣]", slide(payload, "bins")["text"][0])


def test_one_map_per_module_stated_where_it_first_appears(payload, chelsea):
    spp, aspp = tap_info(32, "stage7", (300, 451)), tap_info(16, "stage7", (300, 451))
    assert (spp.feature_size, spp.stride, spp.channels) == ((10, 15), 32, 320)
    assert aspp.feature_size == (19, 29)
    bins = slide(payload, "bins")["text"][0]
    for part in ("stage7", "320", "10 × 15", "32 px", "7"):
        assert part in bins, part
    assert "stage7" in slide(payload, "taps")["text"][0] and "19 × 29" in slide(
        payload, "taps")["text"][0]
    n = f"{papers.facts()['app_len']:,}"  # 320 x 21 = 6,720, SPP at stride 32
    for name in ("vector", "sizes", "versus", "summary"):
        joined = " ".join([*slide(payload, name)["text"],
                           *slide(payload, name)["picture"].get("items", [])])
        assert n in joined, name
        assert "1,680" not in joined  # stage4's 80 x 21 of the old deck


def test_the_bins_slide_has_two_boxes_with_two_meanings(payload):
    pic = slide(payload, "bins")["picture"]
    photo = pic["panels"][0]
    own, seen = photo["boxes"][-1], photo["boxes"][-2]
    # bin (1, 1) of 4 x 4 on a 10 x 15 map: rows [2, 5), cols [3, 8); cells own 32 px tiles
    assert own["box"][2] - own["box"][0] == 3 * 32 and own["box"][3] - own["box"][1] == 5 * 32
    assert seen["box"] == [0, 0, 300, 451] and seen["dash"]  # the 851 px field, clipped
    assert [item["colour"] for item in pic["legend"]] == [own["colour"], seen["colour"]]
    assert "160 × 96" in pic["legend"][0]["text"] and "451 × 300" in pic["legend"][1]["text"]


def test_the_vector_slide_counts_each_level(payload):
    pic = slide(payload, "vector")["picture"]
    assert [p["view"][2:] for p in pic["panels"]] == [[4, 4], [2, 2], [1, 1]]
    segments = pic["strip"]["segments"]
    assert [round(s["to"] - s["from"], 6) for s in segments] == [
        round(5120 / 6720, 6), round(1280 / 6720, 6), round(320 / 6720, 6)]
    assert "5,120" in pic["panels"][0]["caption"]


def test_three_sizes_are_three_different_sizes_and_one_length(chelsea):
    assert scaled_photo_sizes((300, 451), deck.SCALES) == ((150, 226), (225, 338), (300, 451))
    assert scaled_photo_sizes((1200, 1600), deck.SCALES) == ((600, 800), (900, 1200),
                                                             (1200, 1600))
    photo = np.zeros((1200, 1600, 3), np.uint8)
    photo[:, :, 0] = np.linspace(0, 255, 1600, dtype=np.uint8)
    p = deck.deck_payload(photo, lang="en", features=stub_features(photo))
    panels = slide(p, "sizes")["picture"]["panels"]
    maps = [backbone_map_hw((p_["view"][3], p_["view"][2]), 32) for p_ in panels]
    assert maps == [(19, 25), (29, 38), (38, 50)]  # ceil(side / 32), all different
    assert [p_["caption"] for p_ in panels] == [
        "800 × 600 px → 19 × 25 map → 6,720 values",
        "1200 × 900 px → 29 × 38 map → 6,720 values",
        "1600 × 1200 px → 38 × 50 map → 6,720 values"]
    with pytest.raises(ValueError, match="positive"):
        scaled_photo_sizes((10, 10), (0.0,))


def test_taps_are_rate_times_stride_apart(payload):
    dots = slide(payload, "taps")["picture"]["panels"][0]["dots"]
    colours = payload["slides"][deck.SLIDES.index("taps")]["picture"]["legend"]
    for (rate, item) in zip((6, 12), colours[1:3], strict=True):
        row = sorted({d["x"] for d in dots if d["colour"] == item["colour"]})
        assert np.allclose(np.diff(row), rate * 16), rate  # 96 and 192 px
    centre = [d for d in dots if d["r"] == max(x["r"] for x in dots)]
    assert len(centre) == 1 and dots[-1] is centre[0]  # the 1x1 centre drawn on top


def test_the_field_grows_by_two_rate_strides(payload):
    legend = slide(payload, "field")["picture"]["legend"]
    sides = [int(re.search(r"([\d,]+) × ", item["text"]).group(1).replace(",", ""))
             for item in legend[:4]]
    assert sides == [851 + 2 * r * 16 for r in (0, 6, 12, 18)]  # 851, 1043, 1235, 1427
    text = slide(payload, "field")["text"][0]
    assert i18n.translate(payload["lang"], "slides.field_body_whole", f=851, k1=2, s=16,
                          w=451, h=300) == text  # clipped, every box is the whole photo


def test_valid_weights_follow_deeplab_fig4(payload):
    chart = slide(payload, "valid")["picture"]
    all9, centre = chart["series"]
    assert chart["x"][0] == 1 and chart["marks"] == [6, 12, 18]
    assert all9["y"][0] == round(17 * 27 / (19 * 29), 4)  # rate 1: interior cells only
    assert centre["y"][chart["x"].index(29)] == 1.0  # rate >= 29: only the centre on the map
    assert centre["y"][chart["x"].index(28)] < 1.0
    assert i18n.translate(payload["lang"], "slides.valid_body", h=19, w=29, kk=9, r1=29,
                          k=3) == slide(payload, "valid")["text"][0]


def test_the_versus_slide_keeps_coarse_position_and_the_aspp_map(payload):
    s = slide(payload, "versus")
    assert "no position" not in s["text"][0]
    assert "19 × 29" in s["picture"]["panels"][1]["caption"]
    assert s["picture"]["panels"][1]["overlay"] == "aspp"
    assert payload["images"]["aspp"].startswith("data:image/png;base64,")


def test_a_square_photo_says_so_on_the_problem_slide():
    photo = np.full((256, 256, 3), 120, np.uint8)
    p = deck.deck_payload(photo, lang="en", features=stub_features(photo))
    assert slide(p, "problem")["text"][0] == i18n.translate(
        "en", "slides.problem_body_square", s=224, w=256, h=256)


def test_the_exported_file_is_self_contained_and_small(tmp_path):
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:1225, 0:1633]  # 2.0 MP, a photo-like gradient with noise
    photo = np.stack([x % 256, y % 256, (x + y) % 256], -1) + rng.integers(0, 40, (1225, 1633, 3))
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    page = deck.export_html(photo, lang="ko", features=stub_features(photo))
    assert len(page.encode()) < 5 * 2**20, len(page.encode())
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ko">' in page
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)  # nothing from a host
    assert "<link" not in page and "@import" not in page and "url(http" not in page
    assert "default-src 'none'" in page  # the page itself refuses any request
    data = re.search(r'<script type="application/json" id="pv-deck-data">(.*?)</script>',
                     page, re.S).group(1)
    assert json.loads(data)["lang"] == "ko"
    assert "Malgun Gothic" in page and "Apple SD Gothic Neo" in page  # Korean system fonts


def test_the_command_writes_the_deck(tmp_path):
    photo = tmp_path / "cat.png"
    photo.write_bytes(sample_bytes("chelsea"))
    out = tmp_path / "deck.html"
    assert deck.main([str(photo), "--lang", "ko", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert '<html lang="ko">' in text and "cat.png (451 × 300 px)" in text


def test_importing_the_deck_loads_no_torch():
    code = "import sys, pyramidviz.deck; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="language"):
        deck.deck_payload(np.zeros((64, 64, 3), np.uint8), lang="fr")
    with pytest.raises(ValueError, match="shape"):
        deck.deck_payload(np.zeros((64, 64), np.uint8))


def test_slide_strings_type_no_count_of_slides():
    for lang in i18n.LANGUAGES:
        table = {k: v for k, v in i18n.load_table(lang).items() if k.startswith("slides.")}
        for key, text in table.items():
            assert not re.search(r"\b(eight|eleven|여덟|열한)\b", text), key
            names = {n for _, n, _, _ in string.Formatter().parse(text) if n}
            assert names <= {*papers.facts(), "s", "w", "h", "n", "c", "bins", "len", "tap",
                             "stages", "os", "levels", "maps", "fh", "fw", "k", "r", "px", "kk",
                             "k1", "f", "name", "rates", "i", "lang", "kb", "r1"}, key

"""AppTest: the Your network page in both languages, every source, bad uploads and specs."""

from __future__ import annotations

import io
import warnings

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from pyramidviz import networks
from pyramidviz.receptive import receptive_field

from apptest import open_page, view_data

pytestmark = pytest.mark.slow  # AppTest runs the page script: not in the fast lane


def open_network(**params: str) -> AppTest:
    at = open_page("network", **params)
    assert not at.exception, at.exception
    return at


def text(at: AppTest) -> str:
    return "\n".join(str(el.value) for kind in ("markdown", "caption", "title", "subheader")
                     for el in getattr(at, kind))


def onnx_bytes() -> bytes:
    module = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Conv2d(4, 4, 3, padding=2, dilation=2))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, 3, 64, 64),), buffer, dynamo=False)
    return buffer.getvalue()


@pytest.mark.parametrize("lang", ["English", "한국어"])
def test_default_page_resnet50_in_both_languages(lang):
    at = open_network(lang=lang)
    title = at.title[0].value
    assert title.startswith("Your network" if lang == "English" else "내 네트워크")
    table = at.dataframe[0].value
    assert len(table) == len(networks.catalogue()["resnet50"])
    field_col = "Receptive field (px)" if lang == "English" else "수용 영역 (px)"
    assert table[field_col].iloc[-1] == "427"
    spp = view_data(at, "net_spp_view")["payload"]
    taps = view_data(at, "net_taps_view")["payload"]
    # the cat photo is 451 x 300: ResNet-50's last map (stride 32) is 10 x 15
    assert spp["map"] == [10, 15] and taps["map"] == [10, 15] and spp["mode"] == "geometry"
    assert taps["stride"] == 32 and [b["rate"] for b in taps["branches"]] == [None, 3, 6, 9]
    assert spp["field"]["size"] == [427, 427]
    assert len(at.get("image")) >= 2  # the photo in the sidebar, and the field on it
    words = "Geometry only" if lang == "English" else "기하만"
    assert any(words in info.value for info in at.info)


def test_csv_has_translated_headers_and_every_layer():
    at = open_network(lang="한국어", net="vgg16")
    from pyramidviz import i18n

    assert at.get("download_button")[0].proto.label == i18n.translate("ko",
                                                                      "common.download_csv")
    rows = at.dataframe[0].value
    assert list(rows.columns)[:3] == ["#", "층", "커널"] and len(rows) == 18
    assert rows["수용 영역 (px)"].iloc[-1] == "212" and rows["유효 패딩 (px)"].iloc[-1] == "90"



def test_every_catalogue_net_renders():
    for name in networks.CATALOGUE:
        at = open_network(net=name)
        field = receptive_field(networks.network_layers(name, (300, 451)))[-1]
        assert view_data(at, "net_spp_view")["payload"]["field"]["size"] == list(field.size)


def test_spec_source_and_a_bad_spec_keeps_the_page_working():
    at = open_network()
    at.radio(key="net_src_en").set_value("Typed spec").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.iloc[:, 6]) == ["3", "7", "9", "25"]
    at.text_area(key="net_spec").set_value("conv3 s2, relu").run()
    assert not at.exception
    assert "“relu”" in at.error[0].value and "item 2" in at.error[0].value
    # the last good spec stays, marked as such, never another network; the text stays too
    assert list(at.dataframe[0].value.iloc[:, 6]) == ["3", "7", "9", "25"]
    assert any("last network that was read" in info.value for info in at.info)
    assert "resnet50" not in text(at).lower() and "ResNet" not in text(at)
    assert at.text_area(key="net_spec").value == "conv3 s2, relu"


@pytest.mark.parametrize(("spec", "message"), [
    ("conv3 d999999", "item 1: “d999999” is out of range: the dilation goes from 1 to 512"),
    ("", "the spec names no layer"),
    ("conv3,,pool2", "item 2 is empty"),
])
def test_each_spec_error_says_once_what_and_how(spec, message):
    at = open_network()
    at.radio(key="net_src_en").set_value("Typed spec").run()
    at.text_area(key="net_spec").set_value(spec).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value, at.error[0].value
    assert "item 0" not in at.error[0].value


def test_readable_names_correct_ranges_and_no_stray_text():
    at = open_network(net="efficientnet_lite0_os8")
    assert "EfficientNet-Lite0, output stride 8" in text(at).replace("\\", "")
    assert "efficientnet_lite0_os8" not in text(at)
    assert not any("output stride of DeepLab" in m.value for m in at.markdown)  # "magic"
    labels = [n.label for n in at.number_input]
    assert not any("− 1" in label for label in labels), labels
    h, w = view_data(at, "net_spp_view")["payload"]["map"]
    assert labels == [f"Cell row (0 to {h - 1})", f"Cell column (0 to {w - 1})"]
    assert view_data(at, "net_spp_view")["payload"]["mode"] == "geometry"  # no channel box


def test_onnx_upload_and_hostile_uploads():
    at = open_network()
    at.radio(key="net_src_en").set_value("ONNX file").run()
    at.file_uploader(key="net_onnx").set_value(("net.onnx", onnx_bytes(),
                                                "application/octet-stream")).run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert len(table) == 3 and table.iloc[-1, 6] == "21"  # 3, + (2-1) 2, + (5-1) 4
    for name, data in (("x.onnx", b"\x00garbage" * 50), ("t.onnx", onnx_bytes()[:300]),
                       ("<b>x</b>.onnx", b"")):
        at.file_uploader(key="net_onnx").set_value((name, data, "application/octet-stream"))
        at.run()
        assert not at.exception, name
        assert at.error and "Could not read" in at.error[0].value, name
        assert len(at.dataframe[0].value) == 3, name  # the last file read, not ResNet-50
        assert at.error[0].value.count("(") <= 2, at.error[0].value  # no nested brackets
        assert "Export" in at.error[0].value  # how to fix it


def test_a_bad_first_onnx_file_shows_no_other_network():
    at = open_network()
    at.radio(key="net_src_en").set_value("ONNX file").run()
    assert not at.dataframe and any("Nothing to show" in i.value for i in at.info)
    at.file_uploader(key="net_onnx").set_value(("x.onnx", b"\x00garbage" * 50,
                                                "application/octet-stream")).run()
    assert not at.exception and len(at.error) == 1 and not at.dataframe


def test_formula_vs_measured_button():
    at = open_network(net="vgg16")
    at.button(key="net_measure").click().run()
    assert not at.exception
    assert at.success and "agree" in at.success[0].value
    boxes = at.dataframe[-1].value  # formula and gradient rows: half-open, as the text says
    cells = list(boxes.iloc[:, 1:].to_numpy().ravel())
    assert all(c.startswith("[") and c.endswith(")") for c in cells), cells
    assert boxes.iloc[0, 1] == boxes.iloc[1, 1]  # the rows match exactly


def test_cell_and_layer_choice_move_the_field():
    at = open_network(net="alexnet")
    layer = at.selectbox(key="net_layer")
    layer.set_value(0).run()  # conv1: 11 x 11 field, jump 4
    assert not at.exception
    spp = view_data(at, "net_spp_view")["payload"]
    assert spp["field"]["size"] == [11, 11] and spp["field"]["stride"] == [4, 4]
    keys = [n.key for n in at.number_input]
    row_key = next(k for k in keys if k.startswith("net_row_"))
    at.number_input(key=row_key).set_value(0).run()
    assert not at.exception
    assert "rows [-2, 9)" in text(at)


def test_korean_messages_for_a_bad_spec_and_a_bad_file():
    at = open_network(lang="한국어")
    at.radio(key="net_src_ko").set_value("글로 적기").run()
    at.text_area(key="net_spec").set_value("conv3, conv3 s2 s2").run()
    assert not at.exception
    assert "2번 항목" in at.error[0].value and "두 번" in at.error[0].value
    at.radio(key="net_src_ko").set_value("ONNX 파일").run()
    at.file_uploader(key="net_onnx").set_value(("a.onnx", b"\x01\x02garbage",
                                                "application/octet-stream")).run()
    assert not at.exception
    assert "ONNX 모델이 아닙니다" in at.error[0].value


@pytest.mark.parametrize(("lang", "source", "words"), [
    ("English", "ONNX file", ("What an ONNX file may contain", "Read:", "Refused")),
    ("한국어", "ONNX 파일", ("ONNX 파일에 들어 있어도 되는 것", "읽는 연산자", "거부하는 연산자"))])
def test_the_onnx_source_folds_away_what_is_read_and_refused(lang, source, words):
    at = open_network(lang=lang)
    at.radio(key=f"net_src_{'en' if lang == 'English' else 'ko'}").set_value(source).run()
    assert not at.exception
    (folded,) = [e for e in at.expander if e.label == words[0]]
    inside = "\n".join(str(m.value) for m in folded.markdown)
    assert words[1] in inside and words[2] in inside
    assert all(op in inside for op in networks.ONNX_SUPPORTED + networks.ONNX_REFUSED)
    at.file_uploader(key="net_onnx").set_value(("s.onnx", _misaligned_onnx(),
                                                "application/octet-stream")).run()
    assert not at.exception and "/Add" in at.error[0].value
    assert ("centred on different pixels" if lang == "English" else "중심") in at.error[0].value


def _misaligned_onnx() -> bytes:
    class Branches(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 2, 3, 1, 1), nn.Conv2d(3, 2, 3)

        def forward(self, x):
            return self.a(x) + nn.functional.pad(self.b(x), (2, 0, 2, 0))

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Branches().eval(), (torch.zeros(1, 3, 32, 32),), buffer, dynamo=False)
    return buffer.getvalue()

"""AppTest: the router, the sidebar and the Home page, in both languages."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow  # AppTest runs the page script: not in the fast lane

APP = "../app.py"
TIMEOUT = 120


def run_app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def all_text(at: AppTest) -> str:
    parts = [el.value for kind in ("title", "header", "subheader", "markdown", "caption")
             for el in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_home_renders_in_english_with_the_story():
    at = run_app()
    assert not at.exception
    assert at.title[0].value == "Multi-scale pooling in CNNs: SPP and ASPP"
    text = all_text(at)
    assert "5,376" in text  # 21 bins x 256 channels, SPP paper
    assert "2r + 1" in text
    assert "Computing on:" in text  # the sidebar names the device


def test_home_renders_in_korean_from_the_url():
    at = run_app(lang="한국어")
    assert not at.exception
    assert at.title[0].value == "CNN의 다중 스케일 풀링: SPP와 ASPP"
    assert "계산 장치" in all_text(at)


def test_korean_locale_is_the_default_language():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.context["locale"] = "ko-KR"
    at.run()
    assert not at.exception
    assert at.title[0].value.startswith("CNN의")


def test_language_switch_translates_the_page():
    at = run_app()
    at.radio(key="lang").set_value("한국어").run()
    assert not at.exception
    assert at.title[0].value.startswith("CNN의")


@pytest.mark.parametrize("key,value", [("lang", "Klingon"), ("img", "../../etc/passwd")])
def test_garbage_url_values_fall_back_with_a_notice(key, value):
    at = run_app(**{key: value})
    assert not at.exception
    notices = [w.value for w in at.warning]
    assert any(key in n for n in notices), notices


def test_sample_picker_and_upload_change_the_image(sample_png):
    at = run_app()
    at.selectbox(key="img").set_value("coffee").run()
    assert not at.exception
    assert "coffee (600 × 400 px)" in all_text(at)
    at.file_uploader(key="upload").set_value(("my photo.png", sample_png, "image/png")).run()
    assert not at.exception
    assert "my photo.png" in all_text(at).replace("\\", "")


def test_a_link_marked_with_an_upload_this_server_lacks_says_so(sample_png):
    from pyramidviz import i18n

    at = run_app(upload="0123456789ab")  # a reload, a shared link, or another replica
    assert not at.exception
    gone = i18n.translate("en", "common.upload_gone")
    assert [i.value for i in at.info].count(gone) == 1
    assert "upload" not in at.query_params
    at.run()  # the notice stays while the sample it fell back to is shown
    assert gone in [i.value for i in at.info]
    at.selectbox(key="img").set_value("coffee").run()  # another choice ends it
    assert gone not in [i.value for i in at.info]


def test_an_upload_marks_the_url_and_removing_it_gives_no_notice(sample_png):
    from pyramidviz import i18n

    at = run_app()
    assert "upload" not in at.query_params
    at.file_uploader(key="upload").set_value(("class.png", sample_png, "image/png")).run()
    assert len(at.query_params["upload"]) == 12
    at.file_uploader(key="upload").set_value(None).run()  # the student removes it
    assert not at.exception and "upload" not in at.query_params
    assert i18n.translate("en", "common.upload_gone") not in [i.value for i in at.info]


def test_bad_upload_gives_a_clear_message_and_keeps_working():
    at = run_app()
    at.file_uploader(key="upload").set_value(("cat.png", b"not an image at all", "image/png"))
    at.run()
    assert not at.exception
    assert any("not an image" in e.value for e in at.error)
    assert at.title[0].value.startswith("Multi-scale")


def test_presentation_mode_from_the_url():
    at = run_app(present="true")
    assert not at.exception
    assert at.toggle(key="present").value is True


@pytest.mark.parametrize("lang", ["English", "한국어"])
@pytest.mark.parametrize("name", ["home", "spp", "aspp", "compare"])
def test_every_page_renders_in_both_languages(name, lang):
    import ui
    from pyramidviz import i18n

    at = run_app(lang=lang)
    if name != "home":
        at.switch_page(ui.page_path(name)).run()
    assert not at.exception, [e.value for e in at.exception]
    code = "ko" if lang == "한국어" else "en"
    assert at.title[0].value == i18n.translate(code, f"{name}.title")


def test_the_run_log_records_each_run_and_its_wait_on_heavy_work(tmp_path, monkeypatch):
    import io

    import numpy as np
    from PIL import Image

    import ui

    from apptest import open_page

    # A photo no other test uploads: its pass must not be in the caches already.
    rgb = np.random.default_rng(time.time_ns()).integers(0, 256, (72, 88, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    path = tmp_path / "runs.jsonl"
    monkeypatch.setenv(ui.RUN_LOG_ENV, str(path))
    at = open_page("compare")
    at.file_uploader(key="upload").set_value(("class.png", buffer.getvalue(), "image/png")).run()
    assert not at.exception
    runs = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["page"], r["image"], r["ended"]) for r in runs] == [
        ("home", "chelsea", "done"), ("compare", "chelsea", "done"),
        ("compare", "class.png", "done")]
    assert all(r["seconds"] >= r["waited"] >= 0 for r in runs)
    assert runs[-1]["waited"] > 0  # a new photo's backbone pass went through the pool
    assert abs(runs[-1]["end"] - time.time()) < 120


def test_no_run_log_unless_one_is_asked_for(monkeypatch):
    import ui

    monkeypatch.delenv(ui.RUN_LOG_ENV, raising=False)
    assert ui.run_log() is None


def test_the_pool_that_runs_a_page_s_heavy_work_shortens_the_gil_interval():
    import sys

    import ui

    from apptest import open_page

    at = open_page("compare")  # a backbone pass through ui.work()
    assert not at.exception
    assert sys.getswitchinterval() == pytest.approx(ui.GIL_SWITCH)
    assert ui.GIL_SWITCH < 0.005 / 10  # a tenth of Python's default at most

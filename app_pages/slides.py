"""Slides: the source lecture's story, one idea per screen, for presentation mode.

Presentation mode (``?present=true``) opens here. Each slide is a title, one main view (the
pages' own browser views and Plotly figures, built by :mod:`pyramidviz.payloads` and
:mod:`pyramidviz.figures`) and a sentence or two. Next / previous with the buttons or the
keys (``pyramidviz/web/slides.js``: arrows, PageUp / PageDown, Home / End); the slide shown is
``?slide=N`` in the URL (a bad value opens slide 1).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

import ui
from pyramidviz import atrous, channel_views, spp
from pyramidviz.aspp import rates_for_output_stride
from pyramidviz.compare import aspp_preview_grid, feature_size
from pyramidviz.figures import aspp_dilation as dilation_figs
from pyramidviz.figures import compare as compare_figs
from pyramidviz.figures import spp_sizes as sizes_figs
from ui import t

SLIDES = ("problem", "bins", "vector", "sizes", "taps", "field", "valid", "versus")
OUTPUT_STRIDE = 16  # DeepLab v3's setting; rates 6, 12, 18
SPP_TAP, SPP_LEVELS, SPP_MODE = "stage4", (4, 2, 1), "max"  # a field small enough to place
ASPP_TAP, FIELD_TAP, KERNEL = "stage7", "stage3", 3  # stage3: every rate's field on the photo
SCALES = (0.75, 1.0, 1.5)
FIGURE_HEIGHT = 760  # px of a slide's Plotly figure at 1920 x 1080
FIGURE_WIDTH = 1800
SLIDE_CSS = """
<style>
.block-container { padding-top: 2.2rem !important; padding-bottom: 0.4rem !important; }
[data-testid="stHeader"] { background: transparent; }
[data-testid="stHeader"], [data-testid="stHeader"] * { pointer-events: none; }
[data-testid="stHeader"] button, [data-testid="stHeader"] button * { pointer-events: auto; }
[data-testid="stMain"] { --pv-present-max: 62vh; }
.st-key-slide_head h1 { padding: 0 !important; margin: 0 !important; font-size: 2.2rem !important; }
.st-key-slide_body p { font-size: 1.2rem; line-height: 1.45; margin-bottom: 0; }
</style>
"""

# ---------------------------------------------------------------- which slide


def slide_index() -> int:
    """The slide ``?slide=`` asks for (1-based); a bad value opens slide 1 with a notice."""
    raw = st.query_params.get("slide")
    if raw is None:
        return 1
    index = ui.parse_int(raw, 1, len(SLIDES))
    if index is None:
        st.query_params["slide"] = "1"
        st.toast(t("common.bad_param", key="slide"), icon="⚠️")
        return 1
    return index


def go(index: int) -> None:
    """Show slide ``index`` (clamped to the deck) on the next run."""
    st.query_params["slide"] = str(min(max(int(index), 1), len(SLIDES)))


def _key_pressed() -> None:
    wanted = (st.session_state.get("slides_keys") or {}).get("go")
    if wanted is not None:
        go(int(wanted))


def header(index: int) -> None:
    """Title, previous, the counter (which listens for keys) and next, in one row."""
    with st.container(key="slide_head"):
        title, prev, counter, nxt = st.columns([9, 1.7, 0.8, 1.7], vertical_alignment="center")
        title.title(t(f"slides.{SLIDES[index - 1]}_title"))
        prev.button(t("slides.prev"), key="slide_prev", icon=":material/chevron_left:",
                    help=t("slides.prev_help"), on_click=go, args=(index - 1,),
                    disabled=index == 1, width="stretch")
        with counter:
            ui.view("slides", key="slides_keys", payload={"count": len(SLIDES)},
                    labels=ui.labels("slides.", ("counter", "keys")), state={"slide": index},
                    token=ui.view_token("slides", index), on_go_change=_key_pressed)
        nxt.button(t("slides.next"), key="slide_next", icon=":material/chevron_right:",
                   icon_position="right", help=t("slides.next_help"), on_click=go,
                   args=(index + 1,), disabled=index == len(SLIDES), width="stretch")


def body(key: str, **values) -> None:
    with st.container(key="slide_body"):
        st.markdown(t(key, **values))


# ---------------------------------------------------------------- cached payloads


@st.cache_data(max_entries=16, show_spinner=False)
def bins_payload(digest: str, _features: np.ndarray, _photo: np.ndarray, _field) -> dict:
    """The SPP bins view's payload on the slides' map (max and mean channel views)."""
    from pyramidviz.payloads import spp_payload

    views = {name: channel_views.channel_map(_features, name)
             for name in channel_views.CHANNEL_VIEWS}
    vector = channel_views.spp_vector(_features, SPP_LEVELS, SPP_MODE)
    return spp_payload(views, _photo, vector, levels=SPP_LEVELS, mode=SPP_MODE,
                       channels=_features.shape[0], field=_field,
                       photo_info=ui.photo_payload(digest, _photo))


@st.cache_data(max_entries=16, show_spinner=False)
def taps_payload(digest: str, tap: str, _photo: np.ndarray, _geo) -> dict:
    from pyramidviz.payloads import taps_payload as build

    return build(_photo, field=_geo.field, feature_size=_geo.feature_size, stride=_geo.stride,
                 rates=rates_for_output_stride(OUTPUT_STRIDE), kernel=KERNEL,
                 photo_info=ui.photo_payload(digest, _photo))


@st.cache_data(max_entries=16, show_spinner=False)
def outputs(digest: str, _features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SPP's vector and ASPP's grid of one feature map."""
    return (channel_views.spp_vector(_features, SPP_LEVELS, SPP_MODE),
            aspp_preview_grid(_features, rates_for_output_stride(OUTPUT_STRIDE), kernel=KERNEL))


def main_view():
    """Where a slide's main view goes (the browser test measures this box)."""
    return st.container(key="slide_main")


# ---------------------------------------------------------------- the slides


def slide_problem(image) -> None:
    body("slides.problem_body", s=ui.FIXED_SIDE)
    with main_view():
        ui.fixed_input_picture(key="slide_problem_fig", width_px=FIGURE_WIDTH,
                               height=FIGURE_HEIGHT, caption=False, long_titles=True)


def _spp_view(image, *, key: str, state: dict) -> None:
    geo = ui.tap_geometry(SPP_TAP, OUTPUT_STRIDE, *image.array.shape[:2])
    features = ui.feature_map(image.digest, SPP_TAP, OUTPUT_STRIDE, image.array)
    payload = bins_payload(image.digest, features, image.array, geo.field)
    with main_view():
        ui.view("spp_bins", key=key, payload=payload,
                labels=ui.spp_labels(channel_views.CHANNEL_VIEWS),
                state={"view": "max", **state}, token=ui.view_token(image.digest, key))


def slide_bins(image) -> None:
    geo = ui.tap_geometry(SPP_TAP, OUTPUT_STRIDE, *image.array.shape[:2])
    (h, w), levels = geo.feature_size, "-".join(map(str, SPP_LEVELS))
    body("slides.bins_body", tap=SPP_TAP, h=h, w=w, s=geo.stride, levels=levels)
    _spp_view(image, key="slide_bins_view", state={"level": SPP_LEVELS[0], "bin": 5})


def slide_vector(image) -> None:
    c = ui.tap_geometry(SPP_TAP, OUTPUT_STRIDE, *image.array.shape[:2]).channels
    body("slides.vector_body", c=c, bins=spp.bin_count(SPP_LEVELS),
         n=f"{spp.vector_length(c, SPP_LEVELS):,}")
    _spp_view(image, key="slide_vector_view", state={"level": SPP_LEVELS[1], "bin": 0})


def slide_sizes(image) -> None:
    geo = ui.tap_geometry(SPP_TAP, OUTPUT_STRIDE, *image.array.shape[:2])
    n = f"{spp.vector_length(geo.channels, SPP_LEVELS):,}"
    sizes = [sizes_figs.scaled_size(image.array.shape[:2], scale) for scale in SCALES]
    maps = [feature_size(size, geo.stride) for size in sizes]
    body("slides.sizes_body", maps=", ".join(f"{a} × {b}" for a, b in maps),
         levels="-".join(map(str, SPP_LEVELS)), n=n)
    photos = [sizes_figs.resize_photo(image.array, size) for size in sizes]
    titles = [t("slides.size_panel", w=size[1], h=size[0], fh=m[0], fw=m[1], n=n)
              for size, m in zip(sizes, maps, strict=True)]
    fig = sizes_figs.sizes_figure(photos, titles, stride=geo.stride,
                                  bins=[SPP_LEVELS[0]] * len(SCALES), width_px=FIGURE_WIDTH)
    fig.update_layout(height=FIGURE_HEIGHT)
    with main_view():
        ui.plotly(fig, key="slide_sizes_fig", name="spp-any-size")


def _taps_view(image, tap: str, *, key: str) -> None:
    geo = ui.tap_geometry(tap, OUTPUT_STRIDE, *image.array.shape[:2])
    payload = taps_payload(image.digest, tap, image.array, geo)
    with main_view():
        ui.view("taps", key=key, payload=payload, labels=ui.taps_labels(),
                state={}, token=ui.view_token(image.digest, tap), testid=f"pv-{key}")


def slide_taps(image) -> None:
    geo = ui.tap_geometry(ASPP_TAP, OUTPUT_STRIDE, *image.array.shape[:2])
    r = rates_for_output_stride(OUTPUT_STRIDE)[0]
    body("slides.taps_body", k=KERNEL, r=r, px=r * geo.stride)
    _taps_view(image, ASPP_TAP, key="slide_taps_view")


def slide_field(image) -> None:
    """Rate vs field, on a map where every rate's taps and field fit on the photo."""
    H, W = image.array.shape[:2]
    geo = ui.tap_geometry(FIELD_TAP, OUTPUT_STRIDE, H, W)
    h, w = geo.feature_size
    boxes = [(name, atrous.branch_taps(geo.field, (h, w), (h // 2, w // 2), rate=rate or 1,
                                       kernel=KERNEL if rate else 1,
                                       image_size=(H, W)).field)
             for name, rate in [("1×1", 0), *((t("aspp.prev_rate", r=r), r)
                                           for r in rates_for_output_stride(OUTPUT_STRIDE))]]
    sizes = ", ".join(t("slides.field_sizes", name=name, w=box.right - box.left,
                        h=box.bottom - box.top) for name, box in boxes)
    body("slides.field_body", tap=FIELD_TAP, s=geo.stride, f=geo.field.size[0], sizes=sizes)
    field_view(image)


def field_view(image) -> None:
    """The rate-vs-field slide's main view: each branch's theoretical field box (taps view).

    Hook: when core offers the averaged effective field (gradient mass within radius r
    against r, one curve per branch, theoretical field marked), draw that plot here, beside
    or instead of the boxes, inside the same ``main_view()``; the sentence above stays.
    """
    _taps_view(image, FIELD_TAP, key="slide_field_view")


def slide_valid(image) -> None:
    geo = ui.tap_geometry(ASPP_TAP, OUTPUT_STRIDE, *image.array.shape[:2])
    h, w = geo.feature_size
    rates = rates_for_output_stride(OUTPUT_STRIDE)
    body("slides.valid_body", h=h, w=w, tap=ASPP_TAP, os=OUTPUT_STRIDE)
    table = atrous.valid_weights_table((h, w), kernel=KERNEL, max_rate=max(h, w, *rates) + 2)
    labels = {key: t(f"aspp.valid_{key}") for key in ("count", "all", "centre", "x", "y",
                                                       "rate")}
    fig = dilation_figs.valid_weights_figure(table, marked=rates, labels=labels,
                                             height=FIGURE_HEIGHT)
    with main_view():
        ui.plotly(fig, key="slide_valid_fig", name="aspp-valid-weights")


def slide_versus(image) -> None:
    features = ui.feature_map(image.digest, ASPP_TAP, OUTPUT_STRIDE, image.array)
    c, h, w = features.shape
    vector, grid = outputs(image.digest, features)
    body("slides.versus_body", c=c, n=f"{vector.size:,}", h=h, w=w)
    figs = (compare_figs.vector_figure(vector, title=t("slides.versus_spp", n=f"{vector.size:,}")),
            compare_figs.map_figure(grid, title=t("slides.versus_aspp", h=h, w=w)))
    with main_view():
        for i, (column, fig) in enumerate(zip(st.columns(2), figs, strict=True)):
            fig.update_layout(height=FIGURE_HEIGHT)
            with column:
                ui.plotly(fig, key=f"slide_versus_fig_{i}", name=f"spp-vs-aspp-{i + 1}")


SHOW = {"problem": slide_problem, "bins": slide_bins, "vector": slide_vector,
        "sizes": slide_sizes, "taps": slide_taps, "field": slide_field, "valid": slide_valid,
        "versus": slide_versus}


def main() -> None:
    st.html(SLIDE_CSS)
    index = slide_index()
    header(index)
    image = ui.current_image()
    SHOW[SLIDES[index - 1]](image)


main()

"""SPP: a feature map split into bin grids becomes one fixed-length vector (He et al. 2015).

All controls sit in one place (folded into one expander in presentation mode). Source and
levels rerun the page; channel and pooling are written into that place by a fragment, so they
rerun only the bins and the pyramid; the level and bin step rerun only the bins figure.
"""

from __future__ import annotations

import io

import numpy as np
import streamlit as st

import ui
from pyramidviz import spp
from pyramidviz.backbones import TAPS
from pyramidviz.compare import feature_size
from pyramidviz.figures import spp as bins_figs
from pyramidviz.figures import spp_pyramid as pyramid_figs
from pyramidviz.figures import spp_rules as rules_figs
from pyramidviz.figures import spp_sizes as sizes_figs
from pyramidviz.figures import style
from ui import t

OUTPUT_STRIDE = 32
SOURCES = [*TAPS, "image"]
DEFAULT_TAP = "stage7"
VIEWS = list(pyramid_figs.CHANNEL_VIEWS)
PRESETS = {"4-2-1": (4, 2, 1), "6-3-2-1": (6, 3, 2, 1), "3-2-1": (3, 2, 1), "custom": None}
DEFAULT_LEVELS = (4, 2, 1)
POOLS = ["max", "avg"]
SCALES = ["0.5", "0.75", "1", "1.5"]
FIXED = 224
WIDTH, PRESENT_WIDTH = 880, 1000  # about how wide a figure shows (px), to size its height
CSV_LIMIT = 50_000  # larger arrays are offered as NPY only (CSV text would slow every rerun)


# ---------------------------------------------------------------- cached computation


@st.cache_data(max_entries=64, show_spinner=False)
def pyramid_pool(digest: str, tap: str, levels: tuple[int, ...], mode: str,
                 _features: np.ndarray) -> np.ndarray:
    """The real SPP vector ``(C * sum(n * n),)`` of the cached feature map."""
    return pyramid_figs.spp_vector(_features, levels, mode)


@st.cache_data(max_entries=32, show_spinner=False)
def ranked_channels(digest: str, tap: str, _features: np.ndarray) -> tuple[int, ...]:
    """The five most active channels (highest mean activation)."""
    return pyramid_figs.top_channels(_features, 5)


@st.cache_data(max_entries=32, show_spinner=False)
def scaled_photo(digest: str, size_hw: tuple[int, int], _photo: np.ndarray) -> np.ndarray:
    """The photo resized to ``size_hw`` (cached per digest and size)."""
    return sizes_figs.resize_photo(_photo, size_hw)


@st.cache_data(max_entries=16, show_spinner=False)
def fixed_inputs(digest: str, _photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 224 x 224 centre crop and warp a fixed-input CNN would need."""
    return sizes_figs.crop_and_warp(_photo, FIXED)


def width_px() -> int:
    return PRESENT_WIDTH if ui.presenting() else WIDTH


# ---------------------------------------------------------------- controls


def source_ui(container) -> str:
    ui.check_param("spp_src", SOURCES)
    return container.selectbox(t("spp.source"), SOURCES, index=SOURCES.index(DEFAULT_TAP),
                               key="spp_src", bind="query-params", help=t("spp.source_help"))


def levels_ui(container) -> tuple[int, ...]:
    """Preset pyramid or a custom list; bad text keeps the last valid levels."""
    ui.check_param("spp_levels", list(PRESETS))
    preset = container.selectbox(t("spp.levels"), list(PRESETS), key="spp_levels",
                                 bind="query-params", help=t("spp.levels_help"))
    if preset != "custom":
        levels = PRESETS.get(preset or "4-2-1") or DEFAULT_LEVELS
        st.session_state["_spp_levels"] = levels
        return levels
    text = container.text_input(t("spp.custom"), value="5, 3, 1", key="spp_custom",
                                bind="query-params", max_chars=60, help=t("spp.custom_help"))
    try:
        levels = spp.parse_levels(text)
    except spp.LevelsError as error:
        fallback = st.session_state.get("_spp_levels", DEFAULT_LEVELS)
        reason = t(f"spp.err_{error.code}", value=ui.escape_md(str(error.value)),
                   max_count=spp.MAX_LEVEL_COUNT, max_level=spp.MAX_LEVEL)
        container.error(t("spp.bad_levels", text=ui.escape_md(text), reason=reason,
                          levels="-".join(map(str, fallback))), icon="🚫")
        return fallback
    st.session_state["_spp_levels"] = levels
    return levels


def pick_channel(channel: str) -> None:
    st.session_state["spp_ch"] = channel


def channel_ui(container, picks, channels: int, top: tuple[int, ...]) -> str:
    """Mean / max over channels or one channel; the most active ones as quick ``picks``."""
    options = VIEWS + [str(c) for c in range(channels)]
    ui.check_param("spp_ch", options)
    channel = container.selectbox(t("spp.channel"), options, key="spp_ch", bind="query-params",
                                  help=t("spp.channel_help", top=", ".join(map(str, top))))
    row = picks.container(horizontal=True, gap="small", vertical_alignment="center")
    row.caption(t("spp.top_label"), width="content")
    for i, c in enumerate(top):
        row.button(f"#{c}", key=f"spp_pick{i}", on_click=pick_channel, args=(str(c),),
                   type="tertiary", help=t("spp.pick_help", c=c))
    return channel or VIEWS[0]


def pool_ui(container) -> str:
    ui.check_param("spp_pool", POOLS)
    mode = container.radio(t("spp.pool"), POOLS, key="spp_pool", bind="query-params",
                           horizontal=True, help=t("spp.pool_help"))
    return mode or "max"


# ---------------------------------------------------------------- 1. bins


def bin_details(view: bins_figs.BinView, mode: str) -> None:
    """The current bin written out: cells, pooled value, winner, pixel boxes."""
    (r0, r1), (c0, c1) = view.rows, view.cols
    winner = (t("spp.winner", r=view.winner[0], c=view.winner[1]) if view.winner
              else t("spp.no_winner"))
    boxes = {name: t("spp.box", x0=box.left, x1=box.right, y0=box.top, y1=box.bottom)
             for name, box in (("stride", view.stride_box), ("field", view.field_box))}
    st.markdown(t("spp.bin_detail", k=view.index + 1, count=view.level ** 2, row=view.row,
                  col=view.col, r0=r0, r1=r1, c0=c0, c1=c1, mode=mode,
                  value=f"{view.value:.4g}", winner=winner, **boxes))


@st.fragment
def bins_section(values: np.ndarray, photo: np.ndarray, levels: tuple[int, ...], mode: str,
                 geometry) -> None:
    """Level and bin step (a fragment: only this part reruns), the figure and the details."""
    options = [str(n) for n in levels]
    left, right = st.columns([1.4, 3] if ui.presenting() else [1, 3])
    ui.check_param("spp_level", options)
    level = int(left.radio(t("spp.level"), options, key="spp_level", bind="query-params",
                           horizontal=True) or options[0])
    count = level * level
    ui.check_int_param("spp_bin", 1, count)
    step = right.slider(t("spp.bin"), 1, count, 1, key="spp_bin", bind="query-params",
                        help=t("spp.bin_help")) if count > 1 else 1
    views = bins_figs.bin_views(values, level, mode=mode, field=geometry.field,
                                image_size=photo.shape[:2])
    current = min(max(int(step), 1), count) - 1
    names = {k: t(f"spp.fig_{k}") for k in ("map", "photo", "bins", "winner", "current",
                                             "stride", "field", "hover", "play", "pause", "step")}
    fig = bins_figs.bins_figure(values, photo, views, current=current, names=names,
                                bin_title=t("spp.bin_title"), width_px=width_px())
    ui.plotly(fig, key="spp_bins_fig", name="spp-bins")
    bin_details(views[current], mode)
    offer(values, name="spp-feature-map", key="spp_map",
          header=f"feature map shown ({values.shape[0]} x {values.shape[1]} cells)")
    if level > bins_figs.ANIMATE_MAX_LEVEL:
        st.caption(t("spp.no_animation", n=bins_figs.ANIMATE_MAX_LEVEL))


# ---------------------------------------------------------------- 2. pyramid


def grids_note(channel: str, mode: str, channels: int) -> None:
    """Say what the grids are when they are not the vector's own entries."""
    meaning = pyramid_figs.grids_meaning(channel, mode)
    if meaning != "entries":
        st.info(t(f"spp.grids_{meaning}", channel=channel, mode=mode, c=channels), icon="ℹ️")


def pyramid_section(values, vector, channels, levels, mode, channel) -> None:
    st.subheader(t("spp.pyramid_title"))
    ui.explain("spp.pyramid_explain", channel=channel, mode=mode)
    grids_note(channel, mode, channels)
    length = t("common.vector_length", c=channels, bins=sum(n * n for n in levels),
               n=vector.size)
    fig = pyramid_figs.pyramid_figure(
        pyramid_figs.view_grids(values, levels, mode), vector, channels=channels,
        title=t("spp.vector_title", length=length), level_title=t("spp.level_grid"),
        segment_label=t("spp.segment"), reduced_note=t("spp.reduced"),
        height=int(style.FIGURE_HEIGHT * (1.35 if ui.presenting() else 1.1)))
    ui.plotly(fig, key="spp_pyramid_fig", name="spp-pyramid")
    st.metric(t("spp.vector_length"), length)
    levels_text = "-".join(map(str, levels))
    offer(vector, name=f"spp-vector-{levels_text}", key="spp_vec",
          header=f"SPP vector (every channel pooled separately), levels {levels_text}, "
                 f"{mode} pooling, C={channels}")


def offer(array: np.ndarray, *, name: str, key: str, header: str) -> None:
    """CSV and NPY downloads; NPY only for large arrays."""
    if array.size <= CSV_LIMIT:
        ui.download_array(array, name=name, key=key, header=header)
        return
    st.caption(t("spp.npy_only", n=array.size))
    buffer = io.BytesIO()
    np.save(buffer, array)
    st.download_button(t("common.download_npy"), buffer.getvalue(), f"{name}.npy",
                       "application/octet-stream", key=f"{key}_npy", on_click="ignore")


@st.fragment
def view_section(slot, choice, tap: str, features: np.ndarray, levels: tuple[int, ...],
                 geometry) -> None:
    """Channel and pooling (written into the controls ``slot``), the bins and the pyramid:
    a fragment, so these controls rerun only this part."""
    left, right = slot.columns([2.6, 1])
    channel = channel_ui(left, slot, features.shape[0],
                         ranked_channels(choice.digest, tap, features))
    mode = pool_ui(right)
    values = pyramid_figs.channel_map(features, channel)
    vector = pyramid_pool(choice.digest, tap, levels, mode, features)
    st.subheader(t("spp.bins_title"))
    ui.explain("spp.bins_explain")
    bins_section(values, choice.array, levels, mode, geometry)
    pyramid_section(values, vector, features.shape[0], levels, mode, channel)


# ---------------------------------------------------------------- 3. sizes, 4. rules


def sizes_section(choice, tap, channels, stride, levels) -> None:
    """Same photo at several sizes: different maps, one vector length; vs crop / warp.

    (The pooling mode changes no length, so max pooling stands in for it here.)
    """
    st.subheader(t("spp.sizes_title"))
    ui.explain("spp.sizes_explain", fixed=FIXED)
    ui.check_param("spp_scale", SCALES)
    scale = st.select_slider(t("spp.scale"), SCALES, value="1", key="spp_scale",
                             bind="query-params") or "1"
    size = sizes_figs.scaled_size(choice.array.shape[:2], float(scale))
    if size == choice.array.shape[:2]:  # the page's own photo: reuse its cached feature map
        digest, photo = choice.digest, choice.array
    else:
        digest = f"{choice.digest}@{size[0]}x{size[1]}"
        photo = scaled_photo(choice.digest, size, choice.array)
    with st.spinner(t("common.working")):
        features = ui.feature_map(digest, tap, OUTPUT_STRIDE, photo)
    vector = pyramid_pool(digest, tap, levels, "max", features)
    (fh, fw), fixed_hw = features.shape[1:], feature_size((FIXED, FIXED), stride)
    titles = [t("spp.size_title", scale=scale, w=size[1], h=size[0], fh=fh, fw=fw),
              *(t(f"spp.{kind}_title", s=FIXED, fh=fixed_hw[0], fw=fixed_hw[1])
                for kind in ("crop", "warp"))]
    fig = sizes_figs.sizes_figure([photo, *fixed_inputs(choice.digest, choice.array)], titles,
                                  stride=stride, bins=[levels[0], None, None],
                                  width_px=width_px())
    ui.plotly(fig, key="spp_sizes_fig", name="spp-sizes")
    left, middle, right = st.columns(3)
    left.metric(t("spp.metric_photo"), f"{size[1]} × {size[0]} px")
    middle.metric(t("spp.metric_map"), f"{fh} × {fw}")
    right.metric(t("spp.vector_length"), t("common.vector_length", c=channels,
                                           bins=sum(n * n for n in levels), n=vector.size))
    rows = sizes_figs.size_table(choice.array.shape[:2], SCALES, fixed=FIXED,
                                 channels=channels, stride=stride, levels=levels)
    st.dataframe([size_row(row, scale) for row in rows], hide_index=True, width="stretch")


def size_row(row: sizes_figs.SizeRow, selected: str) -> dict[str, str]:
    """One row of the sizes table, translated (◀ marks the scale shown above)."""
    name = (f"{row.scale}×{' ◀' if row.scale == selected else ''}" if row.kind == "scaled"
            else t(f"spp.{row.kind}"))
    return {t("spp.col_input"): name, t("spp.col_photo"): f"{row.photo_hw[1]} × {row.photo_hw[0]}",
            t("spp.col_map"): f"{row.map_hw[0]} × {row.map_hw[1]}",
            t("spp.col_flat"): f"{row.flat:,}",
            t("spp.col_spp"): f"{row.spp:,}" if row.spp else t("spp.col_fc")}


def rules_section(feature_hw, levels) -> None:
    st.subheader(t("spp.rules_title"))
    ui.explain("spp.rules_explain")
    st.info(t("spp.rule_used"), icon="ℹ️")
    labels = {k: t(f"spp.rule_{k}") for k in ("rows", "cols", "adaptive", "paper", "wrong",
                                              "uncovered", "zero", "count", "left")}
    height = rules_figs.rules_height(len(levels), scale=1.3 if ui.presenting() else 1.0)
    ui.plotly(rules_figs.rules_figure(feature_hw, levels, labels=labels, height=height),
              key="spp_rules_fig", name="spp-rules")
    limit = min(max(*feature_hw, 16), 40)
    failures = spp.paper_rule_failures(limit, levels)
    st.markdown(t("spp.failures_title", limit=limit, count=len(failures)))
    st.dataframe([{
        "a": r.size, "n": r.bins, t("spp.col_window"): r.window, t("spp.col_stride"): r.stride,
        t("spp.col_windows"): r.n_windows,
        t("spp.col_uncovered"): ", ".join(map(str, r.uncovered)) or "—",
        t("spp.col_here"): "◀" if r.size in feature_hw else "",
    } for r in failures], hide_index=True, width="stretch", height=260)


# ---------------------------------------------------------------- page


def main() -> None:
    st.title(t("spp.title"))
    st.write(t("spp.intro"))
    choice = ui.current_image()
    with ui.controls():
        left, right = st.columns(2)
        tap = source_ui(left)
        levels = levels_ui(right)
        view_slot = st.container()  # channel and pooling: filled by the view fragment
    geometry = ui.tap_geometry(tap, OUTPUT_STRIDE, *choice.array.shape[:2])
    with st.spinner(t("common.working")):
        features = ui.feature_map(choice.digest, tap, OUTPUT_STRIDE, choice.array)
    channels, fh, fw = features.shape
    st.caption(t("spp.source_note", tap=tap, c=channels, fh=fh, fw=fw, s=geometry.stride,
                 r=geometry.field.size[0]))
    view_section(view_slot, choice, tap, features, levels, geometry)
    sizes_section(choice, tap, channels, geometry.stride, levels)
    rules_section((fh, fw), levels)


main()

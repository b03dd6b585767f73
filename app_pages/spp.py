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
from pyramidviz import bins, channel_views, sizes
from pyramidviz.backbones import TAPS
from pyramidviz.figures import spp_rules as rules_figs
from pyramidviz.figures import spp_sizes as sizes_figs
from pyramidviz.images import crop_and_warp, resize_photo
from pyramidviz.papers import FIXED_INPUT
from ui import t

OUTPUT_STRIDE = 32
SOURCES = [*TAPS, "image"]
DEFAULT_TAP = "stage7"  # the backbone's last map, as SPP-net pools the last conv map (BRIEF)
VIEWS = list(channel_views.CHANNEL_VIEWS)
PRESETS = {"4-2-1": (4, 2, 1), "6-3-2-1": (6, 3, 2, 1), "3-2-1": (3, 2, 1), "custom": None}
DEFAULT_LEVELS = (4, 2, 1)
POOLS = ["max", "avg"]
SCALES = ["0.5", "0.75", "1", "1.5"]
FIXED = FIXED_INPUT
RULE_EXAMPLE = (7, 4)  # a, n: the adaptive rule's end is exclusive (bin 0 is cells 0-1)
SHARE_EXAMPLE = (10, 4)  # a, n: two neighbouring bins that share no cell
WIDTH, PRESENT_WIDTH = 880, 1000  # about how wide a figure shows (px), to size its height
CSV_LIMIT = 50_000  # larger arrays are offered as NPY only (CSV text would slow every rerun)


# ---------------------------------------------------------------- cached computation


@st.cache_data(max_entries=64, show_spinner=False)
def pyramid_pool(digest: str, tap: str, levels: tuple[int, ...], mode: str,
                 _features: np.ndarray) -> np.ndarray:
    """The real SPP vector ``(C * sum(n * n),)`` of the cached feature map."""
    return channel_views.spp_vector(_features, levels, mode)


@st.cache_data(max_entries=32, show_spinner=False)
def ranked_channels(digest: str, tap: str, _features: np.ndarray) -> tuple[int, ...]:
    """The five most active channels (highest mean activation)."""
    return channel_views.top_channels(_features, 5)


@st.cache_data(max_entries=32, show_spinner=False)
def scaled_photo(digest: str, size_hw: tuple[int, int], _photo: np.ndarray) -> np.ndarray:
    """The photo resized to ``size_hw`` (cached per digest and size)."""
    return resize_photo(_photo, size_hw)


@st.cache_data(max_entries=16, show_spinner=False)
def fixed_inputs(digest: str, _photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 224 x 224 centre crop and warp a fixed-input CNN would need."""
    return crop_and_warp(_photo, FIXED)


@st.cache_data(max_entries=32, show_spinner=False)
def sizes_figure(key: str, title: str, stride: int, level: int | None, width: int,
                 _photo: np.ndarray):
    """One photo of the sizes section with its cells (and bins): ``key`` names the photo."""
    return sizes_figs.sizes_figure([_photo], [title], stride=stride, bins=[level],
                                   width_px=width)


def width_px() -> int:
    return PRESENT_WIDTH if ui.presenting() else WIDTH


# ---------------------------------------------------------------- controls


def source_ui(container) -> str:
    ui.check_param("spp_src", SOURCES)
    ui.shared_setting("tap", "spp_src", SOURCES)  # as chosen on the ASPP page
    tap = container.selectbox(t("spp.source"), SOURCES, index=SOURCES.index(DEFAULT_TAP),
                              key="spp_src", bind="query-params",
                              help=t("spp.source_help", os=OUTPUT_STRIDE))
    if tap != "image":
        ui.share_setting("tap", "spp_src", tap)
    return tap


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
                                bind="query-params", max_chars=60, help=t("spp.custom_help",
                                                                     max_level=bins.MAX_LEVEL))
    try:
        levels = bins.parse_levels(text)
    except bins.LevelsError as error:
        fallback = st.session_state.get("_spp_levels", DEFAULT_LEVELS)
        reason = t(f"spp.err_{error.code}", value=ui.escape_md(str(error.value)),
                   max_count=bins.MAX_LEVEL_COUNT, max_level=bins.MAX_LEVEL)
        container.error(t("spp.bad_levels", text=ui.escape_md(text), reason=reason,
                          levels="-".join(map(str, fallback))), icon=":material/block:")
        return fallback
    st.session_state["_spp_levels"] = levels
    return levels


def pool_ui(container) -> str:
    ui.check_param("spp_pool", POOLS)
    # The options stay "max" / "avg" in every language (shared links keep working);
    # the captions say what they mean in the reader's language.
    mode = container.radio(t("spp.pool"), POOLS, key="spp_pool", bind="query-params",
                           horizontal=True, help=t("spp.pool_help"),
                           captions=[t(f"spp.pool_{p}") for p in POOLS])
    return mode or "max"


# ---------------------------------------------------------------- 1. the bins view


def shown_channels(features: np.ndarray, top: tuple[int, ...]) -> tuple[str, ...]:
    """Channel views the bins view switches among: max, mean, the most active ones, and the
    one channel the URL or the view asked for."""
    names = [*VIEWS, *map(str, top)]
    asked = st.query_params.get("spp_view")
    if asked is not None and asked not in names:
        if ui.parse_int(asked, 0, features.shape[0] - 1) is None:
            st.warning(t("common.bad_param", key="spp_view"), icon=":material/warning:")
        else:
            names.append(str(int(asked)))
    return tuple(names)


def _asked_channel() -> None:
    """The view asked for a channel it does not carry: put it in the URL, rerun the view."""
    value = st.session_state.get("spp_bins_view", {}).get("channel")
    if value is not None:
        st.query_params["spp_view"] = str(value)


def bins_view(choice, tap: str, features: np.ndarray, levels: tuple[int, ...], mode: str,
              geometry) -> None:
    """The linked bins view: level, bin and channel view switch in the browser."""
    top = ranked_channels(choice.digest, tap, features)
    names = shown_channels(features, top)
    level = ui.url_int("spp_level", 1, bins.MAX_LEVEL, levels[0])
    if level not in levels:
        level = levels[0]
    bin_ = ui.url_int("spp_bin", 1, level * level, 1) - 1
    view = st.query_params.get("spp_view", VIEWS[0])
    ui.mount_spp_bins(key="spp_bins_view", image=choice, levels=levels, field=geometry.field,
                      state={"level": level, "bin": bin_, "view": view}, features=features,
                      tap=tap, mode=mode, names=names, on_channel_change=_asked_channel)


# ---------------------------------------------------------------- 2. pyramid


def grids_note(mode: str, channels: int) -> None:
    """Say what the max/mean views' grids are (they are not the vector's own entries), each
    note named by its view: the view on screen is chosen in the browser, and two unnamed
    notes (one per view) read as contradicting each other."""
    for channel in VIEWS:
        meaning = channel_views.grids_meaning(channel, mode)
        if meaning != "entries":
            note = t(f"spp.grids_{meaning}", channel=t(f"spp.v_view_{channel}"),
                     mode=t(f"spp.mode_{mode}"), c=channels)
            st.caption(t("spp.grids_for", view=t(f"spp.v_view_{channel}"), note=note))


def pyramid_section(vector, channels, levels, mode) -> None:
    length = t("common.vector_length", c=channels, bins=bins.bin_count(levels),
               n=bins.vector_length(channels, levels))
    st.metric(t("spp.vector_length"), length)
    levels_text = "-".join(map(str, levels))
    offer(vector, name=f"spp-vector-{levels_text}", key="spp_vec",
          header=t("spp.csv_vector", levels=levels_text, mode=t(f"spp.mode_{mode}"),
                   c=channels))


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


def how_to_read(tap: str, shape: tuple[int, int, int], geometry, mode: str) -> None:
    """The view's explanations, folded below it: the map, the bins, the grids."""
    channels, fh, fw = shape
    st.caption(t("spp.source_note", tap=tap, c=channels, fh=fh, fw=fw, s=geometry.stride,
                 r=geometry.field.size[0]))
    a, n = SHARE_EXAMPLE
    edges = bins.bin_edges(a, n)
    apart = next(i for i in range(n - 1) if edges[i][1] <= edges[i + 1][0])
    (s1, e1), (s2, e2) = edges[apart], edges[apart + 1]
    ui.explain("spp.bins_explain", a=a, n=n, s1=s1, e1=e1, s2=s2, e2=e2,
               bins=" ".join(f"[{start}, {end})" for start, end in edges))
    grids_note(mode, channels)


@st.fragment
def view_section(slot, choice, tap: str, features: np.ndarray, levels: tuple[int, ...],
                 geometry) -> None:
    """Pooling (written into the controls ``slot``), the bins view and the vector: a
    fragment, so pooling and a channel the view asks for rerun only this part."""
    mode = pool_ui(slot)
    vector = pyramid_pool(choice.digest, tap, levels, mode, features)
    st.markdown(t("spp.try"))
    bins_view(choice, tap, features, levels, mode, geometry)
    pyramid_section(vector, features.shape[0], levels, mode)
    with st.expander(t("spp.explain_title")):
        how_to_read(tap, features.shape, geometry, mode)
    with st.expander(t("spp.map_download")):
        offer(channel_views.channel_map(features, VIEWS[0]), name="spp-feature-map",
              key="spp_map", header=t("spp.csv_map", h=features.shape[1], w=features.shape[2]))


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
    if choice.resized:  # 1x is the photo the app works on, not the upload itself
        (oh, ow), (h, w) = choice.original_hw, choice.photo_hw
        st.caption(t("common.resized_note", ow=ow, oh=oh, w=w, h=h))
    size = sizes.scaled_photo_sizes(choice.photo_hw, SCALES)[SCALES.index(scale)]
    if size == choice.photo_hw:  # the page's own photo
        digest, photo = choice.digest, choice.array
    else:
        digest = f"{choice.digest}@{size[0]}x{size[1]}"
        photo = scaled_photo(choice.digest, size, choice.array)
    # The map's size is ceil(H / stride) x ceil(W / stride) (tests/test_sizes.py checks it
    # against the backbone's real maps): no backbone pass on a 1.5x copy (4.5 MP, 1.3 GB).
    (fh, fw), fixed_hw = (sizes.backbone_map_hw(size, stride),
                          sizes.backbone_map_hw((FIXED, FIXED), stride))
    titles = [t("spp.size_title", scale=scale, w=size[1], h=size[0], fh=fh, fw=fw),
              *(t(f"spp.{kind}_title", s=FIXED, fh=fixed_hw[0], fw=fixed_hw[1])
                for kind in ("crop", "warp"))]
    photos = [photo, *fixed_inputs(choice.digest, choice.array)]
    keys = [digest, f"{choice.digest}:crop", f"{choice.digest}:warp"]
    widths = [p.shape[1] for p in photos]
    # one figure per photo in columns as wide as the photos: one pixel scale side by side,
    # stacked on a phone (so the titles never collide)
    for i, column in enumerate(st.columns(widths)):
        fig = sizes_figure(keys[i], titles[i], stride, [levels[0], None, None][i],
                           int(width_px() * widths[i] / sum(widths)), photos[i])
        with column:
            ui.plotly(fig, key=f"spp_sizes_fig_{i}", name=f"spp-sizes-{i + 1}")
    left, middle, right = st.columns(3)
    left.metric(t("spp.metric_photo"), f"{size[1]} × {size[0]} px")
    middle.metric(t("spp.metric_map"), f"{fh} × {fw}")
    right.metric(t("spp.vector_length"), t("common.vector_length", c=channels,
                                           bins=bins.bin_count(levels),
                                           n=bins.vector_length(channels, levels)))
    rows = sizes.size_table(choice.photo_hw, SCALES, fixed=FIXED, channels=channels,
                            stride=stride, levels=levels)
    st.dataframe([size_row(row, scale) for row in rows], hide_index=True, width="stretch")


def size_row(row: sizes.SizeRow, selected: str) -> dict[str, str]:
    """One row of the sizes table, translated (◀ marks the scale shown above)."""
    name = (f"{row.scale}×{' ◀' if row.scale == selected else ''}" if row.kind == "scaled"
            else t(f"spp.{row.kind}", s=FIXED))
    return {t("spp.col_input"): name, t("spp.col_photo"): f"{row.photo_hw[1]} × {row.photo_hw[0]}",
            t("spp.col_map"): f"{row.map_hw[0]} × {row.map_hw[1]}",
            t("spp.col_flat"): f"{row.flat:,}",
            t("spp.col_spp"): f"{row.spp:,}" if row.spp else t("spp.col_fc")}


def rules_section(map_hw, levels) -> None:
    st.subheader(t("spp.rules_title"))
    ui.explain("spp.rules_explain")
    a, n = RULE_EXAMPLE
    first, end = bins.bin_edges(a, n)[0]
    st.info(t("spp.rule_used", a=a, n=n, first=first, end=end, last=end - 1),
            icon=":material/info:")
    labels = {k: t(f"spp.rule_{k}") for k in ("rows", "cols", "adaptive", "paper", "wrong",
                                              "uncovered", "zero", "count", "left")}
    height = rules_figs.rules_height(len(levels), scale=1.3 if ui.presenting() else 1.0)
    ui.plotly(rules_figs.rules_figure(map_hw, levels, labels=labels, height=height),
              key="spp_rules_fig", name="spp-rules")
    limit = min(max(*map_hw, 16), 40)
    failures = bins.paper_rule_failures(limit, levels)
    st.markdown(t("spp.failures_title", limit=limit, count=len(failures)))
    st.dataframe([{
        "a": r.size, "n": r.bins, t("spp.col_window"): r.window, t("spp.col_stride"): r.stride,
        t("spp.col_windows"): r.n_windows,
        t("spp.col_uncovered"): ", ".join(map(str, r.uncovered)) or "—",
        t("spp.col_here"): "◀" if r.size in map_hw else "",
    } for r in failures], hide_index=True, width="stretch", height=260)


# ---------------------------------------------------------------- page


def main() -> None:
    st.title(t("spp.title"))
    choice = ui.current_image()
    # The page opens on its view (and its "try this" line); the map and the pyramid it
    # shows are chosen just below it, where the explanations introduce them.
    view_box = st.container()
    with ui.controls():
        left, middle, right = st.columns([1, 1, 0.8])
        tap = source_ui(left)
        levels = levels_ui(middle)
        view_slot = right.container()  # pooling: filled by the view fragment
    geometry = ui.tap_geometry(tap, OUTPUT_STRIDE, *choice.array.shape[:2])
    features = ui.feature_map(choice.digest, tap, OUTPUT_STRIDE, choice.array)
    channels, fh, fw = features.shape
    with view_box:
        for n, short in bins.oversized_levels(levels, (fh, fw)).items():
            st.warning(t("spp.level_too_big", n=n, short=short, h=fh, w=fw),
                       icon=":material/grid_off:")
        view_section(view_slot, choice, tap, features, levels, geometry)
    with st.expander(t("spp.intro_title")):
        st.write(t("spp.intro"))
    sizes_section(choice, tap, channels, geometry.stride, levels)
    rules_section((fh, fw), levels)


main()

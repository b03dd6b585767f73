"""ASPP page: receptive fields growing with the dilation rate, on the student's own photo.

Settings (output stride -> DeepLab rates, kernel, backbone stage) rerun the page; the point
and the other overlay controls live in fragments. The backbone runs once per photo, stride
and stage (``ui.feature_map``); effective fields are cached per point and rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import ui
from pyramidviz import aspp
from pyramidviz.figures import aspp as figs
from pyramidviz.figures import style
from ui import t

OS_OPTIONS = ["8", "16", "32"]
KERNELS = [1, 3, 5, 7]
TAPS = ["stage3", "stage4", "stage5", "stage6", "stage7"]
PICK_KEY = "aspp_pick"
SEEN_KEY = "_aspp_pick_seen"
CELL_CURVE = 1  # the clickable cell layer is trace 1 of the taps figure
DEFAULT_STACK = (1, 2, 9)
OUT_CHANNELS = 256


@dataclass(frozen=True)
class Settings:
    """What the page-level controls chose."""

    output_stride: int
    rates: tuple[int, ...]
    kernel: int
    tap: str


def _present() -> bool:
    return bool(st.session_state.get("_present"))


def _height(base: int) -> int:
    return int(base * 1.35) if _present() else base


def _width(share: float) -> int:
    """Rough on-screen width in px of a figure taking ``share`` of the main column."""
    return int((1500 if _present() else 820) * (1.0 if _present() else share))


def _show(fig, *, key: str, name: str, **kwargs) -> object:
    """``ui.plotly`` with larger type in presentation mode (read from the back of a room)."""
    if _present():
        size = style.FONT_SIZE + 6
        fig.update_layout(font={"size": size}, title_font_size=size + 2)
        fig.update_annotations(font={"size": size})
    return ui.plotly(fig, key=key, name=name, **kwargs)


def _rates_text(rates: tuple[int, ...]) -> str:
    return ", ".join(str(r) for r in rates)


def _beside(ratio: tuple[int, int] = (3, 1)):
    """(figure column, text column); stacked in presentation mode."""
    if _present():
        return st.container(), st.container()
    return st.columns(ratio, gap="medium")


def _check_int_param(key: str, lo: int, hi: int) -> None:
    raw = st.query_params.get(key)
    if raw is not None and not (raw.isdigit() and lo <= int(raw) <= hi):
        st.warning(t("common.bad_param", key=key), icon="⚠️")


def settings_ui() -> Settings:
    """Output stride, rates, kernel size and stage (URL-bound)."""
    with ui.controls():
        c1, c2, c3, c4 = st.columns([1.1, 1.4, 0.8, 1])
        ui.check_param("aspp_os", OS_OPTIONS)
        os_text = c1.radio(t("aspp.os"), OS_OPTIONS, index=1, key="aspp_os", horizontal=True,
                           bind="query-params", help=t("aspp.os_help"))
        output_stride = int(os_text)
        defaults = aspp.rates_for_output_stride(output_stride)
        text = c2.text_input(t("aspp.rates"), value="", key="aspp_rates", bind="query-params",
                             placeholder=t("aspp.rates_placeholder",
                                           rates=_rates_text(defaults), os=output_stride),
                             help=t("aspp.rates_help", n=figs.MAX_RATES, max=figs.MAX_RATE))
        ui.check_param("aspp_k", [str(k) for k in KERNELS])
        kernel = c3.selectbox(t("aspp.kernel"), KERNELS, index=1, key="aspp_k",
                              bind="query-params", help=t("aspp.kernel_help"))
        ui.check_param("aspp_tap", TAPS)
        tap = c4.selectbox(t("aspp.tap"), TAPS, index=len(TAPS) - 1, key="aspp_tap",
                           bind="query-params", help=t("aspp.tap_help"))
    rates = defaults
    if text.strip():
        try:
            rates = figs.parse_rates(text)
        except ValueError:
            st.error(t("aspp.bad_rates", text=ui.escape_md(text), n=figs.MAX_RATES,
                       max=figs.MAX_RATE, rates=_rates_text(defaults)), icon="🚫")
    return Settings(output_stride, rates, int(kernel), tap)


def rates_note(settings: Settings, defaults: tuple[int, ...]) -> None:
    """Say where the rates come from (paper, the app's extrapolation, or the student)."""
    rates = _rates_text(settings.rates)
    if settings.rates != defaults:
        st.caption(t("aspp.rates_custom", rates=rates))
    elif settings.output_stride == 32:
        st.caption(t("aspp.rates_os32", rates=rates))
    else:
        st.caption(t("aspp.rates_paper", rates=rates, os=settings.output_stride))


# ---------------------------------------------------------------- cached computations


@st.cache_data(max_entries=8, show_spinner=False)
def photo_layer(digest: str, _array: np.ndarray) -> dict:
    """The photo as a JPEG image trace (dict), encoded once per photo."""
    return figs.photo_trace(_array).to_plotly_json()


@st.cache_data(max_entries=16, show_spinner=False)
def erf_maps(digest: str, output_stride: int, tap: str, point: tuple[int, int],
             rates: tuple[int, ...], feature_size: tuple[int, int], _array: np.ndarray):
    """ERFs of every branch; branches that degenerate to 1x1 reuse its map (same seed)."""
    from pyramidviz.erf import effective_receptive_field

    same = figs.centre_only_rates(feature_size, point, rates)
    live = tuple(r for r in rates if r not in same) or rates[:1]
    result = effective_receptive_field(ui.backbone(output_stride), _array, tap=tap,
                                       point=point, rates=live)
    one = result.branches["1x1"]
    maps = {"1x1": one}
    maps.update({f"rate {r}": result.branches.get(f"rate {r}", one) for r in rates})
    maps["image pool"] = result.branches["image pool"]
    return maps, same


@st.cache_data(max_entries=32, show_spinner=False)
def branch_maps(digest: str, output_stride: int, tap: str, rates: tuple[int, ...],
                channel: str, _features: np.ndarray) -> dict[str, np.ndarray]:
    """``aspp.branch_previews`` of one channel (or the channel mean: previews are linear)."""
    import torch

    plane = (_features.mean(axis=0) if channel == "mean" else _features[int(channel)])
    previews = aspp.branch_previews(torch.from_numpy(np.ascontiguousarray(plane))[None, None],
                                    rates)
    return {name: value[0, 0].numpy() for name, value in previews.items()}


# ---------------------------------------------------------------- 1 + 2: taps and ERF


def _apply_click(feature_size: tuple[int, int]) -> None:
    """Turn a new click on the photo into the row/column inputs' values."""
    state = st.session_state.get(PICK_KEY)
    cell = figs.selection_to_cell(state, feature_size=feature_size, curve_number=CELL_CURVE)
    if cell is None or st.session_state.get(SEEN_KEY) == (state_id := repr(state)):
        return
    st.session_state[SEEN_KEY] = state_id
    st.session_state["aspp_row"], st.session_state["aspp_col"] = cell


def _clamp_point(h: int, w: int) -> None:
    """Keep a point chosen on a larger map inside the current one."""
    moved = False
    for key, top in (("aspp_row", h - 1), ("aspp_col", w - 1)):
        value = st.session_state.get(key)
        if isinstance(value, int) and value > top:
            st.session_state[key] = top
            moved = True
    if moved:
        st.info(t("aspp.point_clamped", h=h, w=w), icon="↘️")


def point_ui(geo) -> tuple[int, int]:
    (h, w) = geo.feature_size
    _apply_click(geo.feature_size)
    _clamp_point(h, w)
    c1, c2, c3 = st.columns([1, 1, 2] if _present() else [1, 1, 3])
    row = ui.bounded_int(c1, t("aspp.row", max=h - 1), key="aspp_row", lo=0, hi=h - 1,
                         default=h // 2, help=t("aspp.point_help"))
    col = ui.bounded_int(c2, t("aspp.col", max=w - 1), key="aspp_col", lo=0, hi=w - 1,
                         default=w // 2, help=t("aspp.point_help"))
    y, x = geo.field.center(row, col)
    c3.markdown(t("aspp.point_text", row=row, col=col, h=h, w=w, x=f"{x:g}", y=f"{y:g}"))
    return row, col


@st.fragment
def taps_section(image, settings: Settings, geo) -> None:
    """Point controls, the taps figure (clickable) and the effective fields."""
    point = point_ui(geo)
    H, W = image.array.shape[:2]
    labels = {"1x1": t("aspp.legend_1x1"), "rate": t("aspp.legend_rate"),
              "pool": t("aspp.legend_pool"), "point": t("aspp.legend_point"),
              "hover": t("aspp.hover_cell") + " (%{customdata[0]}, %{customdata[1]})"}
    fig = figs.taps_figure(photo_layer(image.digest, image.array), image_size=(H, W),
                           field=geo.field, feature_size=geo.feature_size, point=point,
                           rates=settings.rates, kernel=settings.kernel, labels=labels,
                           height=_height(560))
    left, right = _beside()
    with left:
        _show(fig, key=PICK_KEY, name="aspp-taps", on_select="rerun", selection_mode="points")
    with right:
        r0, j = settings.rates[0], geo.stride
        ui.explain("aspp.taps_explain", k=settings.kernel, j=j, r=r0, px=r0 * j)
    erf_section(image, settings, geo, point)


def erf_section(image, settings: Settings, geo, point: tuple[int, int]) -> None:
    st.subheader(t("aspp.erf_header"))
    with st.spinner(t("aspp.erf_computing")):
        maps, same = erf_maps(image.digest, settings.output_stride, settings.tap, point,
                              settings.rates, tuple(geo.feature_size), image.array)
    branches = [(_branch_title(name), erf) for name, erf in maps.items()]
    fig = figs.erf_figure(branches, image_size=image.array.shape[:2],
                          radius_label=t("aspp.erf_radius"), width_px=_width(1.0))
    _show(fig, key="aspp_erf_fig", name="aspp-effective-fields")
    ui.explain("aspp.erf_explain")
    if same:
        st.caption(t("aspp.erf_same", rates=_rates_text(same)))
    if settings.kernel != 3:
        st.caption(t("aspp.erf_kernel_note"))
    radii = np.array([[erf.r50, erf.r90] for erf in maps.values()])
    names = " | ".join(maps)
    ui.download_array(radii, name="aspp-erf-radii", key="aspp_dl_radii",
                      header=f"# rows: {names}\nr50_px,r90_px")
    stack = np.stack([erf.map for erf in maps.values()])
    st.download_button(t("aspp.download_erf_maps"), _npy_bytes(stack), "aspp-erf-maps.npy",
                       "application/octet-stream", key="aspp_dl_erf_npy", on_click="ignore")


def _branch_title(name: str) -> str:
    """'1x1', 'rate 6', 'image pool' in the current language."""
    if name == "1x1":
        return "1×1"
    if name == "image pool":
        return t("aspp.pool_short")
    return t("aspp.prev_rate", r=name.split()[-1])


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# ---------------------------------------------------------------- 3: outputs and shapes


@st.fragment
def outputs_section(image, settings: Settings, geo) -> None:
    st.subheader(t("aspp.outputs_header"))
    features = ui.feature_map(image.digest, settings.tap, settings.output_stride, image.array)
    C, h, w = features.shape
    options = ["mean"] + [str(c) for c in range(C)]
    ui.check_param("aspp_ch", options)
    channel = st.selectbox(t("aspp.channel"), options, key="aspp_ch", bind="query-params",
                           help=t("aspp.channel_help", c=C))
    maps = branch_maps(image.digest, settings.output_stride, settings.tap, settings.rates,
                       channel, features)
    titles = {name: (t("aspp.prev_1x1") if name == "1x1" else t("aspp.prev_pool")
                     if name == "image pool" else t("aspp.prev_rate", r=name.split()[-1]))
              for name in maps}
    fig = figs.previews_figure(maps, titles=titles, width_px=_width(1.0),
                               title=t("aspp.prev_title"))
    _show(fig, key="aspp_prev_fig", name="aspp-branch-outputs")
    ui.explain("aspp.outputs_explain", h=h, w=w)
    stack = np.stack(list(maps.values()))
    ui.download_array(stack, name="aspp-branch-outputs", key="aspp_dl_prev",
                      header=f"# rows: {' | '.join(maps)}; {h} x {w} cells each, row-major")
    shapes_table(C, (h, w), settings.rates)


def shapes_table(channels: int, size: tuple[int, int], rates: tuple[int, ...]) -> None:
    st.markdown(f"**{t('aspp.shapes_header', o=OUT_CHANNELS)}**")
    steps = {"input": t("aspp.shape_input"), "1x1": t("aspp.shape_1x1"),
             "image pool": t("aspp.shape_pool"), "concat": t("aspp.shape_concat"),
             "project": t("aspp.shape_project")}
    rows = figs.shape_rows(channels, size, rates, out_channels=OUT_CHANNELS)
    st.table({t("aspp.shape_step"): [steps.get(s) or t("aspp.shape_rate", r=s.split()[-1])
                                     for s, _ in rows],
              t("aspp.shape_shape"): [shape for _, shape in rows]}, hide_index=True)
    params = aspp.aspp_parameter_count(channels, OUT_CHANNELS, rates)
    macs = aspp.aspp_macs(channels, OUT_CHANNELS, rates, size)
    st.caption(t("aspp.params", n=params, c=channels, m=macs / 1e9, r=len(rates)))


# ---------------------------------------------------------------- 4: valid weights


def valid_section(settings: Settings, geo) -> None:
    st.subheader(t("aspp.valid_header"))
    h, w = geo.feature_size
    top = min(max(h, w, *settings.rates) + 2, 4 * figs.MAX_RATE)
    table = figs.valid_weights_table((h, w), kernel=settings.kernel, max_rate=top)
    labels = {key: t(f"aspp.valid_{key}") for key in ("count", "all", "centre", "x", "y",
                                                       "rate")}
    fig = figs.valid_weights_figure(table, marked=settings.rates, labels=labels,
                                    height=_height(style.FIGURE_HEIGHT))
    left, right = _beside()
    with left:
        _show(fig, key="aspp_valid_fig", name="aspp-valid-weights")
    with right:
        ui.explain("aspp.valid_explain", h=h, w=w, k=settings.kernel)
        st.markdown(t("aspp.valid_pooling"))
    data = np.column_stack([table.rates, table.share])
    header = "rate," + ",".join(f"share_{c}_valid" for c in table.counts)
    ui.download_array(data, name="aspp-valid-weights", key="aspp_dl_valid", header=header)


# ---------------------------------------------------------------- 5: gridding


def gridding_section(settings: Settings) -> None:
    st.subheader(t("aspp.grid_header"))
    text = st.text_input(t("aspp.stack"), value=_rates_text(DEFAULT_STACK), key="aspp_stack",
                         bind="query-params", help=t("aspp.stack_help"))
    try:
        custom = figs.parse_rates(text, distinct=False, max_count=6, max_rate=32)
        if len(custom) < 2:
            raise ValueError(text)
    except ValueError:
        st.error(t("aspp.bad_stack", text=ui.escape_md(text), rates=_rates_text(DEFAULT_STACK)),
                 icon="🚫")
        custom = DEFAULT_STACK
    k = settings.kernel
    reports = [aspp.hdc_check(rates, k) for rates in ((2, 2, 2), (1, 2, 5), custom)]
    stacks = [(t("aspp.grid_title", rates=_rates_text(r.rates), holes=r.holes),
               aspp.stack_coverage(r.rates, k)) for r in reports]
    fig = figs.gridding_figure(stacks, width_px=_width(0.75))
    left, right = _beside()
    with left:
        _show(fig, key="aspp_grid_fig", name="aspp-gridding")
    with right:
        ui.explain("aspp.grid_explain")
    for report, (_, coverage) in zip(reports, stacks, strict=True):
        st.markdown(_hdc_line(report, coverage))
    st.caption(t("aspp.hdc_caveat"))


def _hdc_line(report: aspp.HDCReport, coverage: aspp.Coverage) -> str:
    m2 = report.max_distances[1]
    return t("aspp.hdc_line", rates=_rates_text(report.rates), m2=m2, k=report.kernel,
             m_mark="≤" if report.max_distance_ok else ">", g=report.common_factor,
             verdict=t("aspp.hdc_pass" if report.ok else "aspp.hdc_fail"),
             holes=report.holes, total=coverage.span ** 2)


# ---------------------------------------------------------------- 6: the sliding kernel


@st.fragment
def animation_section(settings: Settings) -> None:
    st.subheader(t("aspp.anim_header"))
    specs = (("aspp_an_i", "anim_size", 5, 11, 9), ("aspp_an_d", "anim_rate", 1, 4, 2),
             ("aspp_an_p", "anim_pad", 0, 4, 2), ("aspp_an_s", "anim_stride", 1, 3, 1))
    values = []
    for column, (key, label, lo, hi, default) in zip(st.columns(4), specs, strict=True):
        _check_int_param(key, lo, hi)
        values.append(column.slider(t(f"aspp.{label}"), lo, hi, default, key=key,
                                    bind="query-params"))
    i, d, p, s = values
    k = settings.kernel
    out = figs.conv_output_size(i, k, padding=p, stride=s, dilation=d)
    st.markdown(t("aspp.anim_formula", i=i, p=p, d=d, k=k, s=s, o=out))
    if out < 1:
        st.warning(t("aspp.anim_nofit", k=k, d=d, span=d * (k - 1) + 1, n=i + 2 * p))
        return
    labels = {"input": t("aspp.anim_input"), "output": t("aspp.anim_output", o=out),
              "play": t("aspp.anim_play"), "pause": t("aspp.anim_pause"),
              "position": t("aspp.anim_position")}
    fig = figs.sliding_kernel_figure(i, k, rate=d, padding=p, stride=s, labels=labels,
                                     height=_height(460))
    left, right = _beside()
    with left:
        _show(fig, key="aspp_anim_fig", name="aspp-sliding-kernel")
    with right:
        ui.explain("aspp.anim_explain", k=k, kk=k * k)


# ---------------------------------------------------------------- the page


def main() -> None:
    st.title(t("aspp.title"))
    st.write(t("aspp.intro"))
    image = ui.current_image()
    settings = settings_ui()
    rates_note(settings, aspp.rates_for_output_stride(settings.output_stride))
    H, W = image.array.shape[:2]
    geo = ui.tap_geometry(settings.tap, settings.output_stride, H, W)
    h, w = geo.feature_size
    st.caption(t("aspp.map_info", tap=settings.tap, os=settings.output_stride, c=geo.channels,
                 h=h, w=w, j=geo.stride, fh=geo.field.size[0], fw=geo.field.size[1],
                 H=H, W=W))
    st.subheader(t("aspp.taps_header"))
    taps_section(image, settings, geo)
    outputs_section(image, settings, geo)
    valid_section(settings, geo)
    gridding_section(settings)
    animation_section(settings)


main()

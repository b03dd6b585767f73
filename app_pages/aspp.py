"""ASPP page: receptive fields growing with the dilation rate, on the student's own photo.

Settings (output stride -> DeepLab rates, kernel, backbone stage) rerun the page; the point
and the other overlay controls live in fragments. The backbone runs once per photo, stride
and stage (``ui.feature_map``); effective fields are cached per point, rates and kernel.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import streamlit as st

import ui
from pyramidviz import aspp, atrous, papers, style
from pyramidviz.compare import aspp_shapes
from pyramidviz.figures import aspp_dilation as dilation_figs
from pyramidviz.figures import aspp_panels as panel_figs
from pyramidviz.sizes import conv_output_size
from ui import t

OS_OPTIONS = ["8", "16", "32"]
DEFAULT_OS = "16"  # DeepLab v3's default
KERNELS = [1, 3, 5, 7]
TAPS = ["stage3", "stage4", "stage5", "stage6", "stage7"]
DEFAULT_TAP = "stage7"  # the backbone's last map, as on the SPP and Compare pages (BRIEF)
DEFAULT_STACK = (1, 2, 9)
GRID_EXAMPLE, HDC_EXAMPLE = (2, 2, 2), (1, 2, 5)  # gridding and Wang et al.'s HDC rates
OUT_CHANNELS = papers.DEEPLAB_CHANNELS
RATE_LIMITS = {"min_count": 1, "max_count": aspp.MAX_RATES, "max_rate": aspp.MAX_RATE}
STACK_LIMITS = {"min_count": 2, "max_count": 6, "max_rate": 32}


@dataclass(frozen=True)
class Settings:
    """What the page-level controls chose."""

    output_stride: int
    rates: tuple[int, ...]
    kernel: int
    tap: str


def _height(base: int) -> int:
    return int(base * 1.35) if ui.presenting() else base


def _width(share: float) -> int:
    """Rough on-screen width in px of a figure taking ``share`` of the main column."""
    return 1100 if ui.presenting() else int(820 * share)


def _rates_text(rates: tuple[int, ...]) -> str:
    return ", ".join(str(r) for r in rates)


def _beside(ratio: tuple[int, int] = (3, 1)):
    """(figure column, text column); stacked in presentation mode."""
    if ui.presenting():
        return st.container(), st.container()
    return st.columns(ratio, gap="medium")


def _parsed(text: str, fallback: tuple[int, ...], *, message: str, limits: dict,
            distinct: bool = True) -> tuple[int, ...]:
    """Rates typed in ``text``, or ``fallback`` with a translated error saying why not."""
    try:
        return aspp.parse_rates(text, distinct=distinct, **limits)
    except aspp.RatesError as error:
        reason = t(f"aspp.err_{error.code}", min=limits["min_count"], n=limits["max_count"],
                   max=limits["max_rate"])
        st.error(t(message, text=ui.escape_md(text), reason=reason,
                   rates=_rates_text(fallback)), icon=":material/block:")
        return fallback


def output_stride_ui(container, label: str, *, key: str, help: str) -> str:
    """The output stride: one control, one order (8, 16, 32) on the ASPP and Compare pages."""
    return container.segmented_control(label, OS_OPTIONS, default=DEFAULT_OS, required=True,
                                       key=key, bind="query-params", help=help) or DEFAULT_OS


def settings_ui() -> Settings:
    """Output stride, rates, kernel size and stage (URL-bound)."""
    with ui.controls():
        c1, c2, c3, c4 = st.columns([1.1, 1.4, 0.8, 1])
        ui.check_param("aspp_os", OS_OPTIONS)
        ui.shared_setting("os", "aspp_os", OS_OPTIONS)
        output_stride = int(output_stride_ui(c1, t("aspp.os"), key="aspp_os",
                                             help=t("aspp.os_help")))
        ui.share_setting("os", "aspp_os", output_stride)
        defaults = aspp.rates_for_output_stride(output_stride)
        text = c2.text_input(t("aspp.rates"), value="", key="aspp_rates", bind="query-params",
                             placeholder=t("aspp.rates_placeholder",
                                           rates=_rates_text(defaults), os=output_stride),
                             help=t("aspp.rates_help", n=aspp.MAX_RATES, max=aspp.MAX_RATE))
        ui.check_param("aspp_k", [str(k) for k in KERNELS])
        kernel = c3.selectbox(t("aspp.kernel"), KERNELS, index=1, key="aspp_k",
                              bind="query-params", help=t("aspp.kernel_help"))
        ui.check_param("aspp_tap", TAPS)
        ui.shared_setting("tap", "aspp_tap", TAPS)
        tap = c4.selectbox(t("aspp.tap"), TAPS, index=TAPS.index(DEFAULT_TAP), key="aspp_tap",
                           bind="query-params", help=t("aspp.tap_help"))
        ui.share_setting("tap", "aspp_tap", tap)
    rates = defaults
    if text.strip():
        rates = _parsed(text, defaults, message="aspp.bad_rates", limits=RATE_LIMITS)
    else:  # an empty box looks switched off: say what it does when empty
        st.caption(t("aspp.rates_unused", os=output_stride, rates=_rates_text(defaults)))
    return Settings(output_stride, rates, int(kernel), tap)


def settings_note(settings: Settings, geo, image_hw: tuple[int, int]) -> None:
    """Where the rates come from, and the map they act on (after the picture)."""
    source = aspp.rates_source(settings.rates, settings.output_stride)
    st.caption(t(f"aspp.rates_{source}", rates=_rates_text(settings.rates),
                 os=settings.output_stride))
    (h, w), (H, W) = geo.feature_size, image_hw
    st.caption(t("aspp.map_info", tap=settings.tap, os=settings.output_stride, c=geo.channels,
                 h=h, w=w, j=geo.stride, fh=geo.field.size[0], fw=geo.field.size[1],
                 H=H, W=W))
    whole, total = geo.field.whole_image_cells((h, w), (H, W)), h * w
    variant = "all" if whole == total else "none" if whole == 0 else "some"  # true by the numbers
    st.caption(t({"all": "aspp.full_cells_all", "none": "aspp.full_cells_none",
                  "some": "aspp.full_cells"}[variant], n=whole, total=total, rest=total - whole,
                 fh=geo.field.size[0], fw=geo.field.size[1]))


# ---------------------------------------------------------------- cached computations


def erf_skip(image) -> tuple[str, ...]:
    """Samples :func:`erf.erf_inputs` leaves out: the photo's own, when it is a sample."""
    return () if image.is_upload else (image.name,)


def erf_pool(digest: str, output_stride: int, tap: str, skip: tuple[str, ...],
             _array: np.ndarray, *, what: str) -> np.ndarray:
    """The image pool's gradient over :func:`erf.erf_inputs` (shared, read-only): it sees
    the whole photo and not the cell, so once per photo, stride and stage."""
    from pyramidviz.erf import erf_inputs, image_pool_gradient

    def compute() -> np.ndarray:
        return image_pool_gradient(ui.backbone(output_stride), erf_inputs(_array, skip=skip),
                                   tap=tap)

    return ui.computed(("erf_pool", digest, output_stride, tap, skip), compute, what=what)


def erf_maps(digest: str, output_stride: int, tap: str, point: tuple[int, int],
             rates: tuple[int, ...], kernel: int, skip: tuple[str, ...],
             _array: np.ndarray) -> dict:
    """``{branch: erf.ERFMap}`` averaged over :func:`erf.erf_inputs` (shared, read-only),
    computed once on the shared pool: the branches on the crop that holds their fields
    (``erf.aligned_crop``), the image pool from :func:`erf_pool`."""
    from pyramidviz.erf import averaged_effective_receptive_field, erf_inputs

    what = t("aspp.erf_what", row=point[0], col=point[1])
    pool = erf_pool(digest, output_stride, tap, skip, _array, what=what) if rates else None

    def compute() -> dict:
        result = averaged_effective_receptive_field(
            ui.backbone(output_stride), erf_inputs(_array, skip=skip), tap=tap, point=point,
            rates=rates, kernel=kernel, pool=pool)
        return dict(result.branches)

    return ui.computed(("erf", digest, output_stride, tap, point, rates, kernel, skip), compute,
                       what=what)


@st.cache_data(max_entries=32, show_spinner=False)
def branch_maps(digest: str, output_stride: int, tap: str, rates: tuple[int, ...], kernel: int,
                channel: str, _features: np.ndarray) -> dict[str, np.ndarray]:
    """``aspp.branch_previews`` of one channel (or the channel mean: previews are linear)."""
    import torch

    plane = _features.mean(axis=0) if channel == "mean" else _features[int(channel)]
    previews = aspp.branch_previews(torch.tensor(plane)[None, None],
                                    rates, kernel=kernel)
    return {name: value[0, 0].numpy() for name, value in previews.items()}


# ---------------------------------------------------------------- 1 + 2: taps and ERF


def _erf_asked() -> None:
    """The view asked for the effective field at its cell: keep that cell (and the URL)."""
    cell = st.session_state.get("aspp_taps_view", {}).get("erf_cell")
    if cell is not None:
        st.session_state["_aspp_erf_cell"] = tuple(int(x) for x in cell)
        st.session_state["_aspp_erf_on"] = True


@st.fragment
def taps_section(image, settings: Settings, geo) -> None:
    """The taps view (every cell move happens in the browser) and the effective fields,
    which the view asks for: a fragment, so that request reruns only this part."""
    h, w = geo.feature_size
    cell, where = ui.carried_cell("aspp_cell", geo, image)
    if ui.cell_map_changed("aspp_cell"):  # a new map: the carried cell wins
        st.session_state.pop("_aspp_erf_cell", None)
    asked = st.session_state.get("_aspp_erf_cell")
    if asked is not None and asked[0] < h and asked[1] < w:
        cell = asked
    st.markdown(t("aspp.try"))
    ui.mount_taps("aspp", key="aspp_taps_view", image=image, field=geo.field,
                  feature_size=geo.feature_size, stride=geo.stride, rates=settings.rates,
                  kernel=settings.kernel, cell=cell, where=where, url_key="aspp_cell", erf=True,
                  on_erf_cell_change=_erf_asked)
    erf_section(image, settings, geo, cell)  # right below the view, where its button is
    with st.expander(t("aspp.explain_title")):
        how_to_read(settings, geo, image.array.shape[:2])


def how_to_read(settings: Settings, geo, image_hw: tuple[int, int]) -> None:
    """The taps view's explanations, folded below it: the map, the taps, the spacing."""
    settings_note(settings, geo, image_hw)
    r0, j = settings.rates[0], geo.stride
    ui.explain("aspp.taps_explain", k=settings.kernel, j=j, r=r0, px=r0 * j)
    spacings = aspp.tap_spacings()  # {16: ((6, 96), ...), 8: ((12, 96), ...)}
    pairs = []
    for column in zip(*spacings.values(), strict=True):
        same = " = ".join(t("aspp.spacing_item", os=os_, r=r)
                          for os_, (r, _) in zip(spacings, column, strict=True))
        pairs.append(t("aspp.spacing_pair", pairs=same, px=column[0][1]))
    st.caption(t("aspp.spacing", pairs="; ".join(pairs)))


ERF_SCALES = ("common", "panel")
RADIAL_SAMPLES = 160  # radii per curve of the radial profile


def erf_section(image, settings: Settings, geo, point: tuple[int, int]) -> None:
    """The effective fields at ``point``, computed on demand (a backward pass of every branch
    over several images): the view's "Effective field here" or this section's button turns
    them on for this session, and they then follow the chosen cell."""
    from pyramidviz.erf import ERF_INPUTS, common_scale, field_reach, mass_within

    skip = erf_skip(image)
    n = ERF_INPUTS - len(skip)
    st.subheader(t("aspp.erf_header", row=point[0], col=point[1], n=n))
    if not st.session_state.get("_aspp_erf_on"):
        st.caption(t("aspp.erf_on_demand", n=n))
        slot = st.empty()  # the progress, then the fields, take the button's place
        if not slot.button(t("aspp.erf_compute", row=point[0], col=point[1]),
                           key="aspp_erf_go", icon=":material/blur_on:"):
            return
        slot.empty()
        st.session_state["_aspp_erf_on"] = True
    maps = erf_maps(image.digest, settings.output_stride, settings.tap, point, settings.rates,
                    settings.kernel, skip, image.array)
    branches = [(_branch_title(name, short=True), erf) for name, erf in maps.items()]
    ui.check_param("aspp_erf_scale", ERF_SCALES)
    scale = st.segmented_control(t("aspp.erf_scale"), ERF_SCALES, default="common",
                                 key="aspp_erf_scale", bind="query-params",
                                 format_func=lambda s: t(f"aspp.erf_scale_{s}"),
                                 help=t("aspp.erf_scale_help")) or "common"
    shown = (list(common_scale(maps).values()) if scale == "common"
             else [m.map for m in maps.values()])
    figures = panel_figs.one_per_panel(panel_figs.erf_figure, branches, shown=shown,
                                       photo_hw=image.array.shape[:2],
                                       radius_label=t("aspp.erf_radius"), width_px=_width(1.0),
                                       columns=len(branches))
    _panel_columns(figures, key="aspp_erf_fig", name="aspp-effective-field")
    ui.explain("aspp.erf_explain", n=n)
    st.markdown(f"**{t('aspp.erf_radial_header')}**")
    reach = [field_reach(m.theoretical, m.center) for m in maps.values()]
    radii = np.linspace(0.0, max([*reach, 1.0]), RADIAL_SAMPLES)
    radial = panel_figs.erf_radial_figure(
        branches, radii=radii, mass=[mass_within(m.map, m.center, radii)
                                     for m in maps.values()], reach=reach,
        labels={k: t(f"aspp.erf_radial_{k}") for k in ("x", "y", "r50", "r90", "field")},
        height=_height(style.FIGURE_HEIGHT))
    ui.plotly(radial, key="aspp_erf_radial", name="aspp-effective-field-radius")
    ui.explain("aspp.erf_radial_explain", n=n)
    same = aspp.centre_only_rates(geo.feature_size, point, settings.rates,
                                  kernel=settings.kernel)
    if settings.kernel == 1:
        st.caption(t("aspp.erf_same_k1"))
    elif same:
        st.caption(t("aspp.erf_same", rates=_rates_text(same)))
    radii = np.array([[erf.r50, erf.r90] for erf in maps.values()])
    rows = " | ".join(_branch_title(name, short=True) for name in maps)
    ui.download_array(radii, name="aspp-erf-radii", key="aspp_dl_radii",
                      header=t("aspp.csv_radii", rows=rows))
    buffer = io.BytesIO()
    np.save(buffer, np.stack([erf.map for erf in maps.values()]))
    st.download_button(t("aspp.download_erf_maps"), buffer.getvalue(), "aspp-erf-maps.npy",
                       "application/octet-stream", key="aspp_dl_erf_npy", on_click="ignore")


def _panel_columns(figures, *, key: str, name: str) -> None:
    """One figure per branch in columns: side by side on a wide screen, stacked on a
    phone (Streamlit stacks columns below 640 px), so no panel title hits another."""
    for i, (column, fig) in enumerate(zip(st.columns(len(figures)), figures, strict=True)):
        with column:
            ui.plotly(fig, key=f"{key}_{i}", name=f"{name}-{i + 1}")


def _branch_title(name: str, *, short: bool = False) -> str:
    """'1x1', 'rate 6', 'image pool' in the current language."""
    if name == "1x1":
        return "1×1" if short else t("aspp.prev_1x1")
    if name == "image pool":
        return t("aspp.pool_short" if short else "aspp.prev_pool")
    return t("aspp.prev_rate", r=name.split()[-1])


# ---------------------------------------------------------------- 3: outputs and shapes


@st.fragment
def outputs_section(image, settings: Settings) -> None:
    st.subheader(t("aspp.outputs_header"))
    features = ui.feature_map(image.digest, settings.tap, settings.output_stride, image.array)
    C, h, w = features.shape
    options = ["mean"] + [str(c) for c in range(C)]
    ui.check_param("aspp_ch", options)
    channel = st.selectbox(t("aspp.channel"), options, key="aspp_ch", bind="query-params",
                           help=t("aspp.channel_help", c=C))
    maps = branch_maps(image.digest, settings.output_stride, settings.tap, settings.rates,
                       settings.kernel, channel, features)
    titles = {name: _branch_title(name, short=ui.presenting()) for name in maps}
    figures = panel_figs.one_per_panel(panel_figs.previews_figure, maps, titles=titles,
                                       width_px=_width(1.0), columns=len(maps))
    st.markdown(f"**{t('aspp.prev_title')}**")
    _panel_columns(figures, key="aspp_prev_fig", name="aspp-branch-output")
    ui.explain("aspp.outputs_explain", h=h, w=w, k=settings.kernel)
    ui.download_array(np.stack(list(maps.values())), name="aspp-branch-outputs",
                      key="aspp_dl_prev",
                      header=t("aspp.csv_prev", h=h, w=w, rows=" | ".join(
                          _branch_title(name, short=True) for name in maps)))
    shapes_table(C, (h, w), settings)


def shapes_table(channels: int, size: tuple[int, int], settings: Settings) -> None:
    rates, k = settings.rates, settings.kernel
    st.markdown(f"**{t('aspp.shapes_header', o=OUT_CHANNELS)}**")
    steps = {"input": t("aspp.shape_input"), "1x1": t("aspp.shape_1x1"),
             "image pool": t("aspp.shape_pool"), "concat": t("aspp.shape_concat"),
             "project": t("aspp.shape_project")}
    rows = aspp_shapes(channels, size, rates, out_channels=OUT_CHANNELS)
    st.table({t("aspp.shape_step"): [steps.get(s) or t("aspp.shape_rate", k=k, r=s.split()[-1])
                                     for s, _ in rows],
              t("aspp.shape_shape"): [" × ".join(map(str, shape)) for _, shape in rows]},
             hide_index=True)
    params = aspp.aspp_parameter_count(channels, OUT_CHANNELS, rates, kernel=k)
    macs = aspp.aspp_macs(channels, OUT_CHANNELS, rates, size, kernel=k)
    real = aspp.aspp_macs_on_map(channels, OUT_CHANNELS, rates, size, kernel=k)
    st.caption(t("aspp.params", n=params, c=channels, m=macs / 1e9, r=len(rates), k=k,
                 bn=aspp.aspp_batchnorm_parameter_count(OUT_CHANNELS, rates), real=real / 1e9,
                 share=aspp.atrous_tap_share(size, rates, kernel=k)))


# ---------------------------------------------------------------- 4: valid weights


def valid_section(settings: Settings, geo) -> None:
    st.subheader(t("aspp.valid_header"))
    h, w = geo.feature_size
    table = atrous.valid_weights_table((h, w), kernel=settings.kernel,
                                              max_rate=max(h, w, *settings.rates) + 2)
    labels = {key: t(f"aspp.valid_{key}") for key in ("count", "all", "centre", "x", "y",
                                                       "rate")}
    fig = dilation_figs.valid_weights_figure(table, marked=settings.rates, labels=labels,
                                             height=_height(style.FIGURE_HEIGHT))
    left, right = _beside()
    with left:
        ui.plotly(fig, key="aspp_valid_fig", name="aspp-valid-weights")
    with right:
        ui.explain("aspp.valid_explain", h=h, w=w, k=settings.kernel)
        st.markdown(t("aspp.valid_pooling"))
    header = ",".join([t("aspp.csv_valid_rate"), *(t("aspp.csv_valid_share", c=c)
                                                      for c in table.counts)])
    ui.download_array(np.column_stack([table.rates, table.share]), name="aspp-valid-weights",
                      key="aspp_dl_valid", header=header)


# ---------------------------------------------------------------- 5: gridding


def gridding_section(settings: Settings) -> None:
    st.subheader(t("aspp.grid_header"))
    text = st.text_input(t("aspp.stack"), value=_rates_text(DEFAULT_STACK), key="aspp_stack",
                         bind="query-params",
                         help=t("aspp.stack_help", max=STACK_LIMITS["max_rate"],
                                fewest=STACK_LIMITS["min_count"], most=STACK_LIMITS["max_count"],
                                example=_rates_text(DEFAULT_STACK)))
    custom = _parsed(text, DEFAULT_STACK, message="aspp.bad_stack", limits=STACK_LIMITS,
                     distinct=False)
    reports = [atrous.hdc_check(rates, settings.kernel)
               for rates in (GRID_EXAMPLE, HDC_EXAMPLE, custom)]
    ui.mount_gridding(key="aspp_grid_view", stacks=[r.rates for r in reports],
                      kernel=settings.kernel)
    lattice = atrous.stack_coverage(GRID_EXAMPLE, settings.kernel)
    # a 1 x 1 kernel has no taps to spread: the lattice sentence would be false there
    ui.explain("aspp.grid_explain_k1" if settings.kernel == 1 else "aspp.grid_explain",
               reached=lattice.span ** 2 - lattice.holes, total=lattice.span ** 2,
               grid=_rates_text(GRID_EXAMPLE), hdc=_rates_text(HDC_EXAMPLE),
               g=reports[0].common_factor)
    for report in reports:
        coverage = atrous.stack_coverage(report.rates, settings.kernel)
        st.markdown(t("aspp.hdc_line", rates=_rates_text(report.rates),
                      m2=report.max_distances[1], k=report.kernel,
                      m_mark="≤" if report.max_distance_ok else ">", g=report.common_factor,
                      verdict=t("aspp.hdc_pass" if report.ok else "aspp.hdc_fail"),
                      holes=report.holes, total=coverage.span ** 2))
    st.caption(t("aspp.hdc_caveat"))


# ---------------------------------------------------------------- 6: the sliding kernel


@st.fragment
def animation_section(settings: Settings) -> None:
    st.subheader(t("aspp.anim_header"))
    specs = (("aspp_an_i", "anim_size", 5, 11, 9), ("aspp_an_d", "anim_rate", 1, 4, 2),
             ("aspp_an_p", "anim_pad", 0, 4, 2), ("aspp_an_s", "anim_stride", 1, 3, 1))
    values = []
    for column, (key, label, lo, hi, default) in zip(st.columns(4), specs, strict=True):
        ui.check_int_param(key, lo, hi)
        values.append(column.slider(t(f"aspp.{label}"), lo, hi, default, key=key,
                                    bind="query-params"))
    i, d, p, s = values
    k = settings.kernel
    out = conv_output_size(i, k, padding=p, stride=s, dilation=d)
    st.markdown(t("aspp.anim_formula", i=i, p=p, d=d, k=k, s=s, o=out))
    if out < 1:
        st.warning(t("aspp.anim_nofit", k=k, d=d, span=atrous.effective_kernel_size(k, d),
                     n=i + 2 * p))
        return
    ui.mount_kernel(key="aspp_kernel_view", size=i, kernel=k, rate=d, padding=p, stride=s)
    ui.explain("aspp.anim_explain", k=k, kk=k * k)


# ---------------------------------------------------------------- the page


def main() -> None:
    st.title(t("aspp.title"))
    image = ui.current_image()
    settings = settings_ui()
    H, W = image.array.shape[:2]
    geo = ui.tap_geometry(settings.tap, settings.output_stride, H, W)
    taps_section(image, settings, geo)
    with st.expander(t("aspp.intro_title")):
        st.write(t("aspp.intro"))
    outputs_section(image, settings)
    valid_section(settings, geo)
    gridding_section(settings)
    animation_section(settings)


main()

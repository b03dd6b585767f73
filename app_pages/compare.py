"""Compare: SPP and ASPP on the same photo, backbone and feature map, side by side."""

from __future__ import annotations

import numpy as np
import streamlit as st

import ui
from pyramidviz.aspp import rates_for_output_stride
from pyramidviz.compare import aspp_cost, output_lengths, spp_cost
from pyramidviz.figures import compare as figs
from pyramidviz.papers import DEEPLAB_CHANNELS
from ui import t

TAP = "stage7"
OUT_CHANNELS = DEEPLAB_CHANNELS
STRIDES = ["8", "16", "32"]  # the ASPP page's order (app_pages/aspp.py: OS_OPTIONS)
DEFAULT_OS = "16"
PYRAMIDS = {"4-2-1": (4, 2, 1), "6-3-2-1": (6, 3, 2, 1), "3-2-1": (3, 2, 1)}


def settings_ui() -> tuple[int, tuple[int, ...]]:
    """Output stride and pyramid, both kept in the URL."""
    left, right = st.columns(2)
    ui.check_param("cmp_os", STRIDES)
    ui.shared_setting("os", "cmp_os", STRIDES)
    stride = left.segmented_control(t("compare.os"), STRIDES, default=DEFAULT_OS, key="cmp_os",
                                    required=True, bind="query-params",
                                    help=t("compare.os_help")) or DEFAULT_OS
    ui.share_setting("os", "cmp_os", stride)
    ui.check_param("cmp_levels", list(PYRAMIDS))
    pyramid = right.segmented_control(t("compare.levels"), list(PYRAMIDS), default="4-2-1",
                                      required=True, key="cmp_levels", bind="query-params")
    return int(stride), PYRAMIDS[pyramid or "4-2-1"]


@st.cache_data(max_entries=32, show_spinner=False)
def spp_vector(digest: str, stride: int, levels: tuple[int, ...], _features: np.ndarray
               ) -> np.ndarray:
    """The SPP vector of the cached feature map (max pooling)."""
    import torch

    from pyramidviz.spp import spatial_pyramid_pool

    return spatial_pyramid_pool(torch.tensor(_features)[None], levels).vector[0].numpy()


@st.cache_data(max_entries=32, show_spinner=False)
def aspp_map(digest: str, stride: int, rates: tuple[int, ...], _features: np.ndarray
             ) -> np.ndarray:
    """Channel mean of the uniform-average branch previews: the H x W grid ASPP keeps."""
    import torch

    from pyramidviz.aspp import branch_previews

    previews = branch_previews(torch.tensor(_features)[None], rates)
    return torch.stack(list(previews.values())).mean(dim=(0, 2))[0].numpy()


def giga(macs: int) -> str:
    """Multiply-adds as the ASPP page writes them (``6.76 G``); the exact counts are in the
    costs download below the table."""
    return f"{macs / 1e9:.2f} G"


def cost_table(features_shape: tuple[int, int, int], levels, rates) -> None:
    c, h, w = features_shape
    spp, aspp = spp_cost(c, (h, w), levels), aspp_cost(c, (h, w), rates)
    shape = " × ".join

    def row(key, a, b):
        return {" ": t(f"compare.row_{key}"), "SPP": a, "ASPP": b}

    st.table([
        row("input", shape(map(str, spp.input_shape)), shape(map(str, aspp.input_shape))),
        row("output", shape(map(str, spp.output_shape)), shape(map(str, aspp.output_shape))),
        row("values", f"{spp.output_elements:,}", f"{aspp.output_elements:,}"),
        row("resolution", t("compare.no"), t("compare.yes")),
        row("params", f"{spp.parameters:,}", f"{aspp.parameters:,}"),
        row("ops", f"{spp.operations:,}",
            f"{giga(aspp.operations)} / {giga(aspp.operations_on_map)}"),
        row("next", t("compare.next_spp", n=spp.output_elements), t("compare.next_aspp")),
    ], hide_index=True)
    ui.explain("compare.cost_explain")
    numbers = np.array([[cost.output_elements, cost.parameters, cost.operations,
                         cost.operations_on_map, cost.next_layer_parameters]
                        for cost in (spp, aspp)], np.int64)
    with st.expander(t("compare.download")):
        ui.download_array(numbers, name="compare-costs", key="cmp_costs",
                          header=t("compare.csv_costs"))


def sees_section(image, info, level: int, rates) -> None:
    """What one output element sees: SPP's bin and ASPP's taps for the same cell, linked."""
    cell, where = ui.carried_cell("cmp_cell", info, image)
    st.markdown(t("compare.try"))
    ui.mount_taps("compare", key="cmp_sees_view", image=image, field=info.field,
                  feature_size=info.feature_size, stride=info.stride, rates=rates, cell=cell,
                  where=where, spp_level=level, url_key="cmp_cell")


def main() -> None:
    st.title(t("compare.title"))
    image = ui.current_image()
    with ui.controls():
        stride, levels = settings_ui()
    rates = rates_for_output_stride(stride)
    height, width = image.array.shape[:2]
    info = ui.tap_geometry(TAP, stride, height, width)
    features = ui.feature_map(image.digest, TAP, stride, image.array)
    c, h, w = features.shape
    sees_section(image, info, max(levels), rates)
    with st.expander(t("compare.explain_title")):  # the view's explanations, folded below it
        st.caption(t("compare.map_info", tap=TAP, c=c, h=h, w=w, s=info.stride,
                     r=info.field.size[0], rates=", ".join(map(str, rates))))
        ui.explain("compare.sees_explain")

    with st.expander(t("compare.intro_title")):
        st.write(t("compare.intro"))
    st.subheader(t("compare.outputs_title"))
    vector = spp_vector(image.digest, stride, levels, features)
    grid = aspp_map(image.digest, stride, rates, features)
    # two figures in columns, so that a phone stacks them instead of squeezing the titles
    left, right = st.columns([11, 9])
    with left:
        ui.plotly(figs.vector_figure(vector, title=t("compare.out_spp", n=vector.size)),
                  key="cmp_outputs", name="compare-spp-output")
    with right:
        ui.plotly(figs.map_figure(grid, title=t("compare.out_aspp", c=OUT_CHANNELS, h=h, w=w)),
                  key="cmp_outputs_map", name="compare-aspp-output")
    ui.explain("compare.outputs_explain")

    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("compare.cost_title"))
        cost_table((c, h, w), levels, rates)
    with right:
        st.subheader(t("compare.growth_title"))
        sides = [160, 224, 320, 448, 640, 896, 1280]
        lengths = output_lengths(sides, aspect=width / height, output_stride=stride,
                                 channels=c, levels=levels)
        fig = figs.growth_figure(lengths, names={
            "spp": t("compare.growth_spp"), "aspp": t("compare.growth_aspp"),
            "x": t("compare.growth_x"), "y": t("compare.growth_y")})
        ui.plotly(fig, key="cmp_growth", name="compare-growth")
        ui.explain("compare.growth_explain")

    st.subheader(t("compare.when_title"))
    st.table({t("compare.when_col_need"): [t(f"compare.need_{i}") for i in range(1, 5)],
              t("compare.when_col_pick"): [t(f"compare.pick_{i}") for i in range(1, 5)]},
             hide_index=True)


main()

"""Your network: receptive fields, SPP bins and ASPP taps for any CNN a student brings.

Pick a catalogue net, upload an ONNX graph or type a spec; every number on the page is the
receptive-field arithmetic (:mod:`pyramidviz.receptive`) of the network's layers for the
photo in use: geometry only, no weights. The SPP and ASPP views are the same browser views
the SPP and ASPP pages mount, fed with geometry-only payloads.
"""

from __future__ import annotations

import streamlit as st

import ui
from pyramidviz import networks
from pyramidviz.bins import bin_count
from pyramidviz.papers import DEEPLAB_V3_RATES
from pyramidviz.receptive import receptive_field
from pyramidviz.specs import MAX_LAYERS
from ui import t

SOURCES = ["catalogue", "onnx", "spec"]
DEFAULT_NET = "resnet50"
DEFAULT_SPEC = "conv3 s2, conv3, pool2, conv3 d2"
LEVELS = (4, 2, 1)
# The output stride of DeepLab v3's rates (papers.DEEPLAB_V3_RATES) that the ASPP view scales
# to the chosen layer's effective stride. (A comment, not a string: Streamlit's "magic" shows a
# bare string of a page script on the page.)
RATES_STRIDE = 16
# How the catalogue's networks are named on the page and in the URL (?net=ResNet-50); a link
# with an identifier (?net=resnet50) still opens its network.
NET_NAMES = {"alexnet": "AlexNet", "vgg16": "VGG-16", "resnet50": "ResNet-50",
             "resnet50_os16": "ResNet-50, output stride 16",
             "resnet50_os8": "ResNet-50, output stride 8", "resnet101": "ResNet-101",
             "resnet101_os16": "ResNet-101, output stride 16",
             "resnet101_os8": "ResNet-101, output stride 8", "mobilenet_v1": "MobileNetV1",
             "mobilenet_v2": "MobileNetV2", "efficientnet_lite0": "EfficientNet-Lite0",
             "efficientnet_lite0_os16": "EfficientNet-Lite0, output stride 16",
             "efficientnet_lite0_os8": "EfficientNet-Lite0, output stride 8"}


def net_name(name: str) -> str:
    """The catalogue network ``name`` as a reader writes it (``"resnet50_os8"`` ->
    ``"ResNet-50, output stride 8"``); other names unchanged."""
    return NET_NAMES.get(name, name)


# ---------------------------------------------------------------- where the layers come from


@st.cache_data(max_entries=16, show_spinner=False)
def onnx_layers(digest: str, _data: bytes) -> tuple[list, tuple[str, str] | None]:
    """The layers of an uploaded ONNX file (keyed by its sha256), or why not: the error's
    code (translated on the page) and the part of the file it is about (``error.detail``: an
    operator, an attribute), so the message says once what is wrong."""
    try:
        return networks.from_onnx(_data), None
    except networks.OnnxError as error:
        return [], (error.code, error.detail)


@st.cache_data(max_entries=64, show_spinner=False)
def catalogue_layers(name: str, height: int, width: int) -> list:
    return networks.network_layers(name, (height, width))


def source_ui() -> str:
    """Where the network comes from. The options are the translated labels themselves (no
    ``format_func``) under a key per language, so a language switch starts from the
    catalogue instead of holding a label of the other language."""
    labels = [t(f"network.src_{s}") for s in SOURCES]
    label = st.radio(t("network.source"), labels, key=f"net_src_{ui.lang()}", horizontal=True,
                     help=t("network.source_help"))
    return SOURCES[labels.index(label)] if label in labels else SOURCES[0]


def network_ui(image_hw: tuple[int, int]) -> tuple[str, str, list, bool] | None:
    """(source, label, layers, tf_same) from the chosen source, remembered per source.

    A bad upload or spec says once what is wrong and how to fix it, and the page keeps the
    last network that source read, marked as such (never another network); with none yet,
    None. The typed spec stays in its box.
    """
    source = source_ui()
    memo = f"_net_good_{source}"
    found = _network(source, image_hw)
    if found is not None:
        st.session_state[memo] = found
        return found
    kept = st.session_state.get(memo)
    if kept is None:
        st.info(t("network.nothing_yet"), icon=":material/info:")
        return None
    st.info(t("network.kept_last", net=ui.escape_md(kept[1])), icon=":material/history:")
    return kept


def _network(source: str, image_hw: tuple[int, int]) -> tuple[str, str, list, bool] | None:
    """The network the source gives now, or None after saying why it gives none."""
    if source == "onnx":
        upload = st.file_uploader(t("network.upload"), key="net_onnx",
                                  help=t("network.upload_help"))
        st.caption(t("network.export_howto"))
        with st.expander(t("network.ops_title")):
            st.markdown(t("network.ops_read", ops=", ".join(networks.ONNX_SUPPORTED)))
            st.markdown(t("network.ops_refused", ops=", ".join(networks.ONNX_REFUSED)))
            st.caption(t("network.ops_why"))
        if upload is not None:
            from pyramidviz.filenames import safe_filename
            from pyramidviz.images import image_digest

            data = upload.getvalue()
            layers, problem = onnx_layers(image_digest(data), data)
            if problem is None:
                return source, safe_filename(upload.name), layers, False
            code, detail = problem
            message = t("network.bad_onnx", name=ui.escape_md(safe_filename(upload.name)),
                        reason=t(f"network.onnx_err_{code}"), detail=ui.escape_md(detail))
            st.error(f"{message} {t(f'network.onnx_fix_{code}')}", icon=":material/error:")
        return None
    elif source == "spec":
        text = st.text_area(t("network.spec"), value=DEFAULT_SPEC, key="net_spec",
                            max_chars=4000, help=t("network.spec_help"), height=80)
        st.caption(t("network.notebook_howto"))
        try:
            layers = networks.parse_spec(text)
            return source, t("network.typed"), layers, False
        except networks.SpecError as error:
            st.error(t("network.bad_spec", reason=spec_reason(error)), icon=":material/error:")
            return None
    else:
        shown = [net_name(n) for n in networks.CATALOGUE]
        if st.query_params.get("net") in networks.CATALOGUE:  # a link with an identifier
            st.session_state["net"] = st.query_params["net"] = net_name(st.query_params["net"])
        ui.check_param("net", shown)
        # The options are the readable names themselves (the same in every language): a
        # bound widget puts its displayed text into the URL, not the value behind it.
        chosen = st.selectbox(t("network.net"), shown, index=shown.index(net_name(DEFAULT_NET)),
                              key="net", bind="query-params", help=t("network.net_help"))
        name = networks.CATALOGUE[shown.index(chosen)] if chosen in shown else DEFAULT_NET
        return source, name, catalogue_layers(name, *image_hw), name.startswith("efficientnet")
    return None


def spec_reason(error) -> str:
    """What is wrong with a typed spec, in the reader's language (items count from 1)."""
    token = ui.escape_md(error.token[:40])
    if error.code == "range":
        return t("network.spec_err_range_bounds", item=error.item, token=token,
                 what=t(f"network.spec_what_{error.what}"), low=error.low, high=error.high)
    return t(f"network.spec_err_{error.code}", item=error.item, token=token, max=MAX_LAYERS)


# ---------------------------------------------------------------- table and CSV


def table_rows(rows) -> list[dict]:
    """The per-layer rows with translated headers."""
    return [{t(f"network.col_{k}"): v for k, v in row.values().items()} for row in rows]


def csv_text(rows) -> str:
    return networks.layer_csv(rows, {k: t(f"network.col_{k}") for k in networks.TABLE_COLUMNS})


# ---------------------------------------------------------------- layer, cell and the views


def layer_ui(rows) -> int:
    """Index (0-based) of the chosen layer among those with a map on this photo."""
    usable = [r.index - 1 for r in rows if min(r.map_size) > 0 and not r.global_]
    if not usable:
        return -1
    choice = st.selectbox(t("network.layer"), usable, index=len(usable) - 1, key="net_layer",
                          format_func=lambda i: f"{i + 1} · {rows[i].name}",
                          help=t("network.layer_help"))
    return usable[-1] if choice is None else int(choice)


def cell_ui(size: tuple[int, int], layer: int) -> tuple[int, int]:
    """Row and column of the cell (inputs keyed by layer and map size: a new map starts
    from its centre instead of an out-of-range value)."""
    h, w = size
    left, right = st.columns(2)
    suffix = f"{layer}_{h}x{w}"
    row = left.number_input(t("network.row_range", last=h - 1), 0, h - 1, h // 2,
                            key=f"net_row_{suffix}")
    col = right.number_input(t("network.col_range", last=w - 1), 0, w - 1, w // 2,
                             key=f"net_col_{suffix}")
    return min(int(row), h - 1), min(int(col), w - 1)


def aspp_rates(jump: int) -> tuple[int, ...]:
    """DeepLab v3's rates scaled to this stride: (6, 12, 18) x 16 / stride, at least 1."""
    return tuple(max(1, round(r * RATES_STRIDE / jump)) for r in DEEPLAB_V3_RATES[RATES_STRIDE])


def picture_section(choice, row, field, cell) -> None:
    from pyramidviz.payloads import field_picture

    H, W = choice.array.shape[:2]
    box = field.cell_box(*cell, image_size=(H, W))
    tile = field.stride_box((cell[0], cell[0] + 1), (cell[1], cell[1] + 1), image_size=(H, W))
    left, right = st.columns([3, 2], gap="medium")
    caption = t("network.picture_caption", row=cell[0], col=cell[1])
    left.image(field_picture(choice.array, box, tile), width="stretch", caption=caption,
               alt=caption)
    full = field.cell_box(*cell)
    with left:
        explain_field(row, field, cell, full)
    right.metric(t("network.col_field"), "×".join(map(str, field.size)))
    right.metric(t("network.col_effective_stride"), "×".join(map(str, field.stride)))
    right.metric(t("network.col_effective_padding"), "×".join(map(str, field.padding)))
    right.metric(t("network.col_map"), "×".join(map(str, row.map_size)))


def explain_field(row, field, cell, full) -> None:
    ui.explain("network.field_explain", layer=ui.escape_md(row.name), row=cell[0], col=cell[1],
               r=field.size[0], rw=field.size[1], j=field.stride[0], p=field.padding[0],
               y0=full.top, y1=full.bottom, x0=full.left, x1=full.right,
               cy=f"{field.center(*cell)[0]:g}", cx=f"{field.center(*cell)[1]:g}")


def views_section(choice, row, field, cell, label: str) -> None:
    st.subheader(t("network.spp_title"))
    st.info(t("network.geometry_only"), icon=":material/straighten:")
    ui.mount_spp_bins(key="net_spp_view", image=choice, levels=LEVELS, field=field,
                      feature_size=row.map_size,
                      state={"level": LEVELS[0], "bin": 0, "view": "cells"})
    ui.explain("network.spp_explain", h=row.map_size[0], w=row.map_size[1],
               n=bin_count(LEVELS), levels="-".join(map(str, LEVELS)))
    st.subheader(t("network.aspp_title"))
    rates = aspp_rates(field.stride[0])
    ui.mount_taps("network", key="net_taps_view", image=choice, field=field,
                  feature_size=row.map_size, stride=field.stride[0], rates=rates, cell=cell)
    ui.explain("network.aspp_explain", j=field.stride[0], rates=", ".join(map(str, rates)),
               px=", ".join(str(r * field.stride[0]) for r in rates),
               base_rates=", ".join(map(str, DEEPLAB_V3_RATES[RATES_STRIDE])),
               base_stride=RATES_STRIDE)


# ---------------------------------------------------------------- formula vs measured


def measured_section(label: str, layers: list, tf_same: bool, catalogue: bool) -> None:
    st.subheader(t("network.measure_title"))
    ui.explain("network.measure_explain")
    if not st.button(t("network.measure"), key="net_measure"):
        return
    key = (label, networks.format_spec(layers), tf_same, catalogue)
    result = ui.computed(("net_measure", *key), lambda: _measure(label, layers, tf_same,
                                                                 catalogue),
                         what=t("network.measure"))
    (H, W), f, m = result.input_hw, result.formula.clip(*result.input_hw), result.measured
    st.dataframe([{t("network.m_what"): t("network.m_formula"),
                   t("network.m_rows"): f"[{f.top}, {f.bottom})", t("network.m_cols"):
                   f"[{f.left}, {f.right})"},
                  {t("network.m_what"): t("network.m_measured"),
                   t("network.m_rows"): f"[{m.top}, {m.bottom})", t("network.m_cols"):
                   f"[{m.left}, {m.right})"}], hide_index=True)
    message = t("network.m_agree" if result.agrees else "network.m_differ", H=H, W=W,
                row=result.cell[0], col=result.cell[1])
    (st.success if result.agrees else st.warning)(message)


def _measure(label: str, layers: list, tf_same: bool, catalogue: bool):
    import torch

    from pyramidviz import netmodels

    if not catalogue:
        return netmodels.formula_vs_measured(layers, tf_same=tf_same)
    dtype = torch.float32 if label.startswith("efficientnet") else torch.float64
    module = netmodels.randomize_(netmodels.build(label), dtype=dtype)
    return netmodels.formula_vs_measured(networks.network_layers(label), module,
                                         tf_same=tf_same)


# ---------------------------------------------------------------- page


def main() -> None:
    st.title(t("network.title"))
    st.write(t("network.intro"))
    choice = ui.current_image()
    H, W = choice.array.shape[:2]
    with ui.controls():
        network = network_ui((H, W))
    if network is None:
        return
    source, label, layers, tf_same = network
    catalogue = source == "catalogue"
    rows = networks.layer_table(layers, (H, W), tf_same=tf_same)
    last = receptive_field(layers)[-1]
    st.caption(t("network.summary", net=ui.escape_md(net_name(label) if catalogue else label),
                 n=len(layers),
                 r=last.size[0], j=last.stride[0], p=last.padding[0], H=H, W=W))
    st.dataframe(table_rows(rows), hide_index=True, width="stretch", height=300)
    st.download_button(t("common.download_csv"), csv_text(rows), "pyramidviz-network.csv",
                       "text/csv", key="net_csv", on_click="ignore")
    index = layer_ui(rows)
    if index < 0:
        st.warning(t("network.no_map", H=H, W=W), icon=":material/warning:")
        return
    row, field = rows[index], receptive_field(layers[: index + 1])[-1]
    cell = cell_ui(row.map_size, index)
    picture_section(choice, row, field, cell)
    views_section(choice, row, field, cell, label)
    measured_section(label, layers, tf_same, source == "catalogue")


main()

"""Shared widgets and caches for the pages: the only non-page module that imports streamlit.

Pages stay thin: they read settings through the small ``*_ui`` helpers here, pull cached
computations (decoded image, model, feature maps), and hand numbers to the pure figure builders
in :mod:`pyramidviz.figures`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from pyramidviz import bundle, i18n, samples

SAMPLES = samples.SAMPLES
DEFAULT_SAMPLE = next(iter(SAMPLES))  # the picker opens on it: "astronaut"
MIN_SIDE = 32
"""Smallest photo side the pages accept: below it the last stage has a 1 x 1 map."""

PAGES_DIR = "app_pages"
PAGE_ICONS = {"home": ":material/home:", "spp": ":material/grid_view:",
              "aspp": ":material/blur_on:", "compare": ":material/compare:",
              "network": ":material/account_tree:", "slides": ":material/slideshow:"}
TENSOR_FREE_PAGES = ("home",)
"""Pages that compute no tensor: they never import torch (Home is up within the cold-start
budget), so the sidebar does not name the compute device there."""
PRESENT_PAGE = "slides"
"""The page presentation mode opens on (the root URL shows it while ``?present=true``)."""
APP_ICON = ":material/filter_center_focus:"


def page_path(name: str) -> str:
    """Path of a page's script, relative to app.py (for st.Page and st.page_link)."""
    return f"{PAGES_DIR}/{name}.py"


PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtons": [["toImage"]],
                 "toImageButtonOptions": {"format": "png", "scale": 2}}
"""One modebar button (save as PNG) per figure: a keyboard user tabs past each figure in one
stop, not through a toolbar of zoom, pan and select buttons."""


# ---------------------------------------------------------------- language and text


def lang() -> str:
    """The language chosen in the sidebar ('en' or 'ko')."""
    return st.session_state.get("_lang", i18n.LANGUAGES[0])


def t(key: str, /, **values: Any) -> str:
    """Translate ``key`` into the current language, filling ``{placeholders}``."""
    return i18n.translate(lang(), key, **values)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_md(text: str) -> str:
    """Backslash-escape markdown (and Streamlit's LaTeX ``$``) so user text shows verbatim."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def explain(key: str, /, **values: Any) -> None:
    """Show the short explanation that sits beside a figure (our own text, markdown allowed)."""
    st.caption(t(key, **values))


PRESENT_FONT = 20
"""Figure font size in presentation mode (readable from the back of a room)."""


def presenting() -> bool:
    """Whether presentation mode is on (larger type, folded controls)."""
    return bool(st.session_state.get("_present"))


def plotly(fig, *, key: str, name: str, **kwargs: Any):
    """Render a Plotly figure with a PNG download button in its modebar named ``name``.

    In presentation mode the figure's type is enlarged first.
    """
    if presenting():
        fig.update_layout(font_size=PRESENT_FONT, title_font_size=PRESENT_FONT + 2)
        fig.update_annotations(font_size=PRESENT_FONT - 2)
    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {
        **PLOTLY_CONFIG["toImageButtonOptions"], "filename": f"pyramidviz-{name}"}}
    return st.plotly_chart(fig, key=key, config=config, width="stretch", **kwargs)


def download_array(array: np.ndarray, *, name: str, key: str, header: str | None = None) -> None:
    """Offer ``array`` as CSV (2D at most) and NPY downloads side by side."""
    left, right = st.columns(2)
    flat = array if array.ndim <= 2 else array.reshape(array.shape[0], -1)
    text = io.StringIO()
    np.savetxt(text, np.atleast_2d(flat), delimiter=",", fmt="%.6g", header=header or "",
               comments="")
    left.download_button(t("common.download_csv"), text.getvalue(), f"{name}.csv", "text/csv",
                         key=f"{key}_csv", on_click="ignore")
    buffer = io.BytesIO()
    np.save(buffer, array)
    right.download_button(t("common.download_npy"), buffer.getvalue(), f"{name}.npy",
                          "application/octet-stream", key=f"{key}_npy", on_click="ignore")


# ---------------------------------------------------------------- the image in use


@dataclass(frozen=True)
class ImageChoice:
    """The photo every page works on: a bundled sample or this session's upload."""

    name: str
    digest: str
    array: np.ndarray  # (H, W, 3) uint8
    is_upload: bool
    original_hw: tuple[int, int]  # (h, w) before any shrinking
    resized: bool

    @property
    def photo_hw(self) -> tuple[int, int]:
        """(height, width) in pixels of the working image (every (h, w) pair is ``*_hw``)."""
        return self.array.shape[0], self.array.shape[1]


def decode_image(digest: str, _data: bytes) -> tuple[np.ndarray, tuple[int, int], bool]:
    """Decode once per distinct file (keyed by its sha256, never by a sampled hash); the
    array is shared read-only through the byte-bounded cache of :func:`work`."""
    from pyramidviz.images import load_image, to_array

    def decode():
        loaded = load_image(_data, min_side=MIN_SIDE)
        return to_array(loaded.image), tuple(loaded.original_hw), bool(loaded.resized)

    return computed(("decoded", digest), decode, what=t("common.image_header"))


@st.cache_data(max_entries=8, show_spinner=False)
def sample_bytes(name: str) -> bytes:
    """The bytes of a bundled sample photo."""
    return samples.sample_bytes(name)


def image_choice(name: str, data: bytes, *, is_upload: bool) -> ImageChoice:
    """Decode ``data`` (cached) into an :class:`ImageChoice`; raises ImageLoadError."""
    from pyramidviz.images import image_digest

    digest = image_digest(data)
    array, original, resized = decode_image(digest, data)
    return ImageChoice(name, digest, array, is_upload, original, resized)


def error_text(error: Exception) -> str:
    """A translated, student-friendly message for an image that could not be used."""
    from pyramidviz.images import ERROR_CODES

    code = getattr(error, "code", None)
    if code in ERROR_CODES:
        return t(f"common.err_{code}", min=MIN_SIDE)
    return t("common.err_other", msg=str(error))


def current_image() -> ImageChoice:
    """The image chosen in the sidebar (set by app.py before the page runs)."""
    choice = st.session_state.get("_image")
    if choice is None:  # a page run on its own (tests): fall back to the default sample
        choice = image_choice(DEFAULT_SAMPLE, sample_bytes(DEFAULT_SAMPLE), is_upload=False)
    return choice


# ---------------------------------------------------------------- models and feature maps


@st.cache_resource(show_spinner=False)
def backbone(output_stride: int):
    """The pretrained EfficientNet-Lite0 at one output stride, built once per process."""
    from pyramidviz.backbones import load_backbone
    from pyramidviz.device import configure_threads

    configure_threads()
    return load_backbone(output_stride=output_stride)


@st.cache_resource(show_spinner=False)
def device_text() -> str:
    """Which device the package computes on, in words (asking torch: imports it, ~2 s).

    Pages without tensors (:data:`TENSOR_FREE_PAGES`) do not show it.
    """
    from pyramidviz.device import describe_device, pick_device

    return describe_device(pick_device())


@st.cache_data(max_entries=16, show_spinner=False)
def photo_payload(digest: str, _photo: np.ndarray) -> dict:
    """The photo as the browser views draw it (a JPEG), encoded once per image."""
    from pyramidviz.payloads import photo_payload as encode

    return encode(_photo)


FEATURE_BUDGET = 768 << 20
"""Bytes of feature maps kept for every session together (a 2 MP stem map is ~64 MB)."""
RELEASE_ABOVE = 1 << 30
"""Resident bytes above which a finished pass hands the heap's free pages back
(``serving.release_memory``; ``benchmarks/bench_memory.py`` measures it)."""


GIL_SWITCH = 2e-4
"""Seconds between GIL hand-overs the pool's workers can ask for (``Work(switch_interval=)``):
at Python's 5 ms, thirty sessions' script threads kept a pass waiting for the GIL after
each op."""


@st.cache_resource(show_spinner=False)
def work():
    """The process-wide pool for heavy calls (one worker per core) and its byte-bounded cache.

    Every session's backbone passes and effective fields go through it: identical requests
    (the same photo at the same setting) are computed once, results are shared read-only.
    """
    from pyramidviz.serving import ByteCache, Work

    return Work(cache=ByteCache(FEATURE_BUDGET), release_above=RELEASE_ABOVE,
                switch_interval=GIL_SWITCH)


RUN_LOG_ENV = "PYRAMIDVIZ_RUN_LOG"
"""Names a file where every page run appends how long it took (:func:`run_log`)."""


@st.cache_resource(show_spinner=False)
def _run_log(path: str):
    from pyramidviz.serving import RunLog

    return RunLog(path)


def run_log():
    """The server's run log (``serving.RunLog``) when ``$PYRAMIDVIZ_RUN_LOG`` names a file."""
    import os

    path = os.environ.get(RUN_LOG_ENV, "").strip()
    return _run_log(path) if path else None


def computed(key: tuple, fn, *, what: str):
    """``fn()`` through :func:`work`, saying where the student looks whether it is queued."""
    import concurrent.futures
    import time

    pool = work()
    job = pool.submit(key, fn)
    if job.state != "done":
        began = time.monotonic()
        slot, shown = st.empty(), None
        while True:
            if job.state == "queued":
                text, icon = t("common.queued", what=what, n=pool.queued()), "hourglass_top"
            else:
                text, icon = t("common.computing", what=what), "progress_activity"
            if text != shown:  # a new message only when it changes: each one is a frame
                slot.info(text, icon=f":material/{icon}:")  # the browser has to draw
                shown = text
            done, _ = concurrent.futures.wait([job.future], timeout=0.25)
            if done:
                break
        slot.empty()
        st.session_state["_waited"] = (st.session_state.get("_waited", 0.0)
                                       + time.monotonic() - began)
    return job.future.result()


def feature_map(digest: str, tap: str, output_stride: int, _array: np.ndarray) -> np.ndarray:
    """The (C, h, w) float32 feature map (read-only, shared) of the image with this digest.

    ``tap="image"`` returns the photo itself as a 3-channel map in [0, 1].
    """
    from pyramidviz.backbones import extract

    if tap == "image":
        return computed(("image", digest), lambda: np.ascontiguousarray(
            _array.transpose(2, 0, 1), dtype=np.float32) / 255.0, what=tap)
    return computed(("features", digest, tap, output_stride),
                    lambda: extract(backbone(output_stride), _array, tap), what=tap)


# ---------------------------------------------------------------- URL parameters


def check_param(key: str, valid: list[str] | tuple[str, ...]) -> None:
    """Warn (once per run) when the URL holds a value for ``key`` that no widget accepts.

    Bound widgets silently fall back to their default on a bad value; this makes it visible.
    Call it before creating the widget.
    """
    value = st.query_params.get(key)
    if value is not None and value not in valid:
        st.warning(t("common.bad_param", key=key), icon=":material/warning:")


@st.cache_data(max_entries=512, show_spinner=False)
def tap_geometry(tap: str, output_stride: int, height: int, width: int):
    """Stride, channels, receptive field and map size of ``tap`` for an image of this size.

    Traced from the real modules (:func:`pyramidviz.backbones.tap_info`); ``tap="image"`` is
    the photo itself (stride 1, field 1 pixel, 3 channels).
    """
    from pyramidviz.backbones import TapInfo, tap_info
    from pyramidviz.receptive import FieldInfo

    if tap == "image":
        field = FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0))
        return TapInfo("image", 1, 3, field, (height, width))
    return tap_info(backbone(output_stride), tap, (height, width))


_INT = re.compile(r"-?[0-9]{1,9}")


def parse_int(raw: str | None, lo: int, hi: int) -> int | None:
    """``raw`` as an int in ``[lo, hi]``, or None (for inf, nan, 1e309, '١٢', markup, ...)."""
    if raw is None or not _INT.fullmatch(raw):
        return None
    value = int(raw)
    return value if lo <= value <= hi else None


def check_int_param(key: str, lo: int, hi: int) -> None:
    """Drop an integer URL value outside ``[lo, hi]`` (or no integer at all), with a notice.

    Call it before creating the widget bound to ``key``: Streamlit's own number input
    raises on values such as ``inf`` before any check after it could help, so the bad value
    must leave the URL first (the widget then starts from its default).
    """
    raw = st.query_params.get(key)
    if raw is not None and parse_int(raw, lo, hi) is None:
        del st.query_params[key]
        st.warning(t("common.bad_param", key=key), icon=":material/warning:")


@contextlib.contextmanager
def controls() -> Iterator[None]:
    """Where a page's controls go: inline, or folded into an expander in presentation mode."""
    if presenting():
        with st.expander(t("common.controls"), expanded=False):
            yield
    else:
        yield


# ---------------------------------------------------------------- browser views


@functools.cache
def _view_source(name: str) -> tuple[str, str]:
    """The view's joined ES module (``pyramidviz/web/<name>.js`` and its imports) and CSS."""
    return bundle.bundle(f"{name}.js"), bundle.stylesheet()


def view_token(*parts: object) -> str:
    """A short id of what a view shows: a rerun with the same token keeps the view's state."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def view(name: str, *, key: str, payload: dict, labels: dict, state: dict, token: str,
         **extra: Any):
    """Mount the browser view ``name`` (``pyramidviz/web/<name>.js``) drawing ``payload``.

    Every overlay interaction then happens in the browser; the view calls back to Python
    (``on_<state>_change`` in ``extra``) only when new tensors are needed.
    """
    js, css = _view_source(name)
    callbacks = {k: v for k, v in extra.items() if k.startswith("on_")}
    data = {k: v for k, v in extra.items() if not k.startswith("on_")}
    component = st.components.v2.component(f"pyramidviz_{name}", js=js, css=css)
    return component(key=key, data={"payload": payload, "labels": labels, "state": state,
                                    "token": token, "present": presenting(), **data},
                     **callbacks)


def labels(prefix: str, names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``{name: t(prefix + name)}``: the EN/KO strings a view shows."""
    return {name: t(f"{prefix}{name}") for name in names}


# The labels each view shows, by the i18n section they come from. A view's readout counts
# rows, columns and bins from 1 (the ``*_readout1`` strings say so); states and URLs stay 0-based.
_SPP_LABELS = ("role", "aria", "level", "level_n", "view", "channel_n", "other", "other_help",
               "prev", "next", "play", "pause", "save", "winner", "no_winner", "box",
               "title_map", "title_photo", "title_vector", "level_grid", "legend_current",
               "legend_stride", "legend_field", "mode_max", "mode_avg")
_TAPS_LABELS = ("role", "aria", "hint", "erf", "erf_help", "save", "title", "legend_1x1",
                "legend_rate", "branch_line", "step_up", "step_down", "step_left", "step_right")
_COMPARE_LABELS = ("role", "aria", "hint", "save", "title_spp", "title_aspp", "legend_1x1",
                   "legend_rate", "legend_bin", "branch_line")
_KERNEL_LABELS = ("role", "aria", "prev", "next", "play", "pause", "save", "input", "output")
_GRID_LABELS = ("role", "aria", "layers", "after", "save", "title", "holes", "hover", "readout")


def _field_key(field) -> tuple:
    return (field.size, field.stride, field.padding, field.global_)


@st.cache_data(max_entries=32, show_spinner=False)
def _spp_payload(digest: str, tap: str, levels: tuple[int, ...], mode: str,
                 names: tuple[str, ...], field_key: tuple, _features: np.ndarray,
                 _photo: np.ndarray, _field) -> dict:
    from pyramidviz import channel_views
    from pyramidviz.payloads import spp_payload

    views = {name: channel_views.channel_map(_features, name) for name in names}
    vector = channel_views.spp_vector(_features, levels, mode)
    return spp_payload(views, _photo, vector, levels=levels, mode=mode,
                       channels=_features.shape[0], field=_field,
                       photo_info=photo_payload(digest, _photo))


@st.cache_data(max_entries=32, show_spinner=False)
def _spp_geometry_payload(digest: str, size: tuple[int, int], levels: tuple[int, ...],
                          field_key: tuple, _photo: np.ndarray, _field) -> dict:
    from pyramidviz.payloads import spp_geometry_payload

    return spp_geometry_payload(_photo, feature_size=size, levels=levels, field=_field,
                                photo_info=photo_payload(digest, _photo))


def spp_labels(names, *, geometry: bool = False) -> dict:
    """The SPP bins view's labels in the current language (``names``: its channel views)."""
    from pyramidviz.channel_views import CHANNEL_VIEWS

    out = {**labels("spp.v_", _SPP_LABELS), "readout": t("spp.v_readout1")}
    if geometry:  # a map known by its geometry: counts of cells instead of pooled values
        out.update({**labels("network.v_", ("title_map", "title_vector", "winner",
                                            "no_winner")),
                    "readout": t("network.v_readout1")})
    out["views"] = {n: t(f"spp.v_view_{n}") if n in CHANNEL_VIEWS else
                    t(f"network.v_view_{n}") if n == "cells" else f"#{n}" for n in names}
    out["views_help"] = {n: t(f"spp.v_view_{n}_help") if n in CHANNEL_VIEWS else
                         t(f"network.v_view_{n}_help") if n == "cells" else
                         t("spp.v_channel_n", c=n) for n in names}
    return out


def mount_spp_bins(*, key: str, image: ImageChoice, levels: tuple[int, ...], field,
                   state: dict, features: np.ndarray | None = None, tap: str = "",
                   mode: str = "max", names: tuple[str, ...] = (),
                   feature_size: tuple[int, int] | None = None, on_channel_change=None):
    """The SPP bins view of ``features`` (channel views ``names``, pooled with ``mode``), or,
    with ``feature_size`` and no features, of a map known only by its geometry.

    Owns the view's payload cache, labels and token: a rerun with the same photo and
    settings keeps what the student was looking at; ``state`` (level, 0-based bin, view)
    is where a new payload opens.
    """
    levels, names = tuple(levels), tuple(names)
    if features is None:
        size = tuple(feature_size)
        payload = _spp_geometry_payload(image.digest, size, levels, _field_key(field),
                                        image.array, field)
        names, token = ("cells",), view_token(image.digest, size, levels, _field_key(field))
    else:
        payload = _spp_payload(image.digest, tap, levels, mode, names, _field_key(field),
                               features, image.array, field)
        token = view_token(image.digest, tap, levels, mode, names)
    callbacks = {} if on_channel_change is None else {"on_channel_change": on_channel_change}
    return view("spp_bins", key=key, payload=payload,
                labels=spp_labels(names, geometry=features is None), state=state,
                token=token, **callbacks)


@st.cache_data(max_entries=32, show_spinner=False)
def _taps_payload(digest: str, field_key: tuple, size: tuple[int, int], stride: int,
                  rates: tuple[int, ...], kernel: int, spp_level: int | None,
                  _photo: np.ndarray, _field) -> dict:
    from pyramidviz.payloads import taps_payload

    return taps_payload(_photo, field=_field, feature_size=size, stride=stride, rates=rates,
                        kernel=kernel, spp_level=spp_level,
                        photo_info=photo_payload(digest, _photo))


def taps_labels(kind: str = "aspp") -> dict:
    """The taps view's labels: ``"aspp"`` (also the Network page's) or ``"compare"``."""
    if kind == "compare":
        return {**labels("compare.v_", _COMPARE_LABELS),
                **labels("aspp.v_", ("step_up", "step_down", "step_left", "step_right")),
                "readout": t("compare.v_readout1")}
    return {**labels("aspp.v_", _TAPS_LABELS), "readout": t("aspp.v_readout1")}


TAPS_TESTIDS = {"aspp": "pv-aspp-taps", "compare": "pv-compare", "network": "pv-net-taps"}


def mount_taps(kind: str, *, key: str, image: ImageChoice, field, feature_size, stride: int,
               rates, kernel: int = 3, cell, where: dict | None = None,
               spp_level: int | None = None, url_key: str | None = None, erf: bool = False,
               on_erf_cell_change=None):
    """The taps view (``kind``: ``"aspp"``, ``"compare"`` with SPP's ``spp_level`` bin beside
    it, or ``"network"``) on ``image`` at ``cell``.

    With ``url_key`` the view moves its cell in the browser, writes it to the URL and
    carries it over a change of map (``where`` from :func:`carried_cell`); without, the
    server owns the cell, and a new ``cell`` redraws the view there.
    """
    size, rates = tuple(feature_size), tuple(int(r) for r in rates)
    payload = _taps_payload(image.digest, _field_key(field), size, int(stride), rates,
                            int(kernel), spp_level, image.array, field)
    parts = [image.digest, _field_key(field), size, rates, kernel, spp_level]
    if url_key is None:
        parts.append(tuple(cell))
    extra = {} if on_erf_cell_change is None else {"on_erf_cell_change": on_erf_cell_change}
    return view("taps", key=key, payload=payload,
                labels=taps_labels("compare" if kind == "compare" else "aspp"),
                state={"cell": list(cell)}, token=view_token(*parts),
                testid=TAPS_TESTIDS[kind], url_key=url_key, erf=erf, **(where or {}), **extra)


@st.cache_data(max_entries=32, show_spinner=False)
def _kernel_payload(size: int, kernel: int, rate: int, padding: int, stride: int) -> dict:
    from pyramidviz.payloads import kernel_payload

    return kernel_payload(size, kernel, rate=rate, padding=padding, stride=stride)


def mount_kernel(*, key: str, size: int, kernel: int, rate: int, padding: int, stride: int):
    """The sliding dilated kernel view (raises ValueError when the kernel does not fit)."""
    payload = _kernel_payload(size, kernel, rate, padding, stride)
    return view("kernel", key=key, payload=payload,
                labels={**labels("aspp.k_", _KERNEL_LABELS), "readout": t("aspp.k_readout1")},
                state={}, token=view_token(size, kernel, rate, padding, stride))


@st.cache_data(max_entries=32, show_spinner=False)
def _gridding_payload(stacks: tuple[tuple[int, ...], ...], kernel: int) -> dict:
    from pyramidviz.payloads import gridding_payload

    return gridding_payload(stacks, kernel)


def mount_gridding(*, key: str, stacks, kernel: int):
    """The gridding view of these stacks of dilated convs."""
    stacks = tuple(tuple(int(r) for r in s) for s in stacks)
    return view("gridding", key=key, payload=_gridding_payload(stacks, int(kernel)),
                labels=labels("aspp.g_", _GRID_LABELS), state={},
                token=view_token(stacks, kernel))


UPLOAD_PARAM = "upload"
"""URL mark of a page that shows an upload (``app.upload_marker``): an upload lives in one
server session only, so a new session that finds the mark says the photo is gone."""

VIEW_URL_KEYS = ("spp_level", "spp_bin", "spp_view", "aspp_cell", "cmp_cell")
"""URL parameters that the browser views write (history.replaceState) and the pages read."""
PHOTO_URL_KEYS = ("aspp_cell", "cmp_cell")
"""The views' URL parameters that hold a cell of one photo's map: a link whose upload is gone
drops them (``app.forget_photo_cells``)."""


def url_int(key: str, lo: int, hi: int, default: int) -> int:
    """An integer the URL holds for ``key`` (written there by a view), else ``default``.

    A value that is not an integer in ``[lo, hi]`` gets the bad-link notice.
    """
    raw = st.query_params.get(key)
    if raw is None:
        return default
    value = parse_int(raw, lo, hi)
    if value is None:
        st.warning(t("common.bad_param", key=key), icon=":material/warning:")
        return default
    return value


def carried_cell(key: str, info, image) -> tuple[tuple[int, int], dict]:
    """The view's cell for ``key``, and what the view needs to carry its own cell.

    The cell: the link's cell (:func:`url_cell`) on a session's first run, carried over a
    change of map on the same photo (output stride, stage) through its centre pixel to the
    nearest cell of the new map (:meth:`pyramidviz.receptive.FieldInfo.nearest_cell`), so the
    point stays where it was on the photo; a new photo starts at the centre of its map.
    ``info`` is this run's :func:`tap_geometry`, ``image`` the :class:`ImageChoice`.

    The server only knows the cell it last gave: the view moves its cell in the browser and
    writes it into the URL (``history.replaceState``), which ``st.query_params`` only sometimes
    learns of (reading it mixed cells of two maps). So the view carries its own cell: the
    second value, passed to the view as its data, names this map (``"map"``) and, after a
    change of map on the same photo, the map before it with where each of that map's rows and
    columns goes on this one (``"carry"``: ``{"from", "rows", "cols"}``,
    :meth:`~pyramidviz.receptive.FieldInfo.carry`). A view still on the map named ``"from"``
    looks its cell up there; on the same map it keeps its cell.
    """
    memo = f"_{key}_map"
    last = st.session_state.get(memo)
    size = tuple(info.feature_size)
    this_map = view_token(image.digest, info.field, size)
    carry = None
    if last is None:
        cell = url_cell(key, size)
    elif last["photo"] != image.digest:
        cell = (size[0] // 2, size[1] // 2)
    elif (last["field"], last["size"]) != (info.field, size):
        cell = info.field.nearest_cell(*last["field"].center(*last["cell"]), size)
        rows, cols = last["field"].carry(last["size"], info.field, size)
        carry = {"from": last["map"], "rows": list(rows), "cols": list(cols)}
    else:
        # A rerun on the same map keeps the carry: a view that never drew the run before
        # (Streamlit sends only the newest) still finds the map it is on.
        cell, carry = last["cell"], last["carry"]
    st.session_state[memo] = {"field": info.field, "size": size, "photo": image.digest,
                              "cell": cell, "map": this_map, "carry": carry,
                              "changed": last is not None and last["map"] != this_map}
    return cell, {"map": this_map, "carry": carry}


def cell_map_changed(key: str) -> bool:
    """Whether this run's :func:`carried_cell` for ``key`` found another map than the last
    run's (a new photo, output stride or stage): a cell chosen on the old map is stale."""
    return bool(st.session_state.get(f"_{key}_map", {}).get("changed"))


def shared_setting(name: str, key: str, options) -> None:
    """Open the widget bound to ``key`` on setting ``name`` (output stride, stage) as last
    chosen on another page. Call it before the widget; after it, :func:`share_setting`.

    The widget keeps one constant default. Streamlit leaves a value equal to the default out
    of the URL, so a default that followed the setting (what this did before) dropped the
    setting from the page's link: a link shared after choosing output stride 8 on the ASPP
    page opened Compare at 16. The value comes in through the widget's session state instead,
    and goes into the URL with it, so the link says what the page shows. A setting last
    chosen through this same widget is left alone (a click on it wins), and so is a value the
    widget's options do not hold (``"image"`` is a source of the SPP page only).
    """
    value, by = (st.session_state.get(f"_shared_{name}{part}") for part in ("", "_by"))
    if value is None or by == key or value not in [str(o) for o in options]:
        return
    if st.session_state.get(key) != value:
        st.session_state[key] = value
    if st.query_params.get(key) != value:
        st.query_params[key] = value


def share_setting(name: str, key: str, value) -> None:
    """Remember ``value`` of setting ``name``, chosen through the widget ``key``: the other
    pages open on it (:func:`shared_setting`)."""
    st.session_state[f"_shared_{name}"] = str(value)
    st.session_state[f"_shared_{name}_by"] = key


def url_cell(key: str, size: tuple[int, int]) -> tuple[int, int]:
    """The cell ``"row,col"`` the URL holds for ``key``, else the map's centre (with notice)."""
    h, w = size
    default = (h // 2, w // 2)
    raw = st.query_params.get(key)
    if raw is None:
        return default
    parts = raw.split(",")
    cell = [parse_int(part, 0, top) for part, top in zip(parts, (h - 1, w - 1), strict=False)]
    if len(parts) == 2 and None not in cell:
        return cell[0], cell[1]
    st.warning(t("common.bad_param", key=key), icon=":material/warning:")
    return default


# ---------------------------------------------------------------- the opening picture


FIXED_SIDE, PICTURE_STRIDE, PICTURE_LEVEL = 224, 32, 4
"""Crop / warp side, and the map stride and SPP level whose bins the opening picture draws."""


@st.cache_data(max_entries=16, show_spinner=False)
def _fixed_input_figure(digest: str, titles: tuple[str, str, str], width_px: int,
                        _photo: np.ndarray):
    from pyramidviz.figures.spp_sizes import fixed_input_figure
    from pyramidviz.images import crop_and_warp

    crop, warp = crop_and_warp(_photo, FIXED_SIDE)
    return fixed_input_figure(_photo, crop, warp, titles, stride=PICTURE_STRIDE,
                              level=PICTURE_LEVEL, width_px=width_px)


def fixed_input_picture(*, key: str, width_px: int = 880, height: int | None = None,
                        caption: bool = True, long_titles: bool = False) -> None:
    """Crop and warp to 224 x 224 vs SPP's bins on the whole photo (He et al. 2015, Fig. 1),
    on the current image, with a one-line caption after it (short panel titles fit a phone;
    the slides' long ones a projector)."""
    choice = current_image()
    (h, w), s, n = choice.array.shape[:2], FIXED_SIDE, PICTURE_LEVEL
    kind = "panel" if long_titles else "home"
    titles = (t(f"slides.{kind}_crop", s=s), t(f"slides.{kind}_warp", s=s),
              t(f"slides.{kind}_spp", w=w, h=h, n=n))
    fig = _fixed_input_figure(choice.digest, titles, width_px, choice.array)
    fig.update_layout(margin={"t": 70})  # two-line panel titles stay inside the figure
    if height is not None:
        fig.update_layout(height=height)
    plotly(fig, key=key, name="crop-warp-spp")
    if caption:
        st.caption(t("slides.home_caption", s=s, n=n))

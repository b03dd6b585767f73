"""Which bins? The SPP page's figure of the adaptive rule against the paper's formula.

Along each axis of the feature map, every level's windows are drawn twice: by the adaptive
rule (the authors' code, PyTorch's adaptive pooling: exactly ``n`` windows covering every cell)
and by the paper's text (window ``ceil(a/n)``, stride ``floor(a/n)`` as a plain pooling layer),
which often yields the wrong number of windows or leaves cells unpooled.

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 2015 (arXiv:1406.4729), Sec. 2.3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from pyramidviz import style
from pyramidviz.bins import bin_edges, paper_rule_report
from pyramidviz.figures import base
from pyramidviz.figures import spp_spec as spec

__all__ = ["rules_figure", "rules_height"]

_ADAPTIVE = ("#0a84ff", "rgba(10,132,255,0.35)")  # line, fill
_BROKEN = (style.HIGHLIGHT, "rgba(213,94,0,0.35)")
_UNPOOLED = (style.HIGHLIGHT, "rgba(213,94,0,0.6)")
_TEXT = "#333333"


def _lane_boxes(windows: Sequence[tuple[int, int]], lane: float) -> list[tuple]:
    """Windows as rectangles, neighbours staggered up/down so overlaps stay visible."""
    return [(lane - 0.38 + 0.2 * (i % 2), start + 0.06, lane + 0.18 + 0.2 * (i % 2), end - 0.06)
            for i, (start, end) in enumerate(windows)]


def _lane_label(size: int, n: int, labels: Mapping[str, str]) -> tuple[str, bool]:
    """What the paper's rule yields for one lane, and whether it is right."""
    report = paper_rule_report(size, n)
    if report.zero_stride:
        return labels["zero"], False
    text = labels["count"].format(got=report.n_windows, n=n)
    if report.uncovered:
        text += labels["left"].format(k=len(report.uncovered))
    return text, report.ok


LANES_END = 0.58
"""Right end of the lanes (paper x): the window counts use the rest, enough on a phone."""


def _rules_traces(size: int, levels: Sequence[int], labels: Mapping[str, str],
                  panel: int) -> tuple[list[dict], list[dict]]:
    """Adaptive and paper windows of every level along one axis of ``size`` cells, and the
    window count written right of each lane (red where the paper's rule breaks)."""
    groups: dict[str, list] = {"adaptive": [], "paper": [], "wrong": [], "uncovered": []}
    text_y, texts, colors = [], [], []
    for li, n in enumerate(levels):
        groups["adaptive"] += _lane_boxes(bin_edges(size, n), 2 * li)
        paper_text, ok = _lane_label(size, n, labels)
        groups["paper" if ok else "wrong"] += _lane_boxes(bin_edges(size, n, rule="paper"),
                                                          2 * li + 1)
        groups["uncovered"] += [(2 * li + 0.55, c, 2 * li + 1.45, c + 1)
                                for c in paper_rule_report(size, n).uncovered]
        text_y += [2 * li, 2 * li + 1]
        texts += [labels["count"].format(got=n, n=n), paper_text]
        colors += [_TEXT, _TEXT if ok else style.HIGHLIGHT]
    looks = {"adaptive": _ADAPTIVE, "paper": _ADAPTIVE, "wrong": _BROKEN, "uncovered": _UNPOOLED}
    traces = [spec.boxes(rects, color=looks[role][0], fill=looks[role][1], width=1.5,
                         panel=panel, name=labels[role], legend=bool(rects) and panel == 1,
                         dash="dot" if role == "uncovered" else None,
                         meta={"role": role, "count": len(rects)})
              for role, rects in groups.items()]
    yref = "y" if panel == 1 else f"y{panel}"
    notes = [{"text": text, "x": LANES_END + 0.01, "y": y, "xref": "paper", "yref": yref,
              "xanchor": "left", "showarrow": False,
              "font": {"color": color, "size": style.FONT_SIZE - 2}}
             for text, y, color in zip(texts, text_y, colors, strict=True)]
    return traces, notes


def rules_height(n_levels: int, *, scale: float = 1.0) -> int:
    """Height in px of :func:`rules_figure` for ``n_levels`` levels (two lanes per level on
    each of the two panels); ``scale`` > 1 leaves room for larger type.

    Examples
    --------
    >>> rules_height(3), rules_height(3, scale=1.3)
    (494, 642)
    """
    return round((2 * (44 * n_levels + 70) + 90) * scale)


def rules_figure(map_hw: tuple[int, int], levels: Sequence[int], *,
                 labels: Mapping[str, str], height: int | None = None) -> go.Figure:
    """Adaptive vs paper windows along the height and the width of an ``(h, w)`` map.

    Parameters
    ----------
    map_hw : (int, int)
    levels : sequence of int
    labels : mapping
        ``rows``/``cols`` (panel titles with ``{a}``), ``adaptive``, ``paper``, ``wrong``,
        ``uncovered``, ``zero`` (no layer: stride 0), ``count`` (``{got}`` windows for ``{n}``),
        ``left`` (``{k}`` cells never pooled, appended to ``count``).
    height : int, optional
        Default :func:`rules_height`.

    Returns
    -------
    go.Figure
        Box traces carry ``meta={"role": ..., "count": number of windows or cells}``; the
        counts beside the lanes are annotations (``yref`` ``y`` for rows, ``y2`` for columns).

    Examples
    --------
    >>> names = dict(rows="{a}", cols="{a}", adaptive="a", paper="p", wrong="w",
    ...              uncovered="u", zero="z", count="{got}/{n}", left=" -{k}")
    >>> fig = rules_figure((7, 10), (4,), labels=names)
    >>> [t.meta["count"] for t in fig.data if t.meta and t.meta["role"] == "wrong"]
    [6, 4]
    >>> [t.meta["count"] for t in fig.data if t.meta and t.meta["role"] == "uncovered"]
    [0, 1]
    """
    lanes = 2 * len(levels)
    layout: dict = {"annotations": []}
    names = [f"n={n} · {labels[rule]}" for n in levels for rule in ("adaptive", "paper")]
    data = []
    for panel, (size, key, y) in enumerate(
            ((map_hw[0], "rows", (0.58, 1.0)), (map_hw[1], "cols", (0.0, 0.42))), start=1):
        layout.update(spec.panels([1], y=y, first=panel, square=False))
        suffix = "" if panel == 1 else "2"
        layout[f"xaxis{suffix}"].update(
            range=[-0.2, size + 0.2], showticklabels=True, domain=[0, LANES_END],
            tickvals=list(range(0, size + 1, max(1, size // 20))))
        layout[f"yaxis{suffix}"].update(tickvals=list(range(lanes)), ticktext=names,
                                        showticklabels=True, range=[lanes - 0.4, -0.6])
        layout["annotations"].append(
            spec.panel_title(layout, panel, labels[key].format(a=size), y=y[1] + 0.01))
        grid = base.grid_trace(list(range(size + 1)), [-0.6, lanes - 0.4], width=0.8,
                               color="rgba(0,0,0,0.12)")
        traces, notes = _rules_traces(size, levels, labels, panel)
        data += [spec.traced(grid, panel), *traces]
        layout["annotations"] += notes
    # The legend sits at the bottom of the figure, below the tick labels whatever the type size.
    return spec.figure(data, layout, title=None, height=height or rules_height(len(levels)),
                       legend={"y": 0, "yref": "container", "yanchor": "bottom", "x": 0.5,
                               "xanchor": "center"},
                       margin={**style.MARGIN, "b": 76})

"""Pure Plotly figure builders (no streamlit): each returns a ``go.Figure`` from plain numbers.

- :mod:`pyramidviz.style` (outside this package): every colour, font and size in one place.
- :mod:`pyramidviz.figures.base`: PNG-encoded image layers, grids, boxes (shared by all pages).
- ``spp_*``, ``aspp_*`` and :mod:`pyramidviz.figures.compare`: the Plotly figures of each page.

The interactive views (SPP bins, ASPP taps, Compare's linked cell) are not figures: they are
drawn in the browser from :mod:`pyramidviz.payloads` payloads.
"""

"""Pure Plotly figure builders (no streamlit): each returns a ``go.Figure`` from plain numbers.

- :mod:`pyramidviz.figures.style`: every colour, font and size in one place.
- :mod:`pyramidviz.figures.base`: PNG-encoded image layers, grids, boxes (shared by all pages).
- :mod:`pyramidviz.figures.spp`, :mod:`pyramidviz.figures.aspp`,
  :mod:`pyramidviz.figures.compare`: the figures of each page.
"""

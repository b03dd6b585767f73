"""Home: the story of SPP and ASPP in four short steps, with links into the pages."""

from __future__ import annotations

import streamlit as st

import ui
from ui import t

st.title(t("home.title"))
ui.fixed_input_picture(key="home_picture")
st.write(t("home.intro"))

for step in ("problem", "spp", "aspp"):
    st.subheader(t(f"home.{step}_title"))
    st.write(t(f"home.{step}_body"))

st.subheader(t("home.contrast_title"))
rows = ("output", "resolution", "context", "params", "task")
st.table({
    " ": [t(f"home.row_{row}") for row in rows],
    t("home.col_spp"): [t(f"home.row_{row}_spp") for row in rows],
    t("home.col_aspp"): [t(f"home.row_{row}_aspp") for row in rows],
}, hide_index=True)

st.subheader(t("home.explore"))
for name in ("spp", "aspp", "compare"):
    st.page_link(ui.page_path(name), label=t(f"home.go_{name}"), icon=ui.PAGE_ICONS[name])

with st.expander(t("home.papers_title")):
    for paper in ("spp", "deeplab2", "deeplab3", "erf", "effnet"):
        st.markdown(f"- {t(f'home.paper_{paper}')}")

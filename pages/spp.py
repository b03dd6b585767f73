"""SPP page (being built)."""

from __future__ import annotations

import streamlit as st

from ui import t

st.title(t("common.nav_spp"))
st.info(t("common.coming_soon"))

"""Slides: the lecture as one deck, for presentation mode.

Presentation mode opens here. The whole lecture is one browser view (``pyramidviz/web/deck.js``)
fed one payload, built once per photo and language by :func:`pyramidviz.deck.deck_payload`
from the same core functions the other pages use. Changing slides never reruns this script:
the clicker's keys, ``?slide=N``, blanking, full screen and the presenter window all live in
the browser. Below the deck, the same deck downloads as one HTML file that needs no server
(:func:`pyramidviz.deck.export_html`).
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

import ui
from pyramidviz import bundle, deck, i18n
from ui import t

DECK_KEY = "deck"
SLIDE_CSS = """
<style>
.block-container { padding: 3.1rem 1.5rem 1rem !important; max-width: 100% !important; }
[data-testid="stMain"] { --pv-deck-top: 3.3rem; }
[data-testid="stHeader"] { background: transparent; }
</style>
"""


@functools.cache
def _deck_source() -> tuple[str, str]:
    """The deck's joined ES module and its stylesheet."""
    return bundle.bundle("deck.js"), bundle.stylesheet("deck.css")


def deck_image() -> tuple[ui.ImageChoice, bool]:
    """The photo the deck shows, and whether it stands in for the sidebar's sample.

    The lecturer's upload (any size, square too) and every wide sample are used as they are.
    A square sample (the app's default astronaut, the camera), where crop and warp look
    alike, gives way to the wide :data:`pyramidviz.deck.DECK_SAMPLE`; the page says so.
    """
    image = ui.current_image()
    h, w = image.array.shape[:2]
    if image.is_upload or h != w:
        return image, False
    name = deck.DECK_SAMPLE
    return ui.image_choice(name, ui.sample_bytes(name), is_upload=False), True


@st.cache_data(max_entries=8, show_spinner=False)
def deck_payload(digest: str, lang: str, name: str, _photo: np.ndarray,
                 _maps: dict) -> dict:
    """The deck's one payload for this photo and language (cached on the photo's digest)."""
    return deck.deck_payload(_photo, lang=lang, name=name,
                             features=lambda tap, os: _maps[tap, os])


@st.cache_data(max_entries=4, show_spinner=False)
def deck_file(digest: str, lang: str, _payload: dict) -> str:
    """The exported one-file deck of this payload."""
    return deck.export_html(payload=_payload)


def show_deck(image: ui.ImageChoice) -> dict:
    """Mount the deck view on this photo; returns its payload."""
    maps = {(deck.TAP, os): ui.feature_map(image.digest, deck.TAP, os, image.array)
            for os in (deck.SPP_OS, deck.ASPP_OS)}
    lang = ui.lang()
    payload = deck_payload(image.digest, lang, image.name, image.array, maps)
    js, css = _deck_source()
    view = st.components.v2.component("pyramidviz_deck", js=js, css=css)
    view(key=DECK_KEY, data={"payload": payload, "css": css,
                             "token": ui.view_token(image.digest, lang)})
    return payload


def export_ui(image: ui.ImageChoice, payload: dict) -> None:
    """The download of the whole deck as one self-contained HTML file."""
    lang = ui.lang()
    page = deck_file(image.digest, lang, payload)
    h, w = image.array.shape[:2]
    with st.container(key="deck_export"):
        st.subheader(t("slides.export_header"))
        st.download_button(t("slides.export_button"), page.encode("utf-8"),
                           file_name=f"pyramidviz-deck-{lang}.html", mime="text/html",
                           key="deck_download", on_click="ignore",
                           icon=":material/download:",
                           help=t("slides.export_help", lang=i18n.LANGUAGE_NAMES[lang]))
        st.caption(t("slides.export_size", kb=round(len(page.encode("utf-8")) / 1024),
                     w=w, h=h))


def main() -> None:
    st.html(SLIDE_CSS)
    image, stand_in = deck_image()
    payload = show_deck(image)
    st.title(t("slides.page_title"))  # below the deck: the screen above is the slide
    st.markdown(t("slides.page_intro"))
    if stand_in:
        st.caption(t("slides.deck_photo_note", name=ui.escape_md(image.name)))
    export_ui(image, payload)


main()

"""pyramidviz: the Streamlit entry point.

A router and nothing more: language, presentation mode and the image in use are chosen here in
the sidebar (so every page shares them), then ``st.navigation`` runs the chosen page.
Run with ``streamlit run app.py``.
"""

from __future__ import annotations

import functools
import os
import time

import streamlit as st

import ui
from pyramidviz import bundle, i18n

LANG_OPTIONS = [i18n.LANGUAGE_NAMES[code] for code in i18n.LANGUAGES]  # URL shows these names
# The running man in the top right re-renders five times a second for as long as a run lasts:
# 30 waiting pages cost about a core (benchmarks/many_users.py). Its "Stop" and connection
# notices stay; heavy work says "queued" or "computing" in the page (ui.computed).
APP_CSS = """
<style>
[data-testid="stStatusWidgetRunningIcon"] { display: none !important; }
h1 { font-size: 2.0rem !important; padding-top: 0.2rem !important; }
.block-container { padding-top: 3.6rem; }
:lang(ko), [lang=ko] { word-break: keep-all; }
</style>
"""
PRESENT_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.15rem; }
h1 { font-size: 2.6rem !important; } h2 { font-size: 2.0rem !important; }
h3 { font-size: 1.6rem !important; }
.block-container { padding-top: 3.5rem; max-width: 100%; }
</style>
"""


def language_ui() -> str:
    """Language switch, always written into the URL (``?lang=English``, ``?lang=한국어``).

    The link decides first (a shared link, Back and Forward), then the browser's locale on a
    session's first run; a click on the switch then wins. The URL always carries the language:
    a Korean browser's link once carried none (its default is Korean, and a bound widget
    leaves its default out of the URL), so an English browser opened it in English.
    """
    state = st.session_state
    ui.check_param("lang", LANG_OPTIONS)
    asked = st.query_params.get("lang")
    clicked = state.pop("_lang_clicked", False)
    if asked in LANG_OPTIONS and not clicked:
        state["lang"] = asked
    elif state.get("lang") not in LANG_OPTIONS:
        locale = (st.context.locale or "en").lower()
        state["lang"] = LANG_OPTIONS[1 if locale.startswith("ko") else 0]
    name = st.sidebar.radio("Language / 언어", LANG_OPTIONS, key="lang", horizontal=True,
                            on_change=_language_clicked)
    if st.query_params.get("lang") != name:
        st.query_params["lang"] = name
    code = i18n.LANGUAGES[LANG_OPTIONS.index(name)]
    st.session_state["_lang"] = code
    return code


def _present_changed() -> None:
    """Turning presentation mode on, from any page, opens the deck (:func:`open_deck`)."""
    st.session_state["_open_deck"] = bool(st.session_state.get("present"))


def open_deck(page, pages: dict, present_link: bool) -> None:
    """Go to the slides when presentation mode was just turned on, or when a session opens
    the root URL with ``?present=true``; a page's own URL (``/slides?present=true``,
    ``/spp?present=true``) stays where it points. The URL's parameters go along."""
    first = not st.session_state.get("_ran")
    st.session_state["_ran"] = True
    wanted = st.session_state.pop("_open_deck", False) or (
        first and present_link and page.url_path in ("", "home"))
    if wanted and page.url_path != ui.PRESENT_PAGE:
        # The sidebar's bound parameters (language, presentation, photo) follow their
        # widgets; of the rest only the deck's slide and the upload mark mean anything there.
        kept = {k: v for k, v in st.query_params.to_dict().items()
                if k in ("slide", ui.UPLOAD_PARAM)}
        st.switch_page(pages[ui.PRESENT_PAGE], query_params=kept)


def _language_clicked() -> None:
    st.session_state["_lang_clicked"] = True


# The language mark takes no room in the sidebar (its script still runs); Korean text wraps
# between words (Streamlit's own ``word-break: break-word`` on paragraphs splits them).
# (Comments, not strings: Streamlit's "magic" writes a bare string of app.py on every page.)
LANG_CSS = """
<style>
.st-key-pv_lang { display: none; }
html:lang(ko) [data-testid="stApp"] * { word-break: keep-all; overflow-wrap: break-word; }
</style>
"""


@functools.cache
def _lang_script() -> str:
    return bundle.bundle("lang.js")


def page_language(code: str) -> None:
    """Set ``<html lang>`` to ``code`` on every page, views or none (pyramidviz/web/lang.js).

    Without it the page stays ``lang="en"``: ``:lang(ko) { word-break: keep-all }`` never
    applies (Chromium breaks Korean words mid-word) and a screen reader reads Korean with an
    English voice. Mounted in the sidebar, which every page has.
    """
    component = st.components.v2.component("pyramidviz_lang", js=_lang_script())
    with st.sidebar:
        st.html(LANG_CSS)
        component(key="pv_lang", data={"lang": code})


def presentation_ui() -> bool:
    """Presentation mode: larger type and folded controls (also ``?present=true``)."""
    present = st.sidebar.toggle(ui.t("common.present"), key="present", bind="query-params",
                                help=ui.t("common.present_help"), on_change=_present_changed)
    st.session_state["_present"] = present
    st.html(APP_CSS)
    if present:
        st.html(PRESENT_CSS)
    return present


def upload_marker(choice) -> None:
    """Mark the URL while an upload is in use, and explain a mark that finds no upload.

    A new session that opens a marked URL has lost the photo: the page was reloaded, the link
    was shared, or the proxy moved the student to another replica when theirs went away. It
    says so (in the page and the sidebar) instead of silently showing the sample, until the
    student picks another sample or uploads. A student who removes their own upload in this
    session gets no notice.
    """
    state = st.session_state
    if choice.is_upload:
        if st.query_params.get(ui.UPLOAD_PARAM) != choice.digest[:12]:  # a write sends the
            st.query_params[ui.UPLOAD_PARAM] = choice.digest[:12]  # whole URL: only on change
        state["_had_upload"] = True
        state.pop("_upload_gone", None)
        return
    if ui.UPLOAD_PARAM in st.query_params:
        del st.query_params[ui.UPLOAD_PARAM]
        if not state.pop("_had_upload", False):
            state["_upload_gone"] = choice.name  # until another sample is picked
            forget_photo_cells()
    if state.get("_upload_gone") == choice.name:
        st.info(ui.t("common.upload_gone"), icon=":material/cloud_off:")
        st.sidebar.caption(ui.t("common.upload_gone_short"))


def forget_photo_cells() -> None:
    """Drop the link's cells (``ui.PHOTO_URL_KEYS``) with the photo they were on.

    They name cells of the upload's feature map, which this session does not have: read on
    the sample's map they were out of range, and a second notice blamed ``aspp_cell``, a
    value the app wrote itself. The page opens at its map's centre instead.
    """
    for key in ui.PHOTO_URL_KEYS:
        if key in st.query_params:
            del st.query_params[key]


def image_ui() -> None:
    """Sample picker and uploader; stores the decoded choice for the pages."""
    sidebar = st.sidebar
    sidebar.subheader(ui.t("common.image_header"))
    names = list(ui.SAMPLES)
    ui.check_param("img", names)
    sample = sidebar.selectbox(ui.t("common.sample"), names, key="img", bind="query-params")
    # No ``type=`` filter: the content is checked by load_image anyway, and Streamlit's own
    # name check raises outside our script (a name with a NUL byte breaks the run).
    upload = sidebar.file_uploader(ui.t("common.upload"), key="upload",
                                   help=ui.t("common.upload_help",
                                             mb=st.get_option("server.maxUploadSize")))
    choice = None
    if upload is not None:
        from pyramidviz.images import ImageLoadError, safe_filename

        try:
            choice = ui.image_choice(safe_filename(upload.name), upload.getvalue(),
                                     is_upload=True)
        except ImageLoadError as error:
            # In the sidebar beside the uploader, and in the page: on a phone the sidebar
            # is closed once a file is picked, and the student would see only the sample.
            sidebar.error(ui.error_text(error), icon=":material/block:")
            st.error(ui.t("common.upload_failed", msg=ui.error_text(error)),
                     icon=":material/block:")
    if choice is None:
        choice = ui.image_choice(sample, ui.sample_bytes(sample), is_upload=False)
    upload_marker(choice)
    st.session_state["_image"] = choice
    h, w = choice.photo_hw
    key = "common.using_upload" if choice.is_upload else "common.using_sample"
    sidebar.caption(ui.t(key, name=ui.escape_md(choice.name), w=w, h=h))
    if choice.resized:
        oh, ow = choice.original_hw
        sidebar.caption(ui.t("common.resized_note", ow=ow, oh=oh, w=w, h=h))
    sidebar.image(choice.array, width="stretch",
                  alt=ui.t("common.photo_alt", name=choice.name))


def main() -> None:
    start = time.monotonic()
    st.session_state["_waited"] = 0.0  # seconds this run waits on heavy work (ui.computed)
    present_link = str(st.query_params.get("present", "")).lower() == "true"
    st.set_page_config(page_title="pyramidviz", page_icon=ui.APP_ICON, layout="wide",
                       initial_sidebar_state="collapsed" if present_link else "auto")
    page_language(language_ui())
    presentation_ui()
    # Home stays the default page in presentation mode too: a default page answers at "/"
    # only, so a bookmarked /slides?present=true found no page when the slides were it.
    pages = {name: st.Page(ui.page_path(name), title=ui.t(f"common.nav_{name}"), icon=icon,
                           url_path=name, default=(name == "home"))
             for name, icon in ui.PAGE_ICONS.items()}
    page = st.navigation(list(pages.values()))
    open_deck(page, pages, present_link)
    image_ui()
    if page not in [pages[name] for name in ui.TENSOR_FREE_PAGES]:  # naming it imports torch
        st.sidebar.caption(ui.t("common.device", device=ui.device_text()))
    replica = os.environ.get("PYRAMIDVIZ_REPLICA", "")
    if replica.isalnum():  # deployments name their replicas (deploy/); shown to the teacher
        st.sidebar.caption(ui.t("common.replica", name=replica))
    st.sidebar.caption(ui.t("common.attribution"))
    timed_run(page, start)


def timed_run(page, start: float) -> None:
    """Run the page; with ``$PYRAMIDVIZ_RUN_LOG`` set, log how long the server took.

    A record: the page, the photo's name, the run's wall seconds since ``start`` (the top of
    the script, so decoding an upload counts), how many of them it waited
    on the heavy-work pool (``ui.computed``), when it ended, and how it ended ("done", or the
    name of the exception that ended it: a rerun asked for mid-run, a stop).
    """
    log, ended = ui.run_log(), "done"
    try:
        page.run()
    except BaseException as error:  # Streamlit's rerun/stop exceptions, and real errors
        ended = type(error).__name__
        raise
    finally:
        if log is not None:
            log.write(page=page.url_path or "home", image=st.session_state["_image"].name,
                      seconds=round(time.monotonic() - start, 4),
                      waited=round(st.session_state.get("_waited", 0.0), 4),
                      end=round(time.time(), 4), ended=ended)


main()

// The lecture deck as a Streamlit view (st.components.v2): the page mounts it with the one
// payload pyramidviz.deck.deck_payload built; a rerun with the same token changes nothing.

import { mount } from "./deck_view.js";

export default function (component) {
  const { parentElement, data } = component;
  mount(parentElement, data.payload, { css: data.css, token: data.token });
}

"""Real browser: the Your network page takes an ONNX upload through the real widget, shows
its layers and the SPP / ASPP views for it, and bad files end in a message, not an exception.
"""

from __future__ import annotations

import io
import json
import warnings

import pytest
import torch
from torch import nn

from pyramidviz.receptive import receptive_field
from pyramidviz.tracing import layers_of

from browser import exceptions_on_screen, open_page, upload, wait_idle

pytestmark = pytest.mark.browser


def model() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 4, 3, padding=2, dilation=2), nn.Conv2d(4, 4, 3, 2, 1))


def onnx_bytes() -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model().eval(), (torch.zeros(1, 3, 64, 64),), buffer, dynamo=False)
    return buffer.getvalue()


def upload_onnx(page, name: str, data: bytes) -> None:
    """Upload ``name`` and wait until the page names it or says it could not read it."""
    main = page.locator("[data-testid=stMain]")
    unread = main.locator("[data-testid=stAlert]").filter(has_text="Could not read")
    assert upload(page, [{"name": name, "mimeType": "application/octet-stream", "buffer": data}],
                  lambda p: f"{name}: " in main.inner_text() or unread.count() > 0,
                  scope="[data-testid=stMain]"), name


def test_onnx_upload_in_the_browser(page, server_url):
    open_page(page, server_url)
    open_page(page, f"{server_url}/network")
    page.get_by_text("ONNX file", exact=True).click()
    wait_idle(page)
    upload_onnx(page, "my_net.onnx", onnx_bytes())
    assert not exceptions_on_screen(page)
    main = page.locator("[data-testid=stMain]")
    assert main.locator("[data-testid=stAlert]").filter(has_text="Could not read").count() == 0
    traced = layers_of(model(), (1, 3, 64, 64))
    last = receptive_field(traced)[-1]
    heading = f"my_net.onnx: {len(traced)} layers"
    assert heading in main.inner_text()
    summary = main.get_by_text(heading).inner_text()
    assert f"receptive field {last.size[0]} px, effective stride {last.stride[0]} px" in summary
    spp = page.locator("[data-testid=pv-spp-bins]")
    spp.wait_for()
    taps = page.locator("[data-testid=pv-net-taps]")
    taps.wait_for()
    assert json.loads(taps.get_attribute("data-state"))["stride"] == last.stride[0]
    spp.focus()
    page.keyboard.press("ArrowRight")
    assert json.loads(spp.get_attribute("data-state"))["bin"] == 1
    for name, data in (("random.onnx", bytes(range(256)) * 20), ("cut.onnx", onnx_bytes()[:200])):
        upload_onnx(page, name, data)
        assert not exceptions_on_screen(page), name
        assert main.locator("[data-testid=stAlert]").filter(has_text="Could not read").count()
        assert page.locator("h1").first.inner_text().startswith("Your network")
    upload_onnx(page, "again.onnx", onnx_bytes())  # the session keeps working
    assert main.get_by_text(f"again.onnx: {len(traced)} layers").count() == 1
    assert not exceptions_on_screen(page)

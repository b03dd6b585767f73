"""A network typed as text: ``"conv3 s2, conv3, pool2, conv3 d2"`` <-> a list of layers.

Grammar (case-insensitive; items separated by commas, semicolons or new lines)::

    item   := "conv" SIZE option* | "pool" SIZE option* | "gap"
    option := "s" SIZE (stride) | "d" SIZE (dilation) | "p" SIZE (padding before the input)
    SIZE   := INT | INT "x" INT (height x width)

Defaults follow the usual PyTorch habits: a conv has stride 1, dilation 1 and "same"
padding ``d (k - 1) // 2``; a pool has stride = its kernel and no padding (as
``nn.MaxPool2d(k)``); ``gap`` is a global average pool. :func:`format_spec` writes the
shortest spec (defaults left out), so ``format_spec(parse_spec(s)) == s`` for such a spec.

References
----------
A. Araujo, W. Norris, J. Sim, Distill 2019 ("Single-path networks": the layer parameters).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pyramidviz.checks import CodedError
from pyramidviz.receptive import Layer

__all__ = ["LIMITS", "MAX_LAYERS", "SpecError", "format_spec", "parse_spec"]

MAX_LAYERS = 400
LIMITS = {"kernel": 99, "s": 64, "d": 512, "p": 999}
"""Largest kernel, stride, dilation and padding a spec may give."""

_SEPARATORS = re.compile(r"[,;\n]")
_SIZE = r"([0-9]+)(?:x([0-9]+))?"  # any length: "d999999" is out of range, not unknown
_HEAD = re.compile(rf"(conv|pool){_SIZE}")
_OPTION = re.compile(rf"([sdp]){_SIZE}")
_NAMES = {"s": "stride", "d": "dilation", "p": "padding"}


class SpecError(CodedError):
    """A spec that could not be read: ``code`` says why, ``token`` what, ``item`` where.

    Codes: ``empty`` (no layer at all), ``blank`` (item ``item`` is empty: two separators in
    a row), ``too_many`` (more than :data:`MAX_LAYERS`), ``unknown`` (not conv/pool/gap),
    ``option`` (not s/d/p with a number), ``duplicate`` (an option twice), ``range`` (a number
    out of its range: ``what`` names it, ``low`` and ``high`` are its bounds). Items count
    from 1; ``item`` is 0 only for an error about the whole spec (``empty``, ``too_many``).
    """

    CODES = ("empty", "blank", "too_many", "unknown", "option", "duplicate", "range")

    def __init__(self, code: str, message: str, *, token: str = "", item: int = 0,
                 what: str = "", low: int = 0, high: int = 0) -> None:
        super().__init__(message, code=code, token=token, item=item, what=what, low=low,
                         high=high)


def _size(first: str, second: str | None) -> tuple[int, int]:
    # Ten digits are enough to be out of every range (and keep int() from huge strings).
    return int(first[:10]), int((second if second is not None else first)[:10])


def _check(what: str, pair: tuple[int, int], *, token: str, item: int, low: int) -> None:
    top = LIMITS[what]
    if not low <= min(pair) <= max(pair) <= top:
        name = _NAMES.get(what, what)
        raise SpecError("range", f"item {item}: {name} in {token!r} must be {low}..{top}",
                        token=token, item=item, what=name, low=low, high=top)


def _parse_item(text: str, item: int) -> Layer:
    words = text.lower().split()
    if words == ["gap"]:
        return Layer(1, name="gap", global_pool=True)
    head = _HEAD.fullmatch(words[0])
    if head is None:
        raise SpecError("unknown", f"item {item}: {words[0]!r} is not a layer (use conv3, "
                        "pool2 or gap)", token=words[0], item=item)
    kind, kernel = head.group(1), _size(head.group(2), head.group(3))
    _check("kernel", kernel, token=words[0], item=item, low=1)
    options: dict[str, tuple[int, int]] = {}
    for word in words[1:]:
        match = _OPTION.fullmatch(word)
        if match is None:
            raise SpecError("option", f"item {item}: {word!r} is not an option (s2, d2, p1)",
                            token=word, item=item)
        key = match.group(1)
        if key in options:
            raise SpecError("duplicate", f"item {item}: {_NAMES[key]} given twice ({word!r})",
                            token=word, item=item)
        options[key] = _size(match.group(2), match.group(3))
        _check(key, options[key], token=word, item=item, low=0 if key == "p" else 1)
    dilation = options.get("d", (1, 1))
    if kind == "conv":
        stride = options.get("s", (1, 1))
        padding = options.get("p", _same(kernel, dilation))
    else:
        stride, padding = options.get("s", kernel), options.get("p", (0, 0))
    layer = Layer(kernel, stride, padding, dilation, name=kind)
    return Layer(kernel, stride, padding, dilation, name=_format_layer(layer))


def _same(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))  # type: ignore


def parse_spec(text: str) -> list[Layer]:
    """Layers of a typed spec such as ``"conv3 s2, conv3, pool2, conv3 d2"``.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of Layer
        Each named by its shortest spec item (``"conv3 s2"``).

    Raises
    ------
    SpecError
        Naming the item number and the token that could not be read.

    Examples
    --------
    >>> [(l.kernel[0], l.stride[0], l.padding[0], l.dilation[0])
    ...  for l in parse_spec("conv3 s2, conv3, pool2, conv3 d2")]
    [(3, 2, 1, 1), (3, 1, 1, 1), (2, 2, 0, 1), (3, 1, 2, 2)]
    >>> parse_spec("conv3, relu")
    Traceback (most recent call last):
    ...
    pyramidviz.specs.SpecError: item 2: 'relu' is not a layer (use conv3, pool2 or gap)
    >>> error = None
    >>> try:
    ...     parse_spec("conv3 d999999")
    ... except SpecError as caught:
    ...     error = caught
    >>> error.code, error.item, error.what, error.low, error.high
    ('range', 1, 'dilation', 1, 512)
    """
    if not isinstance(text, str):
        raise SpecError("empty", f"a spec must be text, got {type(text).__name__}")
    items = [part.strip() for part in _SEPARATORS.split(text)]
    if items and not items[-1]:
        items.pop()  # one trailing comma is fine
    if not any(items):
        raise SpecError("empty", "the spec names no layer (e.g. conv3 s2, pool2)")
    if len(items) > MAX_LAYERS:
        raise SpecError("too_many", f"a spec may have at most {MAX_LAYERS} layers, got "
                        f"{len(items)}", token=str(len(items)))
    layers = []
    for index, item in enumerate(items, start=1):
        if not item:
            raise SpecError("blank", f"item {index} is empty (two commas in a row?)",
                            item=index)
        layers.append(_parse_item(item, index))
    return layers


def _pair_text(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _format_layer(layer: Layer) -> str:
    if layer.global_pool:
        return "gap"
    pool = "pool" in layer.name.lower()
    parts = [("pool" if pool else "conv") + _pair_text(layer.kernel)]
    default_stride = layer.kernel if pool else (1, 1)
    default_padding = (0, 0) if pool else _same(layer.kernel, layer.dilation)
    if layer.stride != default_stride:
        parts.append("s" + _pair_text(layer.stride))
    if layer.dilation != (1, 1):
        parts.append("d" + _pair_text(layer.dilation))
    if layer.padding != default_padding:
        parts.append("p" + _pair_text(layer.padding))
    return " ".join(parts)


def format_spec(layers: Sequence[Layer]) -> str:
    """The shortest spec of ``layers`` (a layer whose name contains "pool" is a pool).

    Examples
    --------
    >>> format_spec([Layer(3, 2, 1), Layer(2, 2, name="pool1"), Layer(3, 1, 2, 2)])
    'conv3 s2, pool2, conv3 d2'
    >>> format_spec(parse_spec("CONV3 s1 p1 ,pool2 s2"))
    'conv3, pool2'
    """
    return ", ".join(_format_layer(layer) for layer in layers)

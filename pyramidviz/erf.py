"""Effective receptive fields (Luo et al. 2016) of a backbone cell and of ASPP branches on it.

Set the gradient of the feature map to a seed (1 at one cell, all channels), back-propagate
to the input and take ``|d y / d x|`` summed over the input channels. The theoretical field
says which pixels *can* matter; the effective one shows how much each does: roughly a
Gaussian filling a fraction of the theoretical box.

The ASPP branches are previewed with uniform weights on top of the backbone cell: "1x1" is
the cell itself, "rate r" averages the dilated k x k taps that land inside the map, "image
pool" averages every cell. All branches share one forward pass, and the backward passes are
packed: units whose theoretical fields are disjoint (a rate's outer taps once the rate times
the jump exceeds the field) share one backward, separated afterwards by their field boxes
(:func:`packed_seeds`; exact, as no pixel outside a unit's field gets a gradient from it).

The backbone pads TF "SAME", which depends on each layer's input size only through
``ceil(i / s)``: a crop of the photo whose offset is a multiple of the total stride ``S``
and whose size equals the photo's modulo ``S`` is padded like the photo at every layer, so
its cells are the photo's cells, shifted. A cell whose theoretical field lies in the crop
then has the same input gradient on the crop as on the photo (zero outside its field), so
:func:`aligned_crop` lets every branch but the image pool run on a crop that holds their
fields; the image pool sees the whole photo, does not depend on the cell, and is computed
once per photo (:func:`image_pool_gradient`, which a caller may cache and pass back).

One photo gives a noisy map (the ReLU gates depend on the content). Luo et al. average the
gradient over many inputs: :func:`averaged_effective_receptive_field` runs a batch of inputs
(:func:`erf_inputs`: the photo, its mirror image and the bundled samples, 7 in all, 6 for
a sample photo) and
averages ``|d y / d x|`` over them. :func:`common_scale` puts branches on one brightness
scale and :func:`mass_within` gives the radial profile (mass within radius ``r``).

References
----------
.. [1] W. Luo, Y. Li, R. Urtasun, R. Zemel, "Understanding the Effective Receptive Field in
   Deep Convolutional Neural Networks", NeurIPS 2016, Sec. 2 and Fig. 1.
.. [2] L.-C. Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
   arXiv 1706.05587, Sec. 3.3 and Fig. 5 (ASPP branches).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from pyramidviz.atrous import tap_cells
from pyramidviz.backbones import EfficientNetLite0, tap_info
from pyramidviz.checks import odd_kernel, positive_ints
from pyramidviz.preprocessing import preprocess
from pyramidviz.receptive import Box, FieldInfo, receptive_field
from pyramidviz.samples import SAMPLES, load_sample
from pyramidviz.tracing import layers_of

__all__ = [
    "ERF_INPUTS", "ERFMap", "ERFResult", "aligned_crop", "averaged_effective_receptive_field",
    "branch_seeds", "common_scale", "effective_receptive_field", "erf_inputs", "field_reach",
    "image_pool_gradient", "input_gradients", "mass_within", "packed_seeds",
]


ERF_INPUTS = 2 + len(SAMPLES)
"""How many images :func:`erf_inputs` gives for an upload: the photo, its mirror and every
bundled sample (one fewer for a sample, which is not counted twice)."""


@dataclass(frozen=True)
class ERFMap:
    """The effective receptive field of one output unit (or weighted set of units).

    Attributes
    ----------
    map : np.ndarray, shape (H, W), float32
        ``sum_c |d y / d x_c|`` divided by its maximum (all zeros if the gradient vanished).
    mass : float
        Sum of the map before normalising.
    center : (float, float)
        Theoretical centre ``(y, x)`` of the seed point (``FieldInfo.center``).
    centroid : (float, float)
        Centre of mass ``(y, x)`` of the map.
    r50, r90 : float
        Radius in pixels of the smallest disc around ``center`` holding 50 % / 90 % of the mass.
    theoretical : Box
        Theoretical field clipped to the image: every pixel with a non-zero gradient is inside.
    peak : float
        Maximum of the map before normalising (``map * peak`` is the gradient itself).
    """

    map: np.ndarray
    mass: float
    center: tuple[float, float]
    centroid: tuple[float, float]
    r50: float
    r90: float
    theoretical: Box
    peak: float = 1.0


@dataclass(frozen=True)
class ERFResult:
    """ERFs of the branches ("1x1", "rate r" ..., "image pool") at one feature cell."""

    tap: str
    point: tuple[int, int]
    image_size: tuple[int, int]
    feature_size: tuple[int, int]
    field: FieldInfo
    branches: dict[str, ERFMap]
    inputs: int = 1
    """How many inputs the gradient magnitudes are averaged over."""
    crop: Box | None = None
    """The part of the image the branches other than the image pool were computed on
    (:func:`aligned_crop`); the whole image when no smaller crop holds their fields."""
    pool: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)
    """The image pool's gradient magnitude, shape (H, W) (None without rates): what
    :func:`image_pool_gradient` gives, to keep for the photo's other cells."""

    @property
    def backbone(self) -> ERFMap:
        """The plain backbone cell's ERF (the "1x1" branch)."""
        return self.branches["1x1"]


def branch_seeds(feature_size: tuple[int, int], point: tuple[int, int],
                 rates: Sequence[int] = (), *, kernel: int = 3) -> dict[str, np.ndarray]:
    """Output-gradient seeds ``(h, w)`` for "1x1", each "rate r" and "image pool".

    A "rate r" seed spreads 1 evenly over the ``kernel x kernel`` taps at ``point`` that
    land on the map: the gradient of :func:`pyramidviz.aspp.branch_previews` there.

    Examples
    --------
    >>> seeds = branch_seeds((4, 4), (0, 0), rates=(2,))
    >>> seeds["rate 2"][::2, ::2].tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    >>> float(seeds["image pool"].sum()), list(seeds)
    (1.0, ['1x1', 'rate 2', 'image pool'])
    """
    (h, w), (row, col) = feature_size, point
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"point must be a cell of the {feature_size!r} map, got {point!r}")
    one = np.zeros((h, w), np.float32)
    one[row, col] = 1.0
    seeds = {"1x1": one}
    if not rates:
        return seeds
    rates, kernel = positive_ints(rates, "rates"), odd_kernel(kernel)
    if len(set(rates)) != len(rates):
        raise ValueError(f"rates must be distinct positive ints, got {rates!r}")
    for rate in rates:
        cells, inside = tap_cells(feature_size, point, rate=rate, kernel=kernel)
        seed = np.zeros((h, w), np.float32)
        seed[cells[inside, 0], cells[inside, 1]] = 1.0 / inside.sum()
        seeds[f"rate {rate}"] = seed
    seeds["image pool"] = np.full((h, w), 1.0 / (h * w), np.float32)
    return seeds


def input_gradients(forward: Callable[[Tensor], Tensor], x: Tensor, seeds: Tensor, *,
                    batched: bool = False) -> Tensor:
    """``sum_c |d <seed, forward(x)> / d x_c|`` for each seed: one forward pass per input.

    With ``N > 1`` inputs the magnitudes are averaged over them (Luo et al.'s average over
    inputs). Each input runs on its own (``_CHUNK`` at a time), so its gradient is that of
    its own output whatever the model does across a batch.

    Parameters
    ----------
    forward : callable
        Maps ``x`` of shape (N, C, H, W) to features of shape (N, K, h, w).
    x : Tensor, shape (N, C, H, W)
    seeds : Tensor, shape (B, h, w)
        Spatial output gradients, applied to every feature channel.
    batched : bool
        One vmapped backward (``is_grads_batched``) instead of ``B`` backward passes.

    Returns
    -------
    Tensor, shape (B, H, W)
        Mean over the ``N`` inputs of the channel-summed magnitudes.

    Examples
    --------
    >>> conv = nn.Conv2d(1, 1, 3, padding=1, bias=False).requires_grad_(False)
    >>> _ = conv.weight.fill_(1.0)
    >>> g = input_gradients(conv, torch.zeros(1, 1, 5, 5), torch.ones(1, 5, 5))
    >>> g[0, 2].tolist()
    [6.0, 9.0, 9.0, 9.0, 6.0]
    """
    total = None
    for start in range(0, x.shape[0], _CHUNK):
        part = _gradient_magnitudes(forward, x[start:start + _CHUNK], seeds, batched)
        total = part if total is None else total + part
    return (total / x.shape[0]).detach()


_CHUNK = 1
"""Inputs per forward / backward in :func:`input_gradients`. One at a time is the fastest
on a CPU (2.6x faster than a batch of 7 at 512 x 512: the activations stay small) and holds
the least memory; the sum over inputs is the same."""


def _gradient_magnitudes(forward: Callable[[Tensor], Tensor], x: Tensor, seeds: Tensor,
                         batched: bool) -> Tensor:
    """Channel-summed ``|dx|`` per seed, summed over the inputs of ``x``: shape (B, H, W)."""
    with torch.inference_mode(False), torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        features = forward(x)
        if (features.ndim != 4 or features.shape[0] != x.shape[0]
                or features.shape[-2:] != seeds.shape[-2:]):
            raise ValueError(f"features {tuple(features.shape)} do not match seeds "
                             f"{tuple(seeds.shape)} and inputs {tuple(x.shape)}")
        grads = seeds.to(features)[:, None, None].expand(-1, *features.shape).contiguous()
        if batched:
            (dx,) = torch.autograd.grad(features, x, grads, is_grads_batched=True)
        else:
            dx = torch.stack([torch.autograd.grad(features, x, g, retain_graph=True)[0]
                              for g in grads])
    return dx.abs().sum(dim=-3).sum(dim=1).detach()  # (B, N, C, H, W) -> (B, H, W)


def _disc_radii(grad: np.ndarray, center: tuple[float, float]) -> tuple[float, float]:
    """Radii around ``center`` of the smallest discs holding 50 % and 90 % of the mass."""
    ys, xs = np.indices(grad.shape, dtype=np.float64)  # as in mass_within: r50 holds half
    dist = np.hypot(ys - center[0], xs - center[1]).ravel()
    order = np.argsort(dist, kind="stable")
    cumulative = np.cumsum(grad.ravel()[order], dtype=np.float64)
    if cumulative[-1] <= 0:
        return float("nan"), float("nan")
    index = np.searchsorted(cumulative, [0.5 * cumulative[-1], 0.9 * cumulative[-1]])
    return tuple(float(dist[order[min(i, dist.size - 1)]]) for i in index)  # type: ignore


def erf_map(grad: np.ndarray, center: tuple[float, float], theoretical: Box, *,
            support: Box | None = None) -> ERFMap:
    """Summarise a gradient-magnitude image ``(H, W)`` as an :class:`ERFMap`.

    ``support``, when given, is a box outside which ``grad`` is zero: the statistics are
    then taken over it alone (the same values, without sorting every pixel of a large photo).

    Examples
    --------
    >>> g = np.zeros((5, 5), np.float32); g[2, 1:4] = (1, 2, 1)
    >>> m = erf_map(g, (2.0, 2.0), Box(0, 0, 5, 5))
    >>> m.mass, m.centroid, m.r50, m.r90, float(m.map.max())
    (4.0, (2.0, 2.0), 0.0, 1.0, 1.0)
    >>> s = erf_map(g, (2.0, 2.0), Box(0, 0, 5, 5), support=Box(2, 1, 3, 4))
    >>> s.mass, s.centroid, s.r50, s.r90, s.map.shape
    (4.0, (2.0, 2.0), 0.0, 1.0, (5, 5))
    """
    grad = np.asarray(grad, np.float32)
    box = Box(0, 0, *grad.shape) if support is None else support.clip(*grad.shape)
    part = grad[box.top:box.bottom, box.left:box.right]
    mass = float(part.sum(dtype=np.float64))
    peak = float(part.max()) if part.size else 0.0
    if mass > 0:
        ys, xs = np.indices(part.shape)
        centroid = (float((ys * part).sum() / mass) + box.top,
                    float((xs * part).sum() / mass) + box.left)
    else:
        centroid = tuple(map(float, center))
    r50, r90 = _disc_radii(part, (center[0] - box.top, center[1] - box.left))
    normalised = grad / peak if peak > 0 else grad
    return ERFMap(normalised, mass, tuple(map(float, center)), centroid, r50, r90, theoretical,
                  peak)


def aligned_crop(box: Box, image_size: tuple[int, int], stride: tuple[int, int]) -> Box:
    """The smallest crop holding ``box`` on which a TF-"SAME" network computes the same cells.

    Along each axis the crop starts at a multiple of the total stride ``S`` and ends at the
    image's end or at ``size - m S``: its length equals the image's modulo ``S``. A layer
    of stride ``s`` pads "SAME" by ``max((ceil(i/s) - 1) s + k_eff - i, 0)``, a function of
    ``i mod s``; the size reaching it is ``ceil(size / S')`` (``S'`` the strides before it,
    ``S' s`` divides ``S``), the same modulo ``s`` for the crop as for the image. So every
    layer pads the crop as it pads the image, cell ``u`` of the crop's map is cell
    ``u + offset / S'`` of the image's, and a cell whose field (clipped to the image) lies in
    the crop reads the same values in both: its input gradient on the crop is the image's,
    restricted to the crop (and zero outside its field on both).

    Parameters
    ----------
    box : Box
        Pixels the crop must hold (e.g. the union of the seeded cells' clipped fields).
    image_size : (int, int)
        ``(H, W)``.
    stride : (int, int)
        Total stride ``S`` of the network up to the map (``FieldInfo.stride``).

    Returns
    -------
    Box
        The crop, inside the image; the whole image when nothing smaller will do.

    Examples
    --------
    A 147 px field at stride 16 in a 1224 x 1632 photo (1224 = 76 * 16 + 8):

    >>> aligned_crop(Box(500, 700, 647, 847), (1224, 1632), (16, 16))
    Box(top=496, left=688, bottom=648, right=848)
    >>> aligned_crop(Box(0, -40, 99, 60), (100, 100), (16, 16))
    Box(top=0, left=0, bottom=100, right=68)
    """
    box = box.clip(*image_size)
    spans = []
    for lo, hi, size, step in zip((box.top, box.left), (box.bottom, box.right), image_size,
                                  stride, strict=True):
        hi = max(hi, lo + 1)
        spans.append(((lo // step) * step, min(size, hi + (size - hi) % step)))
    (top, bottom), (left, right) = spans
    return Box(top, left, bottom, right)


def _theoretical(name: str, seed: np.ndarray, field: FieldInfo,
                 image_size: tuple[int, int]) -> Box:
    """Union of the fields of the seed's non-zero cells (the whole image for image pool)."""
    if name == "image pool":
        return Box(0, 0, *image_size)
    rows, cols = np.nonzero(seed)
    return field.block_box((int(rows.min()), int(rows.max()) + 1),
                           (int(cols.min()), int(cols.max()) + 1), image_size=image_size)


def _forward_and_field(model: nn.Module, tap: str, x: Tensor
                       ) -> tuple[Callable[[Tensor], Tensor], FieldInfo, tuple[int, int]]:
    """The feature extractor to differentiate, the field of its cells and the map size."""
    if isinstance(model, EfficientNetLite0):
        info = tap_info(model, tap, tuple(x.shape[-2:]))
        return (lambda inp: model.features(inp, (tap,))[tap]), info.field, info.feature_size
    with torch.no_grad():
        feature_size = tuple(model(x[:1]).shape[-2:])
    fields = receptive_field(layers_of(model, (1, *x.shape[1:])))
    return model, fields[-1] if fields else FieldInfo((1, 1), (1, 1), (0, 0)), feature_size


def _as_input(model: nn.Module, image: object) -> Tensor:
    """Network input on the model's device: tensors as given, images via ``preprocess``."""
    if isinstance(image, Tensor):
        if image.ndim != 4 or image.shape[0] < 1:
            raise ValueError(f"image tensor must have shape (N, C, H, W), got {tuple(image.shape)}")
        x = image.float()
    else:
        x = preprocess(image)
    param = next(model.parameters(), None)
    return x if param is None else x.to(param.device)


def effective_receptive_field(
    model: nn.Module, image: object, *, tap: str = "stage7",
    point: tuple[int, int] | None = None, rates: Sequence[int] | None = None, kernel: int = 3,
    crop: bool = True,
) -> ERFResult:
    """Effective receptive field of one feature cell, and of ASPP branches centred on it.

    Parameters
    ----------
    model : EfficientNetLite0 or nn.Module
        The backbone (cut at ``tap``), or any module mapping (1, C, H, W) to (1, K, h, w)
        (``tap`` is then ignored and the field traced with ``tracing.layers_of``).
    image : PIL.Image.Image, uint8 np.ndarray or Tensor (1, C, H, W)
        Images go through :func:`preprocessing.preprocess`; a tensor is used as given.
    tap : str
        Backbone tap, see ``backbones.TAPS``.
    point : (int, int), optional
        Feature cell ``(row, col)``; default the centre cell ``(h // 2, w // 2)``.
    rates : sequence of int, optional
        Atrous rates: adds a "rate r" branch per rate and an "image pool" branch.
    kernel : int
        Odd size of the atrous kernels (DeepLab: 3).
    crop : bool
        On an :class:`EfficientNetLite0`, compute every branch but the image pool on the
        :func:`aligned_crop` that holds their fields (the same gradients; ``result.crop``
        says which). Other modules always run on the whole image.

    Returns
    -------
    ERFResult
        ``branches["1x1"]`` is the cell's own ERF. All branches share one forward pass, and
        branches with identical seeds (see :func:`branch_seeds`) one backward and one map.

    Raises
    ------
    ValueError
        For a point outside the map, a bad rate, tap or image.

    Examples
    --------
    >>> conv = nn.Conv2d(1, 1, 3, padding=2, dilation=2, bias=False)
    >>> result = effective_receptive_field(conv, torch.ones(1, 1, 9, 9))
    >>> int((result.backbone.map > 0).sum()), result.backbone.theoretical
    (9, Box(top=2, left=2, bottom=7, right=7))

    References
    ----------
    Luo et al., NeurIPS 2016, Sec. 2 ("the gradient signal ... set to 1 at the centre").
    """
    return _erf(model, _as_input(model, image), tap, point, rates, kernel, crop=crop)


def _disjoint(a: Box, b: Box) -> bool:
    return (a.bottom <= b.top or b.bottom <= a.top or a.right <= b.left or b.right <= a.left)


def _atoms(seed: np.ndarray, field: FieldInfo, image_size: tuple[int, int]
           ) -> list[tuple[np.ndarray, Box, float]]:
    """Split a seed into parts whose input gradients can be added after taking ``|.|``.

    When the fields of the seed's cells are pairwise disjoint, so are the supports of their
    input gradients, and ``|d <seed, y> / dx| = sum_cell seed[cell] * |d y[cell] / dx|``
    exactly. Each part is ``(unit seed, its field box, weight)``; a seed whose cells' fields
    overlap (or one whose field is the whole image) stays one part of weight 1.
    """
    cells = np.argwhere(seed)
    boxes = [field.cell_box(int(r), int(c), image_size=image_size) for r, c in cells]
    apart = not field.global_ and all(
        _disjoint(boxes[i], boxes[j]) for i in range(len(boxes)) for j in range(i))
    if len(cells) == 1 or not apart:
        rows, cols = cells[:, 0], cells[:, 1]
        box = (Box(0, 0, *image_size) if field.global_ else field.block_box(
            (int(rows.min()), int(rows.max()) + 1), (int(cols.min()), int(cols.max()) + 1),
            image_size=image_size))
        return [(seed, box, 1.0)]
    parts = []
    for (r, c), box in zip(cells, boxes, strict=True):
        unit = np.zeros_like(seed)
        unit[r, c] = 1.0
        parts.append((unit, box, float(seed[r, c])))
    return parts


def packed_seeds(seeds: dict[str, np.ndarray], field: FieldInfo, image_size: tuple[int, int]
                 ) -> tuple[np.ndarray, dict[str, list[tuple[int, Box, float]]]]:
    """Fewer backward passes for the same ERFs: parts with disjoint fields share one pass.

    Every seed is split into parts (see :func:`_atoms`); parts whose field boxes are pairwise
    disjoint are summed into one pass seed. The input gradient of a part is then the pass's
    gradient inside the part's box, and zero outside it, so nothing is approximated: a pixel
    outside a unit's theoretical field gets no gradient from it.

    Parameters
    ----------
    seeds : dict of str to np.ndarray, each shape (h, w)
        As from :func:`branch_seeds`.
    field : FieldInfo
        Field of the feature cells the seeds sit on.
    image_size : (int, int)
        ``(H, W)`` of the input.

    Returns
    -------
    passes : np.ndarray, shape (P, h, w)
        One seed per backward pass.
    recipe : dict of str to list of (int, Box, float)
        Per branch, its parts: ``(pass index, box, weight)``; the branch's gradient
        magnitude is ``sum weight * |grad[pass]|`` inside each box.

    Examples
    --------
    At stage4 of a 512 x 512 photo (147 px field, 16 px jump) the eight outer taps of rate 12
    lie 192 px from the centre, clear of its field, so "1x1" and "rate 12" share a pass:

    >>> field = FieldInfo(size=(147, 147), stride=(16, 16), padding=(58, 58))
    >>> seeds = branch_seeds((32, 32), (16, 16), rates=(6, 12, 18))
    >>> passes, recipe = packed_seeds(seeds, field, (512, 512))
    >>> len(seeds), len(passes), len(recipe["rate 12"])
    (5, 3, 9)
    """
    parts: dict[bytes, tuple[np.ndarray, Box]] = {}
    uses: dict[str, list[tuple[bytes, Box, float]]] = {}
    for name, seed in seeds.items():
        uses[name] = []
        for unit, box, weight in _atoms(seed, field, image_size):
            parts.setdefault(unit.tobytes(), (unit, box))
            uses[name].append((unit.tobytes(), box, weight))
    passes: list[list[bytes]] = []
    where: dict[bytes, int] = {}
    order = sorted(parts, key=lambda k: -parts[k][1].height * parts[k][1].width)
    for key in order:  # largest boxes first: the whole-image parts take passes of their own
        box = parts[key][1]
        for index, members in enumerate(passes):
            if all(_disjoint(box, parts[other][1]) for other in members):
                members.append(key)
                where[key] = index
                break
        else:
            where[key] = len(passes)
            passes.append([key])
    stacked = np.stack([sum(parts[key][0] for key in members) for members in passes])
    recipe = {name: [(where[key], box, weight) for key, box, weight in used]
              for name, used in uses.items()}
    return stacked.astype(np.float32), recipe


def _erf(model: nn.Module, x: Tensor, tap: str, point: tuple[int, int] | None,
         rates: Sequence[int] | None, kernel: int, *, pool: np.ndarray | None = None,
         crop: bool = True) -> ERFResult:
    forward, field, feature_size = _forward_and_field(model, tap, x)
    point = (feature_size[0] // 2, feature_size[1] // 2) if point is None else tuple(point)
    seeds = branch_seeds(feature_size, point, tuple(rates or ()), kernel=kernel)
    image_size, center = tuple(x.shape[-2:]), field.center(*point)
    local = {name: seed for name, seed in seeds.items() if name != "image pool"}
    passes, recipe = packed_seeds(local, field, image_size)
    whole = Box(0, 0, *image_size)
    window = whole
    if crop and isinstance(model, EfficientNetLite0):  # TF "SAME" all the way (aligned_crop)
        boxes = [box for parts in recipe.values() for _, box, _ in parts]
        window = aligned_crop(Box(min(b.top for b in boxes), min(b.left for b in boxes),
                                  max(b.bottom for b in boxes), max(b.right for b in boxes)),
                              image_size, field.stride)
    if "image pool" in seeds and pool is None and _whole_is_cheaper(window, whole, len(passes)):
        window = whole
    if "image pool" in seeds and pool is None and window == whole:  # one forward for all
        grads = _window_gradients(forward, x, np.concatenate(
            [passes, seeds["image pool"][None]]), window, field)
        grads, pool = grads[:-1], grads[-1]
    else:
        grads = _window_gradients(forward, x, passes, window, field)
    if "image pool" in seeds:
        pool = _pool_gradient(forward, x, seeds["image pool"]) if pool is None else pool
        if np.shape(pool) != image_size:
            raise ValueError(f"pool must be an {image_size!r} gradient, got {np.shape(pool)!r}")
    maps: dict[tuple[bytes, Box], ERFMap] = {}
    branches = {}
    for name, seed in seeds.items():
        theoretical = _theoretical(name, seed, field, image_size)
        key = (seed.tobytes(), theoretical)
        if key not in maps:
            if name == "image pool":
                grad = np.asarray(pool, np.float32)
            else:
                grad = np.zeros(image_size, np.float32)
                for index, box, weight in recipe[name]:
                    rows, cols = slice(box.top, box.bottom), slice(box.left, box.right)
                    grad[rows, cols] += np.float32(weight) * grads[index][
                        box.top - window.top:box.bottom - window.top,
                        box.left - window.left:box.right - window.left]
            maps[key] = erf_map(grad, center, theoretical, support=theoretical)
        branches[name] = maps[key]
    return ERFResult(tap, point, image_size, feature_size, field, branches, int(x.shape[0]),
                     window, pool)


def _whole_is_cheaper(window: Box, whole: Box, passes: int) -> bool:
    """Whether the whole photo, the image pool sharing its forward pass, costs less than the
    crop plus a pass of its own for the pool: ``A_crop (1 + P) >= A P`` with a backward
    costing about a forward (both give the same gradients; this only picks the cheaper)."""
    crop, area = window.height * window.width, whole.height * whole.width
    return crop * (1 + passes) >= area * passes


def _window_gradients(forward: Callable[[Tensor], Tensor], x: Tensor, passes: np.ndarray,
                      window: Box, field: FieldInfo) -> np.ndarray:
    """:func:`input_gradients` of the pass seeds on the ``window`` crop of ``x``: (P, h, w).

    The seeds are cut to the crop's cells (``window`` from :func:`aligned_crop`, or the
    whole image); every seeded cell lies among them, as its field lies in the crop.
    """
    (sh, sw), (top, left) = field.stride, (window.top // field.stride[0],
                                           window.left // field.stride[1])
    rows, cols = -(-window.height // sh), -(-window.width // sw)
    cut = passes[:, top:top + rows, left:left + cols]
    if top * sh != window.top or left * sw != window.left or cut.sum() != passes.sum():
        raise AssertionError(f"crop {window} does not hold every seeded cell")  # a bug
    part = x[..., window.top:window.bottom, window.left:window.right]
    return input_gradients(forward, part, torch.from_numpy(np.ascontiguousarray(cut))
                           ).float().cpu().numpy()


def _pool_gradient(forward: Callable[[Tensor], Tensor], x: Tensor, seed: np.ndarray
                   ) -> np.ndarray:
    """The image-pool branch's ``|dx|`` on the whole image, averaged over the inputs."""
    return input_gradients(forward, x, torch.from_numpy(seed[None])).float().cpu().numpy()[0]


def image_pool_gradient(model: nn.Module, images: Sequence[np.ndarray], *, tap: str = "stage7"
                        ) -> np.ndarray:
    """The image-pool branch's gradient magnitude, averaged over ``images``: shape (H, W).

    The mean of every cell sees the whole photo, so no crop holds its field; it does not
    depend on the chosen cell either. Compute it once per photo (and inputs, output stride
    and tap), keep it, and pass it as ``pool=`` to
    :func:`averaged_effective_receptive_field` for every cell.

    Examples
    --------
    >>> conv = nn.Conv2d(3, 1, 3, padding=1, bias=False).requires_grad_(False)
    >>> _ = conv.weight.fill_(1.0)
    >>> g = image_pool_gradient(conv, [np.zeros((4, 4, 3), np.uint8)])
    >>> g.shape, float(g[1, 1]) == 9 * 3 / 16  # 9 cells of 16 reach it, 3 channels
    ((4, 4), True)
    """
    x = _stacked(model, images)
    forward, _, feature_size = _forward_and_field(model, tap, x)
    seed = np.full(feature_size, 1.0 / (feature_size[0] * feature_size[1]), np.float32)
    return _pool_gradient(forward, x, seed)


def _stacked(model: nn.Module, images: Sequence[np.ndarray]) -> Tensor:
    if not images or len({np.shape(image) for image in images}) != 1:
        raise ValueError("images must be a non-empty sequence of arrays of one shape")
    return torch.cat([_as_input(model, image) for image in images])


def erf_inputs(photo: np.ndarray, *, samples: bool = True, skip: Sequence[str] = ()
               ) -> list[np.ndarray]:
    """The inputs an averaged ERF uses: the photo, its mirror image and the bundled samples.

    Each sample is centre-cropped to the photo's aspect ratio and resized (bicubic) to its
    size, so all inputs share one size and the cell's geometry. With the five bundled
    samples that is 7 inputs; when the photo is itself a sample, pass its name in ``skip``
    so that it is not counted twice (6 inputs).

    Parameters
    ----------
    photo : np.ndarray of uint8, shape (H, W, 3)
    samples : bool
        Add the bundled samples; False gives the photo and its mirror only.
    skip : sequence of str
        Names of samples (``samples.SAMPLES``) to leave out.

    Returns
    -------
    list of np.ndarray of uint8, each shape (H, W, 3)

    Examples
    --------
    >>> [x.shape for x in erf_inputs(np.zeros((40, 60, 3), np.uint8))][:2]
    [(40, 60, 3), (40, 60, 3)]
    >>> len(erf_inputs(np.zeros((40, 60, 3), np.uint8))) == ERF_INPUTS == 7
    True
    >>> len(erf_inputs(np.zeros((40, 60, 3), np.uint8), skip=["chelsea"]))
    6
    """
    from PIL import Image

    photo = np.asarray(photo)
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"photo must be an (H, W, 3) uint8 array, got {photo.shape}")
    h, w = photo.shape[:2]
    inputs = [photo, np.ascontiguousarray(photo[:, ::-1])]
    unknown = set(skip) - set(SAMPLES)
    if unknown:
        raise ValueError(f"skip names unknown samples: {sorted(unknown)!r}")
    for name in SAMPLES if samples else ():
        if name in skip:
            continue
        sample = load_sample(name)
        sh, sw = sample.shape[:2]
        scale = min(sh / h, sw / w)  # the largest crop of the photo's aspect ratio
        ch, cw = max(1, round(h * scale)), max(1, round(w * scale))
        top, left = (sh - ch) // 2, (sw - cw) // 2
        crop = Image.fromarray(sample[top:top + ch, left:left + cw])
        inputs.append(np.asarray(crop.resize((w, h), Image.Resampling.BICUBIC)))
    return inputs


def averaged_effective_receptive_field(
    model: nn.Module, images: Sequence[np.ndarray], *, tap: str = "stage7",
    point: tuple[int, int] | None = None, rates: Sequence[int] | None = None, kernel: int = 3,
    pool: np.ndarray | None = None, crop: bool = True,
) -> ERFResult:
    """:func:`effective_receptive_field` with ``|d y / d x|`` averaged over several inputs.

    Luo et al. report the ERF as the gradient magnitude averaged over many inputs; one photo
    gives a noisy map (the ReLU gates depend on its content). Each input takes one forward
    pass and one backward per pass seed of :func:`packed_seeds` (3 for the five branches of
    rates 6, 12, 18 at stage4 of a 512 x 512 photo, where the outer taps' fields are apart),
    on the :func:`aligned_crop` holding the branches' fields; the image pool takes one more
    forward and backward on the whole photo, unless ``pool`` brings it (or the crop is the
    whole photo, when it shares the forward pass).

    Parameters
    ----------
    model : EfficientNetLite0 or nn.Module
        In eval mode (batch norm with batch statistics would change the maps).
    images : sequence of uint8 np.ndarray, each shape (H, W, 3)
        One size for all, e.g. :func:`erf_inputs`.
    tap, point, rates, kernel, crop
        As in :func:`effective_receptive_field`.
    pool : np.ndarray, shape (H, W), optional
        :func:`image_pool_gradient` of these ``images`` at this ``tap`` (and the model's
        output stride), kept from an earlier call: then only the crop is computed.

    Returns
    -------
    ERFResult
        ``inputs`` says how many images were averaged.

    References
    ----------
    Luo et al., NeurIPS 2016, Sec. 3 ("averaged over 20 images" in their figures).
    """
    return _erf(model, _stacked(model, images), tap, point, rates, kernel, pool=pool,
                crop=crop)


def common_scale(maps: dict[str, ERFMap]) -> dict[str, np.ndarray]:
    """The branches' maps on one brightness scale: each gradient over the largest peak.

    Every branch seed carries a total output gradient of 1, so on the common scale the
    brightness of two branches compares like their total masses (per-panel scaling, the
    ``map`` attribute, hides that).

    Examples
    --------
    >>> a = erf_map(np.array([[0, 2.0]]), (0.0, 1.0), Box(0, 0, 1, 2))
    >>> b = erf_map(np.array([[1.0, 1.0]]), (0.0, 1.0), Box(0, 0, 1, 2))
    >>> {k: v.tolist() for k, v in common_scale({"a": a, "b": b}).items()}
    {'a': [[0.0, 1.0]], 'b': [[0.5, 0.5]]}
    """
    top = max((m.peak for m in maps.values()), default=0.0)
    return {name: (m.map * (m.peak / top) if top > 0 else m.map).astype(np.float32)
            for name, m in maps.items()}


def mass_within(grad: np.ndarray, center: tuple[float, float],
                radii: Sequence[float]) -> np.ndarray:
    """Fraction of the map's total mass within each radius of ``center`` (a radial profile).

    Parameters
    ----------
    grad : np.ndarray, shape (H, W), non-negative
    center : (float, float)
        ``(y, x)`` in pixels.
    radii : sequence of float

    Returns
    -------
    np.ndarray of float, shape (len(radii),)
        Non-decreasing in the radius, from 0 to 1 (all zeros for an all-zero map).

    Examples
    --------
    >>> g = np.zeros((5, 5)); g[2, 2] = 2.0; g[2, 4] = 2.0
    >>> mass_within(g, (2.0, 2.0), [0, 1, 2]).tolist()
    [0.5, 0.5, 1.0]
    """
    grad = np.asarray(grad, np.float64)
    ys, xs = np.indices(grad.shape)
    dist = np.hypot(ys - center[0], xs - center[1]).ravel()
    order = np.argsort(dist, kind="stable")
    cumulative = np.cumsum(grad.ravel()[order])
    total = cumulative[-1] if cumulative.size else 0.0
    if total <= 0:
        return np.zeros(len(radii))
    index = np.searchsorted(dist[order], np.asarray(radii, np.float64), side="right")
    within = np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0.0)
    return within / total


def field_reach(box: Box, center: tuple[float, float]) -> float:
    """Distance from ``center`` to the farthest pixel of ``box``: the radius by which a map
    that lies inside its theoretical field holds all of its mass (``mass_within`` = 1).

    Examples
    --------
    >>> field_reach(Box(0, 0, 5, 5), (2.0, 2.0))
    2.8284271247461903
    """
    dy = max(abs(box.top - center[0]), abs(box.bottom - 1 - center[0]))
    dx = max(abs(box.left - center[1]), abs(box.right - 1 - center[1]))
    return float(np.hypot(dy, dx))

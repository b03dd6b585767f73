"""Validation at the package's public boundaries, with messages that name the bad value."""

from __future__ import annotations

import operator
from collections.abc import Sequence


def positive_int(value: object, what: str) -> int:
    """``value`` as an ``int`` >= 1 (Python, NumPy or 0-d torch integers; never a bool).

    Examples
    --------
    >>> positive_int(3, "rate")
    3
    >>> positive_int(0, "rate")
    Traceback (most recent call last):
    ...
    ValueError: rate must be a positive integer, got 0
    """
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{what} must be a positive integer, got {value!r}") from None
    if number < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return number


def positive_ints(values: Sequence[int], what: str) -> tuple[int, ...]:
    """A non-empty sequence of positive integers as a tuple (a string is refused).

    Examples
    --------
    >>> positive_ints([4, 2, 1], "pyramid levels")
    (4, 2, 1)
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{what} must be a non-empty sequence of positive integers, "
                         f"got {values!r}")
    return tuple(positive_int(v, what) for v in values)


def odd_kernel(kernel: object) -> int:
    """A positive odd kernel size (a kernel needs a centre tap).

    Examples
    --------
    >>> odd_kernel(3)
    3
    """
    kernel = positive_int(kernel, "kernel")
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be odd to have a centre tap, got {kernel!r}")
    return kernel

"""Validation at the package's public boundaries, with messages that name the bad value."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

__all__ = ["CodedError", "odd_kernel", "positive_int", "positive_ints"]


class CodedError(ValueError):
    """The package's one error shape for input a person typed or uploaded.

    ``str(error)`` is an English message for developers; ``code`` (one of the subclass's
    ``CODES``) is what an interface translates, and the keyword ``details`` (the offending
    token, value, item ...) become attributes it may quote. Survives pickling (process
    pools) with its code and details.

    Examples
    --------
    >>> class DemoError(CodedError):
    ...     CODES = ("empty", "range")
    >>> error = DemoError("Type a number.", code="empty", value=None)
    >>> error.code, error.value, isinstance(error, ValueError)
    ('empty', None, True)
    >>> DemoError("?", code="nope")
    Traceback (most recent call last):
    ...
    ValueError: DemoError code must be one of ('empty', 'range'), got 'nope'
    """

    CODES: tuple[str, ...] = ()

    def __init__(self, message: str, *, code: str, **details: object) -> None:
        if self.CODES and code not in self.CODES:
            raise ValueError(f"{type(self).__name__} code must be one of {self.CODES}, "
                             f"got {code!r}")
        super().__init__(message)
        self.code, self.details = code, details
        for name, value in details.items():
            setattr(self, name, value)

    def __reduce__(self):
        return functools.partial(CodedError._rebuild, type(self)), (
            str(self), self.code, self.details)

    @staticmethod
    def _rebuild(cls, message, code, details):
        error = cls.__new__(cls)
        CodedError.__init__(error, message, code=code, **details)
        return error


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

"""Validation at the package's public boundaries, with messages that name the bad value."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Sequence

__all__ = ["CodedError", "IntListError", "odd_kernel", "parse_int_list", "positive_int",
           "positive_ints"]


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


class IntListError(CodedError):
    """Unusable typed list of whole numbers: ``code`` is ``"empty"``, ``"count"`` (too few
    or too many), ``"number"`` (a token that is not a whole number), ``"range"`` or
    ``"repeat"``; ``value`` is the offending token, number or count."""

    CODES = ("empty", "count", "number", "range", "repeat")


_INT_SPLIT = re.compile(r"[\s,;]+")
_INT_TOKEN = re.compile(r"[+-]?[0-9]{1,6}")


def parse_int_list(text: str, *, what: str, low: int, high: int, min_count: int = 1,
                   max_count: int, distinct: bool = True) -> tuple[int, ...]:
    """Whole numbers typed by a person, e.g. ``"6, 12, 18"`` or ``"4 2 1"``, in typed order.

    The one parser behind ``bins.parse_levels`` and ``aspp.parse_rates``: tokens are
    separated by commas, semicolons or white space; each must be an ASCII whole number of at
    most six digits (an optional sign, so ``-1`` is out of range rather than not a number).

    Parameters
    ----------
    text : str
    what : str
        Name of one item in the messages, e.g. ``"level"``.
    low, high : int
        Inclusive range of each number.
    min_count, max_count : int
        How many numbers may be typed.
    distinct : bool
        Refuse a number typed twice.

    Raises
    ------
    IntListError
        The first problem found, in the order of ``IntListError.CODES``.

    Examples
    --------
    >>> parse_int_list("6, 12;18", what="rate", low=1, high=128, max_count=6)
    (6, 12, 18)
    >>> try:
    ...     parse_int_list("4 2 4", what="level", low=1, high=32, max_count=8)
    ... except IntListError as error:
    ...     print(error.code, error.value)
    repeat 4
    """
    tokens = [token for token in _INT_SPLIT.split(str(text).strip()) if token]
    if not tokens:
        raise IntListError(f"Type at least one {what}, got {text!r}.", code="empty", value=None)
    if not min_count <= len(tokens) <= max_count:
        raise IntListError(f"Type at least {min_count} and at most {max_count} {what}s, got "
                           f"{len(tokens)}: {text!r}.", code="count", value=len(tokens))
    numbers: list[int] = []
    for token in tokens:
        if not _INT_TOKEN.fullmatch(token):
            raise IntListError(f"Each {what} must be a whole number, got {token!r} in "
                               f"{text!r}.", code="number", value=token)
        number = int(token)
        if not low <= number <= high:
            raise IntListError(f"Each {what} must be between {low} and {high}, got {number} in "
                               f"{text!r}.", code="range", value=number)
        if distinct and number in numbers:
            raise IntListError(f"Each {what} may appear only once, got {number} twice in "
                               f"{text!r}.", code="repeat", value=number)
        numbers.append(number)
    return tuple(numbers)

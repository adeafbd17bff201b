"""One validator for the typed dataclass configs (training and model): the fields' type hints drive the check of
values read from YAML or ``--set``, and a failure is a one-line :class:`UserError` with the key's dotted name.

    steps: AtLeast1 = 3000              # an int >= 1
    lr: Annotated[float, Range(0, low_inclusive=False)] = 4e-4
    flow_method: Literal["dis", "farneback"] = "dis"
    vgg_weights: str | None = None

A number without a :class:`Range` must be finite and >= 0 (every number of a config is a count, a size, a weight, a
rate or a seed). An int field takes an integral float (``3.0e3``); a float field takes an int; nothing else is
converted (``"three"`` is not a number, ``1`` is not a bool).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from fsvid2vid.errors import UserError


@dataclass(frozen=True)
class Range:
    """Bounds of a number field (``None``: unbounded on that side)."""

    low: float | None = 0
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def holds(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
            return False
        return not (self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive)))

    def describe(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>=' if self.low_inclusive else '>'} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<=' if self.high_inclusive else '<'} {self.high:g}")
        return " and ".join(parts)


AtLeast1 = Annotated[int, Range(1)]
Positive = Annotated[float, Range(0, low_inclusive=False)]
_DEFAULT_RANGE = Range()


class _Invalid(Exception):
    """A value that does not fit its type (the message says what was expected)."""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def convert(value: Any, hint: Any) -> Any:
    """``value`` checked against the type ``hint`` (and converted: int -> float, integral float -> int); raises
    :class:`_Invalid` saying what was expected."""
    rng = _DEFAULT_RANGE
    if typing.get_origin(hint) is Annotated:
        hint, *extras = typing.get_args(hint)
        rng = next((e for e in extras if isinstance(e, Range)), rng)
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        expected = []
        for option in options:
            if option is type(None):
                continue
            try:
                return convert(value, option)
            except _Invalid as exc:
                expected.append(str(exc))
        raise _Invalid(" or ".join(expected + (["null"] if type(None) in options else [])))
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise _Invalid("one of " + ", ".join(repr(c) for c in choices))
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise _Invalid("true or false")
        return value
    if hint is int or hint is float:
        what = f"{'an integer' if hint is int else 'a number'}{' ' + rng.describe() if rng.describe() else ''}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid(what)
        if not math.isfinite(value):
            raise _Invalid(what)
        if hint is int:
            if isinstance(value, float) and not value.is_integer():
                raise _Invalid(what)
            value = int(value)
        else:
            value = float(value)
        if not rng.holds(value):
            raise _Invalid(what)
        return value
    if hint is str:
        if not isinstance(value, str):
            raise _Invalid("a string")
        return value
    if hint is Any:
        return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(value, dict):  # a nested section given as a mapping (YAML): build it, every field checked
            unknown = sorted(set(value) - {f.name for f in dataclasses.fields(hint)})
            if unknown:
                raise _Invalid(f"a mapping of {hint.__name__} fields (unknown: {', '.join(map(str, unknown))})")
            try:
                return hint(**checked_values(hint, value))
            except UserError as exc:
                raise _Invalid(f"a mapping of {hint.__name__} fields ({exc})") from None
        if not isinstance(value, hint):
            raise _Invalid(f"a mapping of {hint.__name__} fields")
        check_instance(value)
        return value
    return value  # a type this validator does not know (tuples, dicts): left to the code that uses it


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def check_keys(cls: type, values: dict[str, Any], where: str) -> None:
    """One-line error naming unknown keys of ``values`` for the dataclass ``cls``."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")


def checked_values(cls: type, values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``values`` (a subset of ``cls``'s fields) checked and converted against the field types; a one-line error
    names the first bad key as ``prefix`` + name (e.g. ``schedule.steps``)."""
    hints = _hints(cls)
    out = {}
    for name, value in values.items():
        hint = hints.get(name, Any)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
            out[name] = value  # a nested section: the caller builds it
            continue
        try:
            out[name] = convert(value, hint)
        except _Invalid as exc:
            raise UserError(f"{prefix}{name} must be {exc}, got {_show(value)}") from None
    return out


def build(cls: type, values: dict[str, Any], where: str, prefix: str = "", **extra: Any) -> Any:
    """An instance of the dataclass ``cls`` from ``values`` (unknown keys and bad values are one-line errors)."""
    check_keys(cls, values, where)
    try:
        return cls(**checked_values(cls, values, prefix), **extra)
    except UserError as exc:
        message = str(exc)
        raise UserError(message if message.startswith(where) else f"{where}: {message}") from None


def check_instance(obj: Any, prefix: str = "") -> None:
    """Check (and convert in place) every field of a dataclass instance, nested ones included."""
    for name, hint in _hints(type(obj)).items():
        if name not in {f.name for f in dataclasses.fields(obj)}:
            continue
        value = getattr(obj, name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_instance(value, f"{prefix}{name}.")
            continue
        try:
            converted = convert(value, hint)
        except _Invalid as exc:
            raise UserError(f"{prefix}{name} must be {exc}, got {_show(value)}") from None
        if converted is not value:
            object.__setattr__(obj, name, converted)

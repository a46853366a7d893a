"""Lambda's event filtering (FilterCriteria) for the event source mappings run locally.

A pattern names fields of the event record; a field's rule is a nested pattern, or a list of what
its value may be: plain values, or one-operator objects (prefix, suffix, anything-but,
equals-ignore-case, numeric, exists). A record passes a pattern when every named field matches, and
a mapping's filters when any pattern passes (or there are none). A pattern using anything else is
refused when the stack starts rather than silently letting records through.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_OPERATORS = frozenset({"prefix", "suffix", "anything-but", "equals-ignore-case", "numeric", "exists"})
_MISSING = object()

Pattern = Mapping[str, Any]


class FilterPatternError(ValueError):
    pass


def parse_pattern(text: str) -> Pattern:
    """A FilterCriteria pattern from its JSON text, checked to use only what is implemented here."""
    try:
        pattern = json.loads(text)
    except ValueError as exc:
        raise FilterPatternError(f"not JSON: {text!r}") from exc
    _check_pattern(pattern, path="")
    return pattern


def passes(patterns: Sequence[Pattern], record: Mapping[str, Any]) -> bool:
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Pattern, event: Any) -> bool:
    for key, rule in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(rule, Mapping):
            if not matches(rule, value):
                return False
        elif not any(_rule_matches(entry, value) for entry in rule):
            return False
    return True


def _rule_matches(rule: Any, value: Any) -> bool:
    if isinstance(rule, Mapping):
        ((name, argument),) = rule.items()
        if name == "exists":
            return (value is not _MISSING) == argument
        if value is _MISSING:
            return False
        values = value if isinstance(value, list) else [value]
        return any(_operator_matches(name, argument, v) for v in values)
    if value is _MISSING:
        return False
    values = value if isinstance(value, list) else [value]
    return any(_same(rule, v) for v in values)


def _operator_matches(name: str, argument: Any, value: Any) -> bool:
    if name == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if name == "suffix":
        return isinstance(value, str) and value.endswith(argument)
    if name == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == str(argument).casefold()
    if name == "anything-but":
        if isinstance(argument, Mapping):
            return not _rule_matches(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_same(e, value) for e in excluded)
    if name == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        pairs = zip(argument[::2], argument[1::2], strict=True)
        return all(_NUMERIC[op](value, bound) for op, bound in pairs)
    raise FilterPatternError(f"operator {name!r} is not implemented")


def _same(expected: Any, value: Any) -> bool:
    # JSON's true is not 1: compare booleans only with booleans.
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    return expected == value


def _check_pattern(pattern: Any, path: str) -> None:
    if not isinstance(pattern, Mapping) or not pattern:
        raise FilterPatternError(f"{path or 'the pattern'} must be a non-empty object")
    for key, rule in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(rule, Mapping):
            _check_pattern(rule, where)
        elif isinstance(rule, list) and rule:
            for entry in rule:
                _check_entry(entry, where)
        else:
            raise FilterPatternError(f"{where}: a rule is an object or a non-empty list")


def _check_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, Mapping):
        if isinstance(entry, list):
            raise FilterPatternError(f"{where}: lists do not nest")
        return
    if len(entry) != 1 or next(iter(entry)) not in _OPERATORS:
        raise FilterPatternError(f"{where}: {json.dumps(entry)} is not an operator this runtime implements")
    ((name, argument),) = entry.items()
    if name == "exists" and not isinstance(argument, bool):
        raise FilterPatternError(f"{where}: exists takes true or false")
    if name in ("prefix", "suffix", "equals-ignore-case") and not isinstance(argument, str):
        raise FilterPatternError(f"{where}: {name} takes a string")
    if name == "anything-but" and isinstance(argument, Mapping):
        _check_entry(argument, where)
    if name == "numeric" and (
        not isinstance(argument, list) or len(argument) % 2 or any(op not in _NUMERIC for op in argument[::2])
    ):
        raise FilterPatternError(f"{where}: numeric takes [operator, number, ...]")
